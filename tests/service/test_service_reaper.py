"""The sweep that recovers lost work, on a real SQLite database and the real filesystem broker
(no worker: the test reads the broker's queue folder)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from jobcore.db import session_scope
from jobcore.dispatch import Dispatcher
from jobcore.models import Job, utcnow
from jobcore.reaper import sweep
from jobcore.settings import Settings

GENERATE = {"kind": "generate", "params": {"num_base": 10}}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, reaper_interval_s=0, stale_after_s=30, max_attempts=2)


def _messages(settings: Settings, job_id: str) -> int:
    return sum(job_id in m.read_text() for m in (settings.broker_dir / "queue").iterdir())


def _edit(settings: Settings, job_id: str, **values) -> None:
    with session_scope(settings.db_url) as session:
        job = session.get(Job, job_id)
        for name, value in values.items():
            setattr(job, name, value)


def _job(settings: Settings, job_id: str) -> Job:
    with session_scope(settings.db_url) as session:
        return session.get(Job, job_id)


def _create(settings: Settings, broker_url: str | None = None) -> str:
    app_settings = settings.model_copy(update={"broker_url": broker_url})
    with TestClient(create_app(app_settings)) as client:
        return client.post("/v1/jobs", json=GENERATE).json()["id"]


def test_a_job_whose_message_was_never_sent_is_sent_by_the_sweep(settings: Settings) -> None:
    job_id = _create(settings, broker_url="redis://127.0.0.1:9/0")  # the broker is down
    assert _job(settings, job_id).dispatched_at is None
    _edit(settings, job_id, created_at=utcnow() - timedelta(seconds=10))
    dispatcher = Dispatcher(settings)
    assert sweep(settings, dispatcher)["started"] == 1
    assert _messages(settings, job_id) == 1
    sweep(settings, dispatcher)
    assert _messages(settings, job_id) == 1  # sent once, not once per sweep


def test_stale_running_jobs_are_resent_failed_or_cancelled(settings: Settings) -> None:
    dispatcher = Dispatcher(settings)
    lost, exhausted, cancelling, alive = (_create(settings) for _ in range(4))
    old = utcnow() - timedelta(seconds=120)
    running = {"status": "running", "owner": "dead-worker", "heartbeat_at": old,
               "dispatched_at": old}  # fmt: skip
    _edit(settings, lost, attempts=1, **running)
    _edit(settings, exhausted, attempts=2, **running)
    _edit(settings, cancelling, attempts=1, cancel_requested=True, **running)
    _edit(settings, alive, attempts=1, **{**running, "heartbeat_at": utcnow()})

    counts = sweep(settings, dispatcher)
    assert counts["resent"] == 1 and counts["ended"] == 2
    assert _messages(settings, lost) == 2  # the original message and the resend
    assert _job(settings, lost).status == "running"
    assert _job(settings, exhausted).status == "failed"
    assert "lost 2 times" in _job(settings, exhausted).error
    assert _job(settings, cancelling).status == "cancelled"
    assert _job(settings, alive).status == "running"
    assert _messages(settings, alive) == 1
    sweep(settings, dispatcher)
    assert _messages(settings, lost) == 2  # not resent again before it could be picked up
