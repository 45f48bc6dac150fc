"""Fixtures of the service tests: the API in process, a real Celery worker process, and either
SQLite + the filesystem broker (always) or Postgres + Redis (when they answer locally)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_harness import (
    FAST_JOB_SETTINGS,
    REDIS_URL,
    Service,
    WorkerProcess,
    postgres_database,
    redis_reason,
    settings_env,
)

from app.main import create_app
from jobcore.settings import Settings


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """Embedded-mode settings in a temporary data dir, with small limits for fast tests."""
    return Settings(
        data_dir=tmp_path / "data",
        reaper_interval_s=0,
        max_base_samples=1000,
        max_epochs=100,
        max_prompt_chars=200,
        max_duration_s=4.0,
        max_frame_size=512,
    )


@pytest.fixture
def client(api_settings: Settings) -> Iterator[TestClient]:
    """An API client without a worker: jobs stay queued."""
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, text_model_path: Path
) -> Iterator[Service]:
    """API + worker on one backend; module-scoped so a suite shares one worker start. The
    SQLite service trains with two data-parallel processes, the Postgres one with one."""
    values: dict[str, Any] = {
        **FAST_JOB_SETTINGS,
        "data_dir": tmp_path_factory.mktemp(f"service-{request.param}") / "data",
        "embedding_model": str(text_model_path),
        "worker_concurrency": 2,
        "train_processes": 2 if request.param == "sqlite" else 1,
        "train_threads": 1,
    }
    drop = None
    if request.param == "postgres":
        reason = redis_reason()
        database = postgres_database() if reason is None else reason
        if isinstance(database, str):
            pytest.skip(database)
        url, drop = database
        values |= {
            "database_url": url,
            "broker_url": REDIS_URL,
            "redis_key_prefix": f"stickgen-test-{uuid.uuid4().hex[:8]}:",
        }
    settings = Settings(**values)
    worker = WorkerProcess(settings_env(values), settings.data_path.parent / "worker.log")
    try:
        with TestClient(create_app(settings)) as client:
            worker.start()
            yield Service(request.param, settings, client, worker)
    finally:
        worker.stop()
        if drop is not None:
            drop()
