"""Fault injection on the API, the app under uvicorn in its own process (what `python -m
app.server` runs, less its bind check and log set-up) on real Postgres and Redis, each behind a
loopback TCP proxy that can hang or drop the link (`faultproxy`): bounded answers while a
dependency hangs, 503 with `Retry-After` while one is down, limits applied before any work,
rendering memory bounded."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from faultproxy import FaultProxy
from service_harness import (
    ApiProcess,
    memory_mb,
    proxied_services,
    settings_env,
)
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.main import create_app
from jobcore import flow, jobs
from jobcore.db import make_engine, session_scope, upgrade_to_head
from jobcore.dispatch import Dispatcher
from jobcore.models import Job, JobKind, JobStatus
from jobcore.public import public_text
from jobcore.settings import Settings

KEY = "faults-key"
GENERATE = {"kind": "generate", "params": {"num_base": 4}}


@dataclass
class Api:
    process: ApiProcess
    db_proxy: FaultProxy
    redis_proxy: FaultProxy
    data_dir: Path
    settings: Settings  # what the API runs with

    def client(
        self, key: str | None = KEY, timeout_s: float = 10.0, connections: int = 10
    ) -> httpx.Client:
        headers = {"X-API-Key": key} if key is not None else {}
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        return httpx.Client(
            base_url=self.process.url, headers=headers, timeout=timeout_s, limits=limits
        )


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with proxied_services("stickgen-faults") as services:
        root = tmp_path_factory.mktemp("faults-api")
        upgrade_to_head(services.direct_url)
        values: dict[str, Any] = {
            **services.settings,
            "data_dir": root / "data",
            "api_key": KEY,
            "auto_migrate": False,
            "reaper_interval_s": 0.5,
            "max_concurrent_renders": 1,
            "render_wait_s": 0.2,
        }
        process = ApiProcess(settings_env(values), root / "api.log")
        try:
            process.start()
            settings = Settings(**values)
            yield Api(process, services.db_proxy, services.redis_proxy, root / "data", settings)
        finally:
            process.kill()


# -- 5. limits before work ---------------------------------------------------------------------
def _raw_post(api: Api, headers: dict[str, str], body_bytes: int, chunked: bool = False) -> tuple[
        int, float]:  # fmt: skip
    """Send a POST of `body_bytes` zero bytes as fast as the server takes them; returns the
    status of the answer and the seconds until it came. The body is made on the fly: the
    client never holds it whole."""
    sock = socket.create_connection(("127.0.0.1", api.process.port), timeout=10)
    head = [
        "POST /v1/jobs HTTP/1.1",
        f"Host: 127.0.0.1:{api.process.port}",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {body_bytes}",
    ]
    head += [f"{name}: {value}" for name, value in headers.items()]
    start = time.monotonic()
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    answer = bytearray()

    def read() -> None:
        while b"\r\n" not in answer:
            try:
                data = sock.recv(4096)
            except OSError:
                return
            if not data:
                return
            answer.extend(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    chunk = bytes(1 << 20)
    sent = 0
    try:
        while sent < body_bytes and reader.is_alive():
            piece = chunk if not chunked else b"%x\r\n" % len(chunk) + chunk + b"\r\n"
            sock.sendall(piece)
            sent += len(chunk)
    except OSError:  # the server closed the connection: it read no more
        pass
    reader.join(10)
    took = time.monotonic() - start
    sock.close()
    return int(answer.split(b" ", 2)[1]), took


def test_a_huge_body_is_refused_before_it_is_read(api: Api) -> None:
    """300 MB without a key: a 401 in under 0.5 s, the API's memory unchanged; with the key but
    over the size limit, declared or not: a 413."""
    before = memory_mb(api.process.pid)
    status, took = _raw_post(api, {}, 300 << 20)
    grown = memory_mb(api.process.pid) - before
    print(f"300 MB body without a key: {status} in {took * 1000:.0f} ms, RSS +{grown:.1f} MB")
    assert status == 401 and took < 0.5 and grown < 50
    status, took = _raw_post(api, {"X-API-Key": KEY}, 300 << 20)
    assert status == 413 and took < 0.5
    status, took = _raw_post(api, {"X-API-Key": KEY}, 8 << 20, chunked=True)
    assert status == 413 and took < 2
    assert memory_mb(api.process.pid) - before < 50


def test_keys_of_any_bytes_are_compared_as_bytes(api: Api) -> None:
    sock = socket.create_connection(("127.0.0.1", api.process.port), timeout=5)
    sock.sendall(b"GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-API-Key: cl\xe9\xff\r\n\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 401")
    sock.close()
    with api.client(key="wrong") as client:
        assert client.get("/v1/jobs").status_code == 401
    with api.client() as client:
        assert client.get("/v1/jobs").status_code == 200


# -- 4. timeouts ---------------------------------------------------------------------------------
def _storm(api: Api, count: int = 45) -> list[tuple[str, int, float, dict[str, str]]]:
    """`count` job POSTs and a few readiness and liveness checks, released together through
    one client with a connection for each; each answer's route, status, seconds and headers.
    (A client per request would time its own set-up: tens of ms of CPU each, which on a slow
    machine is more than the server's share.)"""
    calls = [("POST", "/v1/jobs")] * count + [("GET", "/readyz"), ("GET", "/healthz")] * 5
    released = threading.Barrier(len(calls))

    def call(client: httpx.Client, method: str, path: str) -> tuple[str, int, float, dict]:
        released.wait()
        start = time.monotonic()
        try:
            response = client.request(method, path, json=GENERATE if method == "POST" else None)
            status, headers = response.status_code, dict(response.headers)
            if "problem+json" in response.headers.get("content-type", ""):  # for the summary
                headers["problem"] = response.json().get("type", "?").rsplit("/", 1)[-1]
        except httpx.TimeoutException:
            status, headers = 0, {}
        return path, status, time.monotonic() - start, headers

    with api.client(connections=len(calls)) as client, ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda args: call(client, *args), calls))


def _summary(answers: list[tuple[str, int, float, dict[str, str]]]) -> str:
    seen: dict[tuple[str, int, str], float] = {}
    for path, status, took, headers in answers:
        key = path, status, headers.get("problem", "")
        seen[key] = max(took, seen.get(key, 0.0))
    return ", ".join(
        f"{p} {s}{' ' + w if w else ''}: <= {t:.2f} s" for (p, s, w), t in sorted(seen.items())
    )


def _recovered(api: Api, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    with api.client() as client:
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, client.get("/readyz").text
            time.sleep(0.2)
        assert client.post("/v1/jobs", json=GENERATE).status_code == 202


def test_a_pooled_connection_that_misses_its_ping_is_not_replaced_while_the_database_hangs(
    api: Api,
) -> None:
    """The ping runs out of time (a quarter of the 2 s deadline), so the connect that would
    replace the connection fails at once instead of waiting out its own 2 s; once the database
    answers again, so do connects."""
    engine = make_engine(api.process.env["STICKGEN_DATABASE_URL"], timeout_s=2.0)
    try:
        with engine.connect() as connection:  # one connection in the pool
            assert connection.scalar(text("SELECT 1")) == 1
        with api.db_proxy.hanging():
            start = time.monotonic()
            with pytest.raises(DBAPIError), engine.connect() as connection:
                connection.scalar(text("SELECT 1"))
            took = time.monotonic() - start
        print(f"checkout while the database hangs failed after {took:.2f} s")
        assert took < 1.5
        time.sleep(1.0)  # past the window in which connects fail at once
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()


def test_every_request_answers_within_3_s_while_the_database_hangs(api: Api) -> None:
    with api.db_proxy.hanging():
        answers = _storm(api)
    slowest = max(took for _, _, took, _ in answers)
    print(f"database hanging: slowest of {len(answers)} {slowest:.2f} s ({_summary(answers)})")
    for path, status, took, headers in answers:
        assert took < 3.0, (path, status, took)
        if path == "/healthz":
            assert status == 200
        else:
            assert status == 503 and headers.get("retry-after"), (path, status)
    _recovered(api)


def test_requests_answer_in_bounded_time_while_the_broker_hangs(api: Api) -> None:
    """Jobs are committed and answered (their messages go out with the sweep later), or at
    worst refused with a 503 when the database itself is slow to connect under the storm.
    Every answer comes within 3 s, or on a machine too slow to answer the same storm within
    1 s with the broker answering, within 2 s (two publish deadlines) more than that."""
    healthy = max(took for _, _, took, _ in _storm(api))
    bound = max(3.0, healthy + 2.0)
    with api.redis_proxy.hanging():
        answers = _storm(api)
        slowest = max(took for _, _, took, _ in answers)
        print(f"broker hanging: slowest of {len(answers)} {slowest:.2f} s ({_summary(answers)}); "
              f"{healthy:.2f} s with the broker answering")  # fmt: skip
        for path, status, took, _ in answers:
            assert took < bound, (path, status, took)
            expected = {"/v1/jobs": {202, 503}, "/readyz": {503}, "/healthz": {200}}[path]
            assert status in expected, (path, status, took)
        accepted = sum(status == 202 for _, status, _, _ in answers)
        assert accepted > 20, _summary(answers)
    _recovered(api)


def test_sends_waiting_on_a_hanging_broker_give_up_with_the_first(api: Api) -> None:
    """A send that began waiting after another gives up when the first one does (not a whole
    wait later), the next send leaves its job to the sweep at once, and no job is left marked
    as sent."""
    settings = api.settings
    dispatcher = Dispatcher(settings)
    wait_s = settings.broker_timeout_s / 2
    with session_scope(settings.db_url) as session:
        made = [flow.create_job(session, JobKind.GENERATE, {"num_base": 4}) for _ in range(3)]
        session.flush()
        ids = [job.id for job in made]

    def send(job_id: str, delay_s: float) -> tuple[bool, float]:
        time.sleep(delay_s)
        with session_scope(settings.db_url) as session:
            job = session.get(Job, job_id)
        return dispatcher.send(job), time.monotonic()

    with api.redis_proxy.hanging(), ThreadPoolExecutor(2) as pool:
        start = time.monotonic()
        first = pool.submit(send, ids[0], 0.0)
        second = pool.submit(send, ids[1], 0.6 * wait_s)
        (sent_first, first_end), (sent_second, second_end) = first.result(), second.result()
        sent_third, third_end = send(ids[2], 0.0)
    print(f"sends gave up after {first_end - start:.2f} s and {second_end - start:.2f} s; the "
          f"next one in {third_end - second_end:.3f} s")  # fmt: skip
    assert not (sent_first or sent_second or sent_third)
    assert wait_s * 0.9 < first_end - start < wait_s + 0.5
    assert abs(second_end - first_end) < 0.25 * wait_s
    assert third_end - second_end < 0.25 * wait_s
    with session_scope(settings.db_url) as session:
        assert all(session.get(Job, job_id).dispatched_at is None for job_id in ids)
    _recovered(api)


def test_a_database_that_is_down_is_a_503(api: Api) -> None:
    api.db_proxy.drop()
    try:
        with api.client() as client:
            for method, path in (("POST", "/v1/jobs"), ("GET", "/v1/jobs"), ("GET", "/readyz")):
                response = client.request(method, path, json=GENERATE)
                assert response.status_code == 503, (path, response.text)
                assert int(response.headers["retry-after"]) > 0
                assert "Traceback" not in response.text
    finally:
        api.db_proxy.restore()
    _recovered(api)


# -- 6. rendering, 8. its temporary files ------------------------------------------------------
def _animate(api: Api, duration: float, fmt: str = "gif") -> httpx.Response:
    body = {"prompt": "a man walks then jumps", "duration": duration, "width": 1920,
            "height": 1920, "format": fmt}  # fmt: skip
    with api.client(timeout_s=300) as client:
        return client.post("/v1/animate", json=body)


def test_rendering_memory_does_not_grow_with_the_clip_and_renders_are_limited(api: Api) -> None:
    """At the largest frame size a 1 s and a 6 s GIF peak at the same memory (the frames go to
    the encoder one at a time); a second render beyond the server's one slot is a 503."""
    first = _animate(api, 1.0)
    assert first.status_code == 200 and first.content.startswith(b"GIF89a"), first.text
    peak_short = memory_mb(api.process.pid, "VmHWM")
    temp = api.data_dir / "tmp"
    _wait_until_empty(temp)  # the first answer's folder is removed once it was sent
    with ThreadPoolExecutor(1) as pool:
        long_render = pool.submit(_animate, api, 6.0)
        deadline = time.monotonic() + 30
        while not (temp.is_dir() and any(temp.iterdir())):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        busy = _animate(api, 1.0, "mp4")
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) > 0, busy.text
        done = long_render.result()
    assert done.status_code == 200 and len(done.content) > 100_000
    peak_long = memory_mb(api.process.pid, "VmHWM")
    print(f"1920x1920 GIF: peak RSS {peak_short:.0f} MB after 1 s, {peak_long:.0f} MB after 6 s")
    assert peak_long - peak_short < 60 and peak_long < 1024
    _wait_until_empty(temp)  # removed once sent


def _wait_until_empty(folder: Path, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while folder.is_dir() and any(folder.iterdir()):
        assert time.monotonic() < deadline, list(folder.iterdir())
        time.sleep(0.02)


def test_an_api_killed_mid_render_leaves_no_temporary_folder(api: Api) -> None:
    temp = api.data_dir / "tmp"
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_animate, api, 6.0)
        deadline = time.monotonic() + 30
        while not (temp.is_dir() and any(temp.iterdir())):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(api.process.pid, signal.SIGKILL)
    left = list(temp.iterdir())
    assert left, "the killed API should have left its folder behind"
    api.process.process.wait()  # type: ignore[union-attr]
    api.process.start()  # the clean-up at start removes a folder whose process is gone
    assert not any(folder.exists() for folder in left)


# -- in process, on SQLite: 4. full disk, 9. links and paths, 10. the smaller findings -------------
def test_a_full_disk_refuses_new_work_with_a_503(api_settings: Settings) -> None:
    full = api_settings.model_copy(update={"min_free_disk_mb": 1 << 40})  # more than any disk
    with TestClient(create_app(full)) as client:
        for path, body in (("/v1/jobs", GENERATE), ("/v1/animate", {"prompt": "a man waves"})):
            response = client.post(path, json=body)
            assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
            assert response.json()["type"] == "/problems/disk-full"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["disk"].startswith("unavail")
        assert ready.json()["disk_free_mb"] > 0


def test_a_link_at_any_depth_of_a_named_folder_is_refused(
    client: TestClient, api_settings: Settings
) -> None:
    root = api_settings.mocap_path
    (root / "ok" / "deeper").mkdir(parents=True)
    (root / "ok" / "walk.bvh").write_text("HIERARCHY\n")
    (root / "ok" / "deeper" / "inner.bvh").symlink_to("/etc/passwd")
    body = {"kind": "generate", "params": {"num_base": 10, "mocap": {"sources": ["ok"]}}}
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "ok/deeper/inner.bvh" in detail and "leads outside" in detail
    assert "/etc" not in detail and str(root) not in detail


def test_client_visible_errors_name_no_absolute_path(tmp_path: Path) -> None:
    data = tmp_path / "data"
    text = f"cannot read {data}/datasets/x/motion.npy, nor /opt/models/secret/weights.pt"
    shown = public_text(text, (data,))
    assert shown == "cannot read datasets/x/motion.npy, nor …/weights.pt"


def test_the_smaller_refusals(client: TestClient, api_settings: Settings) -> None:
    empty_key = client.post("/v1/jobs", json=GENERATE, headers={"Idempotency-Key": ""})
    assert empty_key.status_code == 422, empty_key.text
    tiny = {"generate": {"num_base": 1}, "embed": {}, "train": {"epochs": 1}}
    too_small = client.post("/v1/jobs", json={"kind": "pipeline", "params": tiny})
    assert too_small.status_code == 422 and "num_base 1" in too_small.json()["detail"]
    limit = api_settings.page_limit
    assert client.get("/v1/jobs", params={"limit": limit}).status_code == 200
    assert client.get("/v1/jobs", params={"limit": limit + 1}).status_code == 422
    schema = client.get("/openapi.json").json()
    for path in ("/v1/jobs", "/v1/datasets", "/v1/checkpoints"):
        (param,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "limit"]
        assert param["schema"]["maximum"] == limit
    assert str(api_settings.max_body_bytes) in schema["info"]["description"]


def test_a_cancel_after_the_last_step_finished_leaves_the_pipeline_succeeded(
    api_settings: Settings,
) -> None:
    """A cancel that reaches a pipeline while its last step (training) ends successfully."""
    url = api_settings.db_url
    upgrade_to_head(url)
    params = {"generate": {"num_base": 4}, "embed": {}, "train": {"epochs": 1}}
    with session_scope(url) as session:
        pipeline = flow.create_job(session, JobKind.PIPELINE, params).id
        steps = [kid.id for kid in jobs.children(session, pipeline)]
    for step in steps:
        with session_scope(url) as session:
            assert jobs.claim(session, step, "worker", 60)
            flow.mark_ancestors_started(session, pipeline)
            if step != steps[-1]:
                assert jobs.finish(session, step, "worker", JobStatus.SUCCEEDED, result={})
    with session_scope(url) as session:
        jobs.request_cancel(session, pipeline)
    with session_scope(url) as session:  # the training was past its last check: it succeeds
        assert jobs.finish(session, steps[-1], "worker", JobStatus.SUCCEEDED, result={})
    flow.advance(api_settings, Dispatcher(api_settings), pipeline)
    with session_scope(url) as session:
        assert session.get(Job, pipeline).status == JobStatus.SUCCEEDED
