"""Operating the service: log lines with request and job ids, `/metrics`, Celery task events,
API keys with rotation, and the refusal to listen beyond loopback without a key. The API runs
as `python -m app.server` or in process, the workers as real Celery processes."""

from __future__ import annotations

import json
import math
import os
import pty
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from service_harness import REPO, TINY_TRAIN, Service, free_port, settings_env

from app.main import create_app
from app.server import OpenBindRefused, check_bind, is_loopback
from jobcore.broker import make_celery
from jobcore.dispatch import TASK_GENERATE
from jobcore.settings import Settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: Any, **headers: str) -> Samples:
    """Every sample `/metrics` serves, read with Prometheus' own text parser."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON log records in a process's output (Celery prints its banner as plain text)."""
    records = []
    for line in text.splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


# -- logs -----------------------------------------------------------------------------------
def _start_server(env: dict[str, str], log_path: Path, host: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [sys.executable, "-m", "app.server", "--host", host, "--port", str(port)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    return process, port


def _wait_up(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"API not up:\n{log_path.read_text()[-3000:]}")


def test_a_public_bind_with_rotation_keys_logs_json_with_request_ids(tmp_path: Path) -> None:
    env = settings_env({"data_dir": tmp_path / "data", "reaper_interval_s": 0})
    env |= {"STICKGEN_API_KEY": "", "STICKGEN_API_KEYS": "new-key, old-key"}
    log_path = tmp_path / "api.log"
    process, port = _start_server(env, log_path, "0.0.0.0")  # keys: allowed
    try:
        _wait_up(process, port, log_path)
        url = f"http://127.0.0.1:{port}/v1/jobs"
        given = "trace-42.a:b"
        for key in ("new-key", "old-key"):  # both keys of a rotation work
            answer = httpx.get(url, headers={"X-API-Key": key, "X-Request-ID": given})
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-request-id"] == given
        assert httpx.get(url, headers={"X-API-Key": "older-key"}).status_code == 401
        insane = httpx.get(url, headers={"X-API-Key": "new-key", "X-Request-ID": "a b\tc"})
        made = insane.headers["x-request-id"]
        assert made != "a b\tc" and len(made) == 32  # a fresh id instead of the client's
        time.sleep(0.5)  # the access lines are written after the answers
    finally:
        process.terminate()
        process.wait(timeout=30)
    output = log_path.read_text()
    records = json_lines(output)
    assert len(records) == len(output.splitlines())  # not a terminal: every line is JSON
    mine = [r for r in records if r.get("request_id") == given]
    assert len(mine) >= 2 and all(r["logger"] == "uvicorn.access" for r in mine), mine
    assert all("GET /v1/jobs" in r["message"] for r in mine)
    assert {"time", "level", "logger", "message"} <= set(mine[0])
    fresh = [r for r in records if r.get("request_id") == made]
    assert [r["logger"] for r in fresh] == ["uvicorn.access"], fresh
    (replaced,) = [r for r in records if r["logger"] == "asgi_correlation_id"]
    assert replaced["level"] == "WARNING" and made in replaced["message"]


def test_logs_are_readable_text_on_a_terminal() -> None:
    code = (
        "import logging\n"
        "from jobcore import logs\n"
        "logs.configure()\n"
        "with logs.job_context('job123'):\n"
        "    logging.getLogger('demo').warning('hello %s', 'there')\n"
    )
    leader, follower = pty.openpty()
    try:
        subprocess.run([sys.executable, "-c", code], cwd=REPO, stderr=follower, check=True)
        os.close(follower)
        text = os.read(leader, 4096).decode()
    finally:
        os.close(leader)
    assert not text.startswith("{")
    assert "WARNING demo [job_id=job123]: hello there" in text


def test_alembic_logs_the_service_way(tmp_path: Path) -> None:
    env = {**os.environ, **settings_env({"data_dir": tmp_path / "data"})}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    records = json_lines(done.stderr)  # alembic.ini's fileConfig would have written text
    assert records and len(records) == len(done.stderr.splitlines())
    assert any(r["logger"] == "alembic.runtime.migration" for r in records)


# -- keys and binds -------------------------------------------------------------------------
def test_the_api_refuses_a_public_bind_without_a_key(tmp_path: Path) -> None:
    env = settings_env({"data_dir": tmp_path / "data"})
    env |= {"STICKGEN_API_KEY": "", "STICKGEN_API_KEYS": ""}
    log_path = tmp_path / "api.log"
    process, _ = _start_server(env, log_path, "0.0.0.0")
    assert process.wait(timeout=60) == 2
    (record,) = json_lines(log_path.read_text())
    assert record["level"] == "CRITICAL"
    assert "refusing to listen on 0.0.0.0" in record["message"]
    assert "STICKGEN_API_KEY" in record["message"]


def test_bind_rules(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for host in ("127.0.0.1", "::1", "localhost", "127.3.4.5"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "10.1.2.3", "no-such-host.invalid"):
        assert not is_loopback(host), host
    open_settings = Settings(data_dir=tmp_path)
    check_bind("127.0.0.1", open_settings)  # loopback needs no key
    with pytest.raises(OpenBindRefused):
        check_bind("0.0.0.0", open_settings)
    check_bind("0.0.0.0", Settings(data_dir=tmp_path, api_keys="k"))
    with caplog.at_level("WARNING", logger="app.server"):
        check_bind("::", Settings(data_dir=tmp_path, allow_public_without_key=True))
    (warning,) = caplog.records
    assert warning.levelname == "WARNING" and "INSECURE" in warning.getMessage()


def test_rotation_keys_and_metrics_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STICKGEN_API_KEY", "first")
    monkeypatch.setenv("STICKGEN_API_KEYS", " second ,, third ")
    settings = Settings(data_dir=tmp_path, reaper_interval_s=0)
    assert settings.accepted_keys == (b"first", b"second", b"third")
    with TestClient(create_app(settings)) as client:
        for key in ("first", "second", "third"):
            assert client.get("/v1/jobs", headers={"X-API-Key": key}).status_code == 200
        for key in ("fourth", "second ", "Second", "first,second"):
            refused = client.get("/v1/jobs", headers={"X-API-Key": key, "X-Request-ID": key[:3]})
            assert refused.status_code == 401
            assert refused.headers["x-request-id"] == key[:3]  # refused answers carry it too
        assert client.get("/metrics").status_code == 401  # /metrics needs a key too
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        scrape(client, Authorization="Bearer third")  # what Prometheus' `authorization` sends
        scrape(client, **{"X-API-Key": "first"})
        assert client.get("/healthz").status_code == 200  # health checks need none


# -- metrics ----------------------------------------------------------------------------------
def test_metrics_serve_the_named_series(client: TestClient) -> None:
    before = scrape(client)
    assert value(before, "stickgen_database_up") == 1
    assert value(before, "stickgen_jobs", kind="generate", status="queued") == 0

    job = client.post("/v1/jobs", json={"kind": "generate", "params": {"num_base": 8}})
    assert job.status_code == 202  # no worker here: it stays queued
    body = {"prompt": "a person waves", "duration": 1.0, "format": "json"}
    assert client.post("/v1/animate", json=body).headers["x-stickgen-engine"] == "procedural"

    after = scrape(client)
    names = {name for name, _ in after}
    assert {"http_requests_total", "http_request_duration_seconds_count"} <= names
    assert value(after, "stickgen_jobs", kind="generate", status="queued") == 1  # queue depth
    assert value(after, "stickgen_animate_seconds_count", engine="procedural") == 1
    assert value(after, "stickgen_animate_seconds_sum", engine="procedural") > 0
    posted = {"handler": "/v1/jobs", "method": "POST", "status": "2xx"}
    assert value(after, "http_requests_total", **posted) == 1


def _train_step(service: Service, pipeline_id: str) -> dict[str, Any] | None:
    steps = service.client.get("/v1/jobs", params={"parent_id": pipeline_id}).json()["items"]
    return next((step for step in steps if step["kind"] == "train"), None)


def test_job_series_move_while_a_pipeline_runs(service: Service) -> None:
    before = scrape(service.client)
    params = {"generate": {"num_base": 40, "seed": 4}, "train": {**TINY_TRAIN, "epochs": 200}}
    pipeline = service.create("pipeline", params)
    # while it trains, its last loss is a series of its own
    deadline = time.monotonic() + 240
    loss = None
    while loss is None:
        assert time.monotonic() < deadline, service.worker.log_tail()
        train = _train_step(service, pipeline["id"])
        if train is not None and train["status"] == "running":
            during = scrape(service.client)
            loss = during.get(("stickgen_train_loss", (("job_id", train["id"]),)))
            assert value(during, "stickgen_jobs", kind="train", status="running") >= 1
        time.sleep(0.2)
    assert math.isfinite(loss) and loss > 0
    assert service.client.post(f"/v1/jobs/{pipeline['id']}/cancel").status_code == 202
    ended = service.wait(pipeline["id"], timeout_s=60)
    assert ended["status"] == "cancelled", ended

    after = scrape(service.client)
    done = {"kind": "generate", "status": "succeeded"}
    assert value(after, "stickgen_jobs", **done) == value(before, "stickgen_jobs", **done) + 1
    runs = "stickgen_job_duration_seconds_count"
    assert value(after, runs, **done) == value(before, runs, **done) + 1
    took = "stickgen_job_duration_seconds_sum"
    assert value(after, took, **done) > value(before, took, **done)
    stopped = {"kind": "pipeline", "status": "cancelled"}
    assert value(after, runs, **stopped) == value(before, runs, **stopped) + 1
    assert ("stickgen_train_loss", (("job_id", train["id"]),)) not in after  # ended

    # a run's lines carry its job's id: each step's "claimed" line names the job it carries
    steps = service.client.get("/v1/jobs", params={"parent_id": pipeline["id"]}).json()["items"]
    claims = [r for r in json_lines(service.worker.log_text()) if " claimed" in r["message"]]
    for step in (step for step in steps if step["started_at"] is not None):
        (claim,) = [r for r in claims if r["message"].startswith(f"job {step['id']} ")]
        assert claim["job_id"] == step["id"] and claim["logger"] == "worker.runner"


# -- task events --------------------------------------------------------------------------------
def test_a_real_worker_emits_task_events(service: Service) -> None:
    """The events Flower reads: task-sent from the API, received/started/succeeded from the
    worker, caught by Celery's own event receiver on the real broker."""
    if not service.settings.broker.startswith("redis://"):
        pytest.skip("the embedded broker: Flower is for the compose deployment (Redis)")
    celery = make_celery(service.settings)
    events: list[dict[str, Any]] = []
    ready = threading.Event()

    class Receiver(celery.events.Receiver):  # type: ignore[name-defined, misc]
        def on_consume_ready(self, *args: Any, **kwargs: Any) -> None:
            super().on_consume_ready(*args, **kwargs)
            ready.set()

    with celery.connection_for_read() as connection:
        receiver = Receiver(connection, handlers={"*": events.append}, app=celery)
        thread = threading.Thread(target=receiver.capture, kwargs={"wakeup": False}, daemon=True)
        thread.start()
        assert ready.wait(30)
        job = service.create("generate", {"num_base": 8, "augment": False, "seed": 2})
        assert service.wait(job["id"])["status"] == "succeeded"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            tasks = {e["uuid"] for e in events if job["id"] in str(e.get("args", ""))}
            types = {e["type"] for e in events if e.get("uuid") in tasks}
            if {"task-sent", "task-received", "task-started", "task-succeeded"} <= types:
                break
            time.sleep(0.1)
        receiver.should_stop = True
        thread.join(10)
    assert {"task-sent", "task-received", "task-started", "task-succeeded"} <= types, events
    received = next(e for e in events if e["type"] == "task-received" and e["uuid"] in tasks)
    assert received["name"] == TASK_GENERATE and received["hostname"].startswith("test-")
