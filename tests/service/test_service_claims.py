"""Compare-and-set job claims on a real database: a task that runs twice does the work once,
and a worker that lost its job cannot write over the new owner's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jobcore import jobs
from jobcore.db import session_scope, upgrade_to_head
from jobcore.flow import create_job
from jobcore.models import Job, JobKind, JobStatus
from stickgen.pipeline import PHASES


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'claims.db'}"
    upgrade_to_head(url)
    return url


def _new_job(db_url: str, kind: JobKind = JobKind.TRAIN) -> str:
    with session_scope(db_url) as session:
        return create_job(session, kind, {"epochs": 1}).id


def _claim(db_url: str, job_id: str, owner: str, stale_after_s: float = 60) -> bool:
    with session_scope(db_url) as session:
        return jobs.claim(session, job_id, owner, stale_after_s)


def _row(db_url: str, job_id: str) -> Job:
    with session_scope(db_url) as session:
        return session.get(Job, job_id)


def test_only_one_execution_claims_a_job(db_url: str) -> None:
    job_id = _new_job(db_url)
    assert _claim(db_url, job_id, "first")
    assert not _claim(db_url, job_id, "second")  # fresh heartbeat: the duplicate exits
    row = _row(db_url, job_id)
    assert (row.status, row.owner, row.attempts) == ("running", "first", 1)
    assert row.started_at is not None and row.heartbeat_at is not None


def test_a_stale_job_is_taken_over_and_the_old_owner_is_locked_out(db_url: str) -> None:
    job_id = _new_job(db_url)
    assert _claim(db_url, job_id, "dead")
    time.sleep(0.3)
    assert _claim(db_url, job_id, "new", stale_after_s=0.2)
    assert _row(db_url, job_id).attempts == 2
    with session_scope(db_url) as session:
        assert jobs.heartbeat(session, job_id, "dead") == (False, True)
        assert not jobs.set_progress(session, job_id, "dead", 0.5, "old worker")
        assert not jobs.finish(session, job_id, "dead", JobStatus.FAILED, error="late")
        assert jobs.set_progress(session, job_id, "new", 0.25, "new worker")
        assert jobs.finish(session, job_id, "new", JobStatus.SUCCEEDED, result={"ok": 1})
    row = _row(db_url, job_id)
    assert (row.status, row.progress, row.error, row.owner) == ("succeeded", 1.0, None, None)
    assert not _claim(db_url, job_id, "third", stale_after_s=0)  # finished jobs stay finished


def test_cancel_ends_queued_work_and_flags_running_work(db_url: str) -> None:
    with session_scope(db_url) as session:
        params = {"generate": {"num_base": 4, "shards": 2}, "embed": {}, "train": {"epochs": 1}}
        pipeline = create_job(session, JobKind.PIPELINE, params)
        pipeline_id = pipeline.id
        steps = jobs.children(session, pipeline_id)
        shards = jobs.children(session, steps[0].id)
    assert [s.kind for s in steps] == [phase.kind for phase in PHASES]
    assert [s.step for s in shards] == [0, 1] and all(s.kind == "generate_shard" for s in shards)
    assert _claim(db_url, shards[0].id, "worker")

    with session_scope(db_url) as session:
        revoked = jobs.request_cancel(session, pipeline_id)
    assert {j.id for j in revoked} == {pipeline_id, *(s.id for s in steps), shards[1].id}
    running = _row(db_url, shards[0].id)
    assert running.status == "running" and running.cancel_requested
    with session_scope(db_url) as session:
        assert jobs.heartbeat(session, shards[0].id, "worker") == (True, True)  # it will stop
    assert not _claim(db_url, shards[1].id, "late")  # a cancelled job is never started
