"""`stick-gen serve` (embedded mode): one command starts the API and a worker on SQLite and the
filesystem broker; a job submitted over real HTTP runs to completion; Ctrl-C stops both."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

STICK_GEN = str(Path(sys.executable).with_name("stick-gen"))  # the installed console script


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_serve_runs_api_and_worker_until_interrupted(tmp_path: Path) -> None:
    port = _free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "STICKGEN_HEARTBEAT_INTERVAL_S": "0.5",
        "STICKGEN_WORKER_CONCURRENCY": "1",
    }
    env.pop("STICKGEN_DATABASE_URL", None)
    env.pop("STICKGEN_BROKER_URL", None)
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - the child writes to it
    serve = subprocess.Popen(
        [STICK_GEN, "serve", "--port", str(port), "--data-dir", str(data)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        assert (data / "stickgen.db").exists()  # SQLite under the data dir
        assert (data / "broker" / "queue").is_dir()  # the serverless broker's folders

        job = httpx.post(
            f"{base}/v1/jobs",
            json={"kind": "generate", "params": {"num_base": 8, "augment": False}},
        ).json()
        while (state := httpx.get(f"{base}/v1/jobs/{job['id']}").json())["status"] in (
            "queued", "running"
        ):  # fmt: skip
            assert time.monotonic() < deadline + 60, (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        assert state["status"] == "succeeded", (state, (tmp_path / "serve.log").read_text())
        dataset = httpx.get(f"{base}/v1/datasets/{state['result']['dataset_id']}").json()
        assert dataset["samples"] == 8
        assert (data / "datasets" / job["id"] / "manifest.json").exists()

        # each worker names its queue when it has started (the train worker may start after
        # the job above ran), bound under its own key, so a job is never sent to both
        while not all(
            re.search(rf"\.> {queue} +exchange=\S+ key={queue}\n", banner)
            for queue in ("default", "train")
            for banner in [(tmp_path / "serve.log").read_text()]
        ):
            assert time.monotonic() < deadline + 90, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        children = _children(serve.pid)
        assert len(children) == 3  # uvicorn, the default queue's worker, the train worker

        # a worker that crashes is started again; the API keeps answering meanwhile
        (crashed,) = [
            pid for pid in children if b"default" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        for pid in [*_children(crashed), crashed]:
            os.kill(pid, signal.SIGKILL)
        while (
            len(now := [pid for pid in _children(serve.pid) if _alive(pid)]) < 3 or crashed in now
        ):
            assert httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline + 90, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        assert "the default worker exited" in (tmp_path / "serve.log").read_text()
        children = _children(serve.pid)
        serve.send_signal(signal.SIGINT)
        try:
            assert serve.wait(timeout=30) == 0
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve did not stop:\n{(tmp_path / 'serve.log').read_text()[-6000:]}")
        time.sleep(0.5)
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        log.close()
