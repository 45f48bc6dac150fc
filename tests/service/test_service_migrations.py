"""Alembic migrations agree with the ORM models and run up and down on SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from service_harness import postgres_database
from sqlalchemy import create_engine, inspect

from jobcore.db import (
    SchemaOutOfDate,
    alembic_config,
    current_revision,
    head_revision,
    require_head,
    upgrade_to_head,
)
from jobcore.models import Base


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    database = postgres_database()
    if isinstance(database, str):
        pytest.skip(database)
    url, drop = database
    try:
        yield url
    finally:
        from jobcore.db import _engines

        engine = _engines.pop(url, None)
        if engine is not None:
            engine.dispose()
        drop()


def test_upgrade_matches_models_and_downgrade_removes_everything(database_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="alembic upgrade head"):
        require_head(database_url)
    upgrade_to_head(database_url)
    assert current_revision(database_url) == head_revision()
    require_head(database_url)

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            names = {c["name"] for c in inspect(connection).get_unique_constraints("jobs")}
        assert "uq_jobs_idempotency_key" in names  # the naming convention is applied

        command.downgrade(alembic_config(database_url), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_to_head(database_url)
        assert {"jobs", "datasets", "checkpoints"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
