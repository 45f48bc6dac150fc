"""Fault injection on the job machinery, laid out as compose runs it: real Postgres and Redis,
each behind a loopback TCP proxy that can drop or hang the link (`faultproxy`), a default worker
(`-Q default`) and a train worker (`-Q train`, two processes so that one can take over a job
from the other), the API in process with its sweep.

Timings are shrunk by settings (0.3 s heartbeats, a 1.5 s claim wait, a 0.5 s sweep); the
staleness is 8 s, longer than the longest database outage a job must ride out (5 s)."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from faultproxy import FaultProxy
from service_harness import (
    FAST_JOB_SETTINGS,
    REDIS_URL,
    TERMINAL,
    TINY_TRAIN,
    WorkerProcess,
    proxied_services,
    settings_env,
)
from sqlalchemy import select, update

from app.main import create_app
from jobcore import cleanup, flow, jobs
from jobcore.db import session_scope, upgrade_to_head
from jobcore.dispatch import Dispatcher
from jobcore.models import CheckpointRow, Job, JobKind, utcnow
from jobcore.settings import Settings
from stickgen.train import load_checkpoint
from worker import records


@dataclass
class Faulty:
    """The service under test and the handles to break it."""

    settings: Settings
    direct_url: str  # the database without the proxy: what the test reads, whatever it breaks
    db_proxy: FaultProxy
    redis_proxy: FaultProxy
    client: TestClient
    env: dict[str, str]
    root: Path
    dataset_id: str
    trainers: list[WorkerProcess]
    default: WorkerProcess
    extra: list[WorkerProcess] = field(default_factory=list)

    def job(self, job_id: str) -> Job:
        with session_scope(self.direct_url) as session:
            job = session.get(Job, job_id)
            assert job is not None
            session.expunge(job)
            return job

    def wait(self, job_id: str, until: Any = None, timeout_s: float = 60.0) -> Job:
        until = until or (lambda job: job.status in TERMINAL)
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.job(job_id)
            if until(job):
                return job
            if time.monotonic() > deadline:
                logs = "\n".join(w.log_tail(3000) for w in [*self.trainers, self.default])
                raise AssertionError(f"job {job_id} still {job.status}: {job.message}\n{logs}")
            time.sleep(0.05)

    def create(self, kind: str, params: dict[str, Any]) -> str:
        response = self.client.post("/v1/jobs", json={"kind": kind, "params": params})
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def last_checkpoint(self, job_id: str) -> tuple[int, str] | None:
        with session_scope(self.direct_url) as session:
            row = session.execute(
                select(CheckpointRow.epoch, CheckpointRow.path).where(
                    CheckpointRow.job_id == job_id, CheckpointRow.kind == "last"
                )
            ).first()
        return None if row is None else (row[0], row[1])

    def logs(self) -> str:
        return "".join(w.log_text() for w in [*self.trainers, self.default, *self.extra])


def _tiny_dataset(root: Path, text_model: Path) -> Path:
    from stickgen.data.generate import generate_dataset
    from stickgen.embed import embed_dataset

    path = generate_dataset(root / "datasets" / "tiny", 40, seed=5, workers=1)
    embed_dataset(path, model=text_model, cache_dir=root / "cache")
    return Path(path)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory, text_model_path: Path) -> Iterator[Faulty]:
    with proxied_services("stickgen-faults") as services:
        root = tmp_path_factory.mktemp("faults-jobs")
        values: dict[str, Any] = {
            **FAST_JOB_SETTINGS,
            **services.settings,
            "stale_after_s": 8.0,
            "claim_timeout_s": 1.5,
            "data_dir": root / "data",
            "embedding_model": str(text_model_path),
            "worker_concurrency": 1,
            "train_threads": 1,
        }
        env = settings_env(values)
        settings = Settings(**values)
        direct_url = services.direct_url
        upgrade_to_head(direct_url)
        trainers = [WorkerProcess(env, root / "trainer.log", concurrency=2, queues="train")]
        default = WorkerProcess(env, root / "default.log", concurrency=1, queues="default")
        faulty = None
        try:
            for trainer in trainers:
                trainer.start(wait=False)
            dataset = _tiny_dataset(root, text_model_path)
            with session_scope(direct_url) as session:
                dataset_id = records.upsert_dataset(session, dataset, name="tiny", job_id=None).id
            for trainer in trainers:
                trainer.wait_ready()
            with TestClient(create_app(settings)) as client:
                faulty = Faulty(settings, direct_url, services.db_proxy, services.redis_proxy,
                                client, env, root, dataset_id, trainers, default)  # fmt: skip
                yield faulty
        finally:
            for worker in [*trainers, default, *(faulty.extra if faulty else [])]:
                if worker.process is not None and worker.process.poll() is None:
                    worker.kill()


# -- 3. lost dispatch ------------------------------------------------------------------------
def test_a_worker_without_the_database_takes_nothing_and_lost_messages_are_sent_again(
    faulty: Faulty,
) -> None:
    """A worker whose database URL is wrong never says ready and consumes nothing; a job whose
    message was lost (taken by such a worker, or never published by an API killed between its
    commit and its publish) is sent again once it stays unclaimed for `claim_timeout_s`."""
    dead = FaultProxy("127.0.0.1", 9)
    dead.drop()  # refuses every connection, as a wrong host or port does
    env = {**faulty.env, "STICKGEN_DATABASE_URL": faulty.env["STICKGEN_DATABASE_URL"].replace(
        f":{faulty.db_proxy.port}/", f":{dead.port}/")}  # fmt: skip
    blind = WorkerProcess(env, faulty.root / "blind.log", concurrency=1, queues="default")
    faulty.extra.append(blind)
    blind.start(wait=False)
    deadline = time.monotonic() + 60
    while "database unreachable" not in blind.log_text():
        assert blind.process is not None and blind.process.poll() is None, blind.log_tail()
        assert time.monotonic() < deadline, blind.log_tail()
        time.sleep(0.1)

    published = faulty.create("generate", {"num_base": 6, "seed": 1, "augment": False})
    with session_scope(faulty.direct_url) as session:  # the API died after its commit
        unsent = flow.create_job(session, JobKind.GENERATE, {"num_base": 6, "seed": 2,
                                                               "augment": False}).id  # fmt: skip
        session.flush()
        assert jobs.reserve_dispatch(session, unsent, uuid.uuid4().hex, 0)
    time.sleep(2 * faulty.settings.claim_wait_s)
    assert " ready." not in blind.log_text() and " received" not in blind.log_text()
    assert faulty.job(published).status == "queued" and faulty.job(unsent).status == "queued"
    ready = faulty.client.get("/readyz").json()
    assert ready["workers"].get("train") == 1 and "default" not in ready["workers"], ready

    # every message sent so far is lost (as if the blind worker had acked it)
    broker = redis.Redis.from_url(REDIS_URL)
    queue = f"{faulty.settings.redis_key_prefix}default"
    assert broker.llen(queue) >= 1  # the blind worker took none of them
    broker.delete(queue)
    faulty.default.start()
    started = time.monotonic()
    for job_id in (published, unsent):
        done = faulty.wait(job_id, timeout_s=120)
        assert done.status == "succeeded", (done.error, faulty.default.log_tail())
        assert done.attempts == 1
    pickup = time.monotonic() - started
    print(f"lost dispatches ran {pickup:.1f} s after a worker was ready")
    assert pickup < 120
    assert faulty.client.get("/readyz").json()["workers"].get("default") == 1
    assert " ready." not in blind.log_text()
    blind.kill()
    dead.close()


# -- 1. split brain ----------------------------------------------------------------------------
def _claimer_pid(faulty: Faulty, job_id: str, attempt: int) -> int:
    pattern = re.compile(rf"job {job_id} \(train\) claimed, attempt {attempt}, process (\d+)")
    deadline = time.monotonic() + 30
    while (found := pattern.search(faulty.logs())) is None:
        assert time.monotonic() < deadline, faulty.logs()[-3000:]
        time.sleep(0.05)
    return int(found.group(1))


def test_a_run_that_lost_its_claim_writes_nothing(faulty: Faulty) -> None:
    """Freeze a training process (SIGSTOP) until its claim is stale, let another worker take the
    job over and save a later epoch, resume the frozen one: no checkpoint row or file that
    anyone sees goes back, and the job ends once, as the new owner's."""
    job_id = faulty.create("train", {**TINY_TRAIN, "dataset_id": faulty.dataset_id, "epochs": 5})
    faulty.wait(job_id, lambda job: (job.message or "").startswith("epoch 3/"), 90)
    frozen = _claimer_pid(faulty, job_id, 1)
    os.kill(frozen, signal.SIGSTOP)
    try:
        # epoch 2 was saved; a fast machine may have saved epoch 3 before the freeze landed
        epoch_at_freeze = faulty.last_checkpoint(job_id)
        assert epoch_at_freeze is not None and 2 <= epoch_at_freeze[0] < 5, epoch_at_freeze
        frozen_epoch = epoch_at_freeze[0]
        # a frozen process cannot heartbeat: let its claim age past `stale_after_s` at once
        with session_scope(faulty.direct_url) as session:
            session.execute(update(Job).where(Job.id == job_id).values(
                heartbeat_at=utcnow() - timedelta(hours=1)))  # fmt: skip
        seen: list[tuple[int, str]] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                if (last := faulty.last_checkpoint(job_id)) is not None:
                    seen.append(last)
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        faulty.wait(job_id, lambda job: job.attempts == 2, 30)
        assert _claimer_pid(faulty, job_id, 2) != frozen
        deadline = time.monotonic() + 60
        while (faulty.last_checkpoint(job_id) or (0, ""))[0] <= frozen_epoch:
            assert time.monotonic() < deadline, faulty.logs()[-3000:]
            time.sleep(0.05)
    finally:
        os.kill(frozen, signal.SIGCONT)
    fenced = re.compile(rf"job {job_id}: attempt 1 lost its claim|job {job_id} ended as \w+ but")
    deadline = time.monotonic() + 30
    while not fenced.search(faulty.logs()):  # the resumed run met the fence
        assert time.monotonic() < deadline, faulty.logs()[-4000:]
        time.sleep(0.05)
    done = faulty.wait(job_id, timeout_s=60)
    time.sleep(0.3)
    stop.set()
    watcher.join()

    assert done.status == "succeeded", done.error
    assert done.attempts == 2 and done.result["resumed_from_epoch"] == frozen_epoch
    assert [entry["epoch"] for entry in done.result["history"]] == [1, 2, 3, 4, 5]
    epochs = [epoch for epoch, _ in seen]
    assert epochs == sorted(epochs), f"the last checkpoint went back: {epochs}"
    epoch, path = faulty.last_checkpoint(job_id) or (0, "")
    assert epoch == 5 and Path(path).parent.name == "attempt-2"
    assert load_checkpoint(path)["epoch"] == 5
    with session_scope(faulty.direct_url) as session:
        paths = session.scalars(select(CheckpointRow.path).where(CheckpointRow.job_id == job_id))
        assert {Path(p).parent.name for p in paths} == {"attempt-2"}


# -- 2. database blips, 7. isolation -------------------------------------------------------------
def test_database_outages_of_up_to_5_s_neither_fail_nor_restart_a_job(faulty: Faulty) -> None:
    """Three 0.3 s Postgres drops and a 5 s outage while a job trains: every write waits them
    out, so it keeps its claim (one attempt), never restarts, and succeeds. Meanwhile a second
    training and a short generate run: the generate is not held behind them (its own worker
    and queue)."""
    long_job = faulty.create("train", {**TINY_TRAIN, "dataset_id": faulty.dataset_id,
                                       "epochs": 5})  # fmt: skip
    other = faulty.create("train", {**TINY_TRAIN, "dataset_id": faulty.dataset_id, "epochs": 1})
    faulty.wait(long_job, lambda job: faulty.last_checkpoint(long_job) is not None, 90)
    short = faulty.create("generate", {"num_base": 10, "seed": 4, "augment": False})
    for _ in range(3):
        faulty.db_proxy.blip(0.3).join()
        time.sleep(0.5)
    assert faulty.job(long_job).status == "running", "make the job longer than the outages"
    faulty.db_proxy.blip(5.0).join()

    done = faulty.wait(long_job, timeout_s=120)
    assert done.status == "succeeded", done.error
    assert done.attempts == 1 and done.result["resumed_from_epoch"] is None
    assert [entry["epoch"] for entry in done.result["history"]] == [1, 2, 3, 4, 5]
    assert done.result["threads"] == 1  # the worker's thread budget
    generated = faulty.wait(short, timeout_s=60)
    assert generated.status == "succeeded" and generated.finished_at < done.finished_at
    assert faulty.wait(other, timeout_s=60).status == "succeeded"
    assert faulty.db_proxy.connections > 0  # the workers did go through the proxy


# -- 8. leftovers ---------------------------------------------------------------------------------
def test_a_cancelled_sharded_generate_leaves_no_work_folder(faulty: Faulty) -> None:
    job_id = faulty.create("generate", {"num_base": 600, "seed": 9, "shards": 3})
    work = faulty.settings.work_dir / job_id
    faulty.wait(job_id, lambda job: job.status == "running" and work.is_dir(), 60)
    response = faulty.client.post(f"/v1/jobs/{job_id}/cancel")
    assert response.status_code == 202, response.text
    assert faulty.wait(job_id, timeout_s=60).status == "cancelled"
    deadline = time.monotonic() + 10
    while work.exists():
        assert time.monotonic() < deadline, sorted(p.name for p in work.rglob("*"))
        time.sleep(0.05)


def test_stale_unacked_broker_entries_are_removed(faulty: Faulty) -> None:
    """A message a killed worker held (Redis `unacked`) is dropped by the clean-up once its job
    ended, instead of coming back after the visibility timeout; a current one stays."""
    settings = faulty.settings.model_copy(update={"broker_url": REDIS_URL,
                                                  "database_url": faulty.direct_url})  # fmt: skip
    celery = Dispatcher(settings).celery
    with session_scope(faulty.direct_url) as session:
        ended = flow.create_job(session, JobKind.GENERATE, {"num_base": 1}).id
        waiting = flow.create_job(session, JobKind.GENERATE, {"num_base": 1}).id
    for job_id in (ended, waiting):  # a queue no worker reads, so the messages stay put
        task_id = uuid.uuid4().hex
        with session_scope(faulty.direct_url) as session:
            assert jobs.reserve_dispatch(session, job_id, task_id, 0)
        celery.send_task("stickgen.generate", args=[job_id], task_id=task_id, queue="held")
    with session_scope(faulty.direct_url) as session:
        session.execute(update(Job).where(Job.id == ended).values(status="cancelled"))
    with celery.connection_for_read() as connection:  # take both, ack neither
        channel = connection.default_channel
        held = [channel.basic_get("held", no_ack=False) for _ in range(2)]
        assert all(message is not None for message in held)
        broker = redis.Redis.from_url(REDIS_URL)
        index = f"{settings.redis_key_prefix}unacked_index"
        tags = broker.zrange(index, 0, -1)
        assert len(tags) == 2
        broker.zadd(index, {tag: time.time() - 3600 for tag in tags})  # held for an hour
        assert cleanup.remove_stale_unacked(settings) == 1
        left = broker.hgetall(f"{settings.redis_key_prefix}unacked")
        assert len(left) == 1 and waiting.encode() in next(iter(left.values()))
        channel.close()
