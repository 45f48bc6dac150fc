"""What a newcomer meets first, through HTTP without a worker: the server's limits, ids by
prefix, what a prompt was understood as, a short error with its details, docs that need no CDN."""

from __future__ import annotations

import json
from urllib.parse import unquote

from fastapi.testclient import TestClient

from jobcore.db import session_scope
from jobcore.models import Job
from jobcore.settings import Settings
from stickgen.textmodels import BUNDLED_MODEL
from worker.runner import short_error


def test_limits_are_the_settings(client: TestClient, api_settings: Settings) -> None:
    limits = client.get("/v1/limits").json()
    assert limits["prompt_chars"] == {"min": 1, "max": 200, "default": None, "integer": True}
    assert limits["duration_s"]["max"] == api_settings.max_duration_s == 4.0
    assert limits["duration_s"]["integer"] is False
    assert limits["num_base"]["max"] == 1000 and limits["epochs"]["max"] == 100
    assert limits["frame_size"] == {"min": 64, "max": 512, "default": 512, "integer": True}
    assert limits["evaluate_pool_size"]["min"] == 2
    assert limits["text_models"] == {"default": BUNDLED_MODEL, "allowed": [BUNDLED_MODEL]}
    assert limits["presets"] == ["tiny", "small", "base"]
    assert limits["id_prefix_chars"] == 8


def test_a_job_is_found_by_an_id_prefix(client: TestClient) -> None:
    made = [client.post("/v1/jobs", json={"kind": "generate", "params": {"num_base": 4}}).json()]
    job_id = made[0]["id"]
    assert client.get(f"/v1/jobs/{job_id[:8]}").json()["id"] == job_id
    assert client.get(f"/v1/jobs/{job_id[:12].upper()}").json()["id"] == job_id
    assert client.get(f"/v1/jobs/{job_id[:7]}").status_code == 404  # too short to be an id
    # two ids that share their first 8 characters: the prefix is ambiguous
    api = client.app.state.settings  # type: ignore[attr-defined]
    with session_scope(api.db_url) as session:
        for tail in ("0" * 24, "1" * 24):
            session.add(Job(id="abcdef12" + tail, kind="generate", params={"num_base": 1}))
    ambiguous = client.get("/v1/jobs/abcdef12")
    assert ambiguous.status_code == 409, ambiguous.text
    assert ambiguous.json()["type"] == "/problems/ambiguous-id"
    assert client.get("/v1/jobs/abcdef121").json()["id"] == "abcdef12" + "1" * 24


def test_every_animation_says_what_was_understood(client: TestClient) -> None:
    body = {"prompt": "a man waves happily", "duration": 1, "width": 64, "height": 64}
    video = client.post("/v1/animate", json=body)
    assert video.headers["content-type"] == "video/mp4"
    report = json.loads(unquote(video.headers["x-stickgen-understood"]))
    assert report["understood"] is True
    assert {"text": "waves", "kind": "action", "meaning": "wave"} in report["recognised"]
    plan = client.post("/v1/animate", json={**body, "format": "json"}).json()
    assert plan["scene"]["understanding"] == report  # the same report in the JSON format

    nonsense = {**body, "prompt": "zorblax the quibbly frandle"}
    report = json.loads(unquote(client.post("/v1/animate", json=nonsense).headers[
        "x-stickgen-understood"
    ]))  # fmt: skip
    assert report["understood"] is False
    assert set(report["ignored"]) >= {"zorblax", "quibbly", "frandle"}
    accented = {**body, "prompt": "a man waves at the café"}
    assert "café" in unquote(client.post("/v1/animate", json=accented).headers[
        "x-stickgen-understood"
    ])  # fmt: skip


def test_a_failed_jobs_error_is_short_and_its_cause_is_in_details() -> None:
    cause = (
        "could not load text model 'BAAI/bge-large-en-v1.5' (" + "retrying " * 60 + "). "
        "Set HF_HUB_OFFLINE=1; or download it once\nTraceback (most recent call last): ..."
    )
    short = short_error(cause)
    assert len(short) <= 260 and "\n" not in short and short.endswith("(see details)")
    assert short.startswith("could not load text model 'BAAI/bge-large-en-v1.5'")
    assert short_error("dataset validation failed") == "dataset validation failed"


def test_docs_load_their_scripts_from_this_server(client: TestClient) -> None:
    for page, script in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        assert f"/docs-assets/{script}" in html and "cdn.jsdelivr" not in html
        assert client.get(f"/docs-assets/{script}").status_code == 200
    schema = client.get("/openapi.json").json()
    examples = schema["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]
    kinds = {example["value"]["kind"] for example in examples["examples"].values()}
    assert kinds == {"generate", "embed", "train", "pipeline", "evaluate"}
    assert "/v1/limits" in schema["paths"]
