"""Property-based fuzzing of every operation in the OpenAPI schema (schemathesis + hypothesis):
whatever the input, the API answers without a server error, with the content type its schema
documents for that status (so a client generated from the schema reads errors as problem+json)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error

from app.main import create_app
from jobcore.db import upgrade_to_head
from jobcore.settings import Settings
from stickgen.story import meaning

# Built at import: schemathesis' lazy pytest fixtures do not work with this pytest.
DATA_DIR = Path(tempfile.mkdtemp(prefix="stickgen-fuzz-"))
APP_SETTINGS = Settings(
    data_dir=DATA_DIR,
    reaper_interval_s=0,
    max_base_samples=100,
    max_epochs=5,
    max_duration_s=1.0,  # the valid animations that get through stay cheap to render
    max_frame_size=96,
)
APP_SETTINGS.ensure_dirs()
upgrade_to_head(APP_SETTINGS.db_url)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(APP_SETTINGS))


@pytest.fixture(scope="module", autouse=True)
def _remove_data_dir() -> Iterator[None]:
    yield
    shutil.rmtree(DATA_DIR, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def _story_reader_loaded() -> None:
    """The story engine's text model is loaded before the first request, as `python -m
    app.server` loads it at start (otherwise the first odd prompt waits for the load)."""
    meaning.reader()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_causes_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, content_type_conformance])
    if response.status_code >= 400:
        content_type = response.headers["content-type"]
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), response.text


def test_fuzzing_covers_the_api() -> None:
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert {"POST /v1/jobs", "POST /v1/animate", "GET /v1/jobs/{job_id}"} <= operations
