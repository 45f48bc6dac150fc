"""The HTTP contract without a worker: problem+json errors, auth, idempotency, listing,
cancelling queued work, health, schema version checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.main import create_app
from jobcore.db import session_scope, upgrade_to_head
from jobcore.models import CheckpointRow, DatasetRow, Job
from jobcore.settings import Settings
from stickgen.pipeline import PHASES

GENERATE = {"kind": "generate", "params": {"num_base": 10}}
HEX = "0123456789abcdef" * 2


def assert_problem(response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "disk": "ok"}
    assert ready.json()["disk_free_mb"] > 0


def test_readiness_fails_when_the_broker_is_down(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:9/0", reaper_interval_s=0)
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["broker"].startswith("unavailable")
        assert client.get("/healthz").status_code == 200
        # the row is committed before the send; a failed send leaves it queued for the sweep
        job = client.post("/v1/jobs", json=GENERATE)
        assert job.status_code == 202
        assert client.get(f"/v1/jobs/{job.json()['id']}").json()["status"] == "queued"


BAD_JOBS = [
    ({"kind": "dance", "params": {}}, "invalid-request"),
    ({"params": {"num_base": 3}}, "invalid-request"),
    ({"kind": "generate", "params": {"num_base": 0}}, "invalid-request"),
    ({"kind": "generate", "params": {"num_base": -5}}, "invalid-request"),
    ({"kind": "generate", "params": {"num_base": "many"}}, "invalid-request"),
    ({"kind": "generate", "params": {"num_base": 1001}}, "invalid-params"),
    ({"kind": "generate", "params": {"num_base": 10, "colour": "red"}}, "invalid-request"),
    ({"kind": "generate", "params": {"num_base": 10, "shards": 0}}, "invalid-request"),
    ({"kind": "generate", "params": {"num_base": 10, "shards": 99}}, "invalid-params"),
    ({"kind": "generate", "params": {"num_base": 200, "shards": 3}}, "invalid-params"),
    ({"kind": "train", "params": {"dataset_id": HEX, "epochs": 0}}, "invalid-request"),
    ({"kind": "train", "params": {"dataset_id": HEX, "epochs": 101}}, "invalid-params"),
    ({"kind": "train", "params": {"dataset_id": HEX, "epochs": 2, "preset": "huge"}},
     "invalid-params"),
    ({"kind": "train", "params": {"dataset_id": HEX, "epochs": 2}}, "invalid-params"),
    ({"kind": "train", "params": {"dataset_id": "../../etc", "epochs": 2}}, "invalid-request"),
    ({"kind": "embed", "params": {"dataset_id": HEX}}, "invalid-params"),
    ({"kind": "embed", "params": {"dataset_id": HEX, "model": "/etc/passwd"}}, "invalid-params"),
    ({"kind": "pipeline", "params": {"generate": {"num_base": 10}}}, "invalid-request"),
    ({"kind": "pipeline", "params": {"generate": {"num_base": 10},
                                     "train": {"epochs": 1, "preset": "nope"}}}, "invalid-params"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "slug"), BAD_JOBS)
def test_bad_job_requests_are_problems(client: TestClient, body: dict, slug: str) -> None:
    assert_problem(client.post("/v1/jobs", json=body), 422, slug)
    assert client.get("/v1/jobs").json()["total"] == 0


def test_bad_params_name_the_field(client: TestClient) -> None:
    body = assert_problem(
        client.post("/v1/jobs", json={"kind": "generate", "params": {"num_base": 0}}), 422
    )
    assert "num_base" in body["detail"]
    assert any("num_base" in error["loc"] for error in body["errors"])
    body = assert_problem(
        client.post("/v1/jobs", json={"kind": "generate", "params": {"num_base": 5000}}), 422
    )
    assert "5000" in body["detail"] and "1000" in body["detail"]


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/animate"])
@pytest.mark.parametrize("raw", ['{"kind": "generate",', "not json", '{"a": 1}}'])
def test_malformed_json_is_400(client: TestClient, path: str, raw: str) -> None:
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed-json")


BAD_ANIMATIONS = [
    ({"prompt": ""}, "invalid-request"),
    ({"prompt": "   "}, "invalid-params"),
    ({"prompt": "x" * 201}, "invalid-params"),
    ({}, "invalid-request"),
    ({"prompt": "walk", "duration": 0}, "invalid-request"),
    ({"prompt": "walk", "duration": 0.2}, "invalid-params"),
    ({"prompt": "walk", "duration": 4.5}, "invalid-params"),
    ({"prompt": "walk", "width": 32}, "invalid-params"),
    ({"prompt": "walk", "height": 4096}, "invalid-params"),
    ({"prompt": "walk", "width": 0}, "invalid-request"),
    ({"prompt": "walk", "width": 129, "height": 128}, "invalid-input"),  # odd MP4 width
    ({"prompt": "walk", "format": "avi"}, "invalid-request"),
    ({"prompt": "walk", "checkpoint": HEX}, "unknown-checkpoint"),
    ({"prompt": "walk", "checkpoint": "../../etc/passwd"}, "unknown-checkpoint"),
    ({"prompt": "walk", "seed": -1}, "invalid-request"),
    ({"prompt": "walk", "fps": 60}, "invalid-request"),
]


@pytest.mark.parametrize(("body", "slug"), BAD_ANIMATIONS)
def test_bad_animation_requests_are_problems(client: TestClient, body: dict, slug: str) -> None:
    assert_problem(client.post("/v1/animate", json=body), 422, slug)


def test_unknown_ids_routes_and_methods(client: TestClient) -> None:
    assert_problem(client.get(f"/v1/jobs/{HEX}"), 404, "unknown-job")
    assert_problem(client.post(f"/v1/jobs/{HEX}/cancel"), 404, "unknown-job")
    assert_problem(client.get("/v1/jobs/not-a-job"), 404, "unknown-job")
    assert_problem(client.get(f"/v1/datasets/{HEX}"), 404, "unknown-dataset")
    assert_problem(client.get(f"/v1/checkpoints/{HEX}"), 404, "unknown-checkpoint")
    assert_problem(client.get("/v1/nothing-here"), 404)
    assert_problem(client.delete("/v1/jobs"), 405)
    assert_problem(client.get("/v1/jobs", params={"limit": 0}), 422)
    assert_problem(client.get("/v1/jobs", params={"status": "sleeping"}), 422)


def test_procedural_animation_without_checkpoint(client: TestClient) -> None:
    response = client.post(
        "/v1/animate", json={"prompt": "a person waves", "duration": 1, "width": 64, "height": 64}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["x-stickgen-engine"] == "procedural"
    assert response.content[4:8] == b"ftyp"  # an MP4 container
    motion = client.post(
        "/v1/animate", json={"prompt": "a person waves", "duration": 1, "format": "json"}
    )
    assert motion.status_code == 200
    assert motion.headers["content-type"] == "application/json"
    assert json.loads(motion.content)


def test_animation_names_the_configured_text_model_of_a_checkpoint(
    tmp_path: Path, text_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint of the configured local text model is drawn with that folder; one of
    another model loads what it records."""
    from stickgen.embed.embedder import local_model_id

    calls: list[dict] = []

    def fake_animate(prompt: str, output: Path, **options):
        calls.append(options)
        output.write_bytes(b"{}")
        return type("Animation", (), {"engine": "model"})()

    monkeypatch.setattr("stickgen.animate.animate", fake_animate)
    settings = Settings(
        data_dir=tmp_path, embedding_model=str(text_model_path), reaper_interval_s=0
    )
    ids = {}
    with TestClient(create_app(settings)) as client:
        with session_scope(settings.db_url) as session:
            for name, model in (("own", local_model_id(text_model_path)), ("other", "x@0")):
                row = CheckpointRow(path=str(tmp_path / f"{name}.pt"), epoch=1, kind="last",
                                    embedding_model=model)  # fmt: skip
                session.add(row)
                session.flush()
                ids[name] = row.id
        for name in ("own", "other"):
            body = {"prompt": "a person waves", "checkpoint": ids[name], "format": "json"}
            assert client.post("/v1/animate", json=body).status_code == 200
    assert [call["text_model"] for call in calls] == [text_model_path.resolve(), None]
    assert settings.text_model_dir(None) is None
    production = Settings(embedding_model="BAAI/bge-large-en-v1.5")
    assert production.text_model_dir(local_model_id(text_model_path)) is None  # a hub name
    # the default is the bundled model, found where the package installed it
    assert Settings().text_model_dir(local_model_id(text_model_path)) == text_model_path.resolve()


def test_api_key_guards_everything_but_health(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_key="s3cret", reaper_interval_s=0)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert_problem(client.get("/v1/jobs"), 401, "unauthorized")
        assert_problem(client.get("/v1/jobs", headers={"X-API-Key": "wrong"}), 401)
        assert_problem(client.post("/v1/animate", json={"prompt": "walk"}), 401)
        assert_problem(client.get("/v1/checkpoints"), 401)
        assert client.get("/v1/jobs", headers={"X-API-Key": "s3cret"}).status_code == 200
        created = client.post("/v1/jobs", json=GENERATE, headers={"X-API-Key": "s3cret"})
        assert created.status_code == 202


def test_job_creation_commits_then_enqueues(client: TestClient, api_settings: Settings) -> None:
    response = client.post("/v1/jobs", json=GENERATE)
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "queued" and job["progress"] == 0.0
    assert job["params"]["num_base"] == 10 and job["params"]["shards"] == 1
    assert client.get(f"/v1/jobs/{job['id']}").json()["id"] == job["id"]
    messages = list((api_settings.broker_dir / "queue").iterdir())
    assert len(messages) == 1  # one message in the serverless broker, naming the job
    assert job["id"] in messages[0].read_text()


def test_idempotency_key_returns_the_same_job(client: TestClient) -> None:
    first = client.post("/v1/jobs", json=GENERATE, headers={"Idempotency-Key": "abc-1"})
    again = client.post("/v1/jobs", json=GENERATE, headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert client.get("/v1/jobs").json()["total"] == 1
    other = {"kind": "generate", "params": {"num_base": 11}}
    assert_problem(
        client.post("/v1/jobs", json=other, headers={"Idempotency-Key": "abc-1"}),
        409,
        "idempotency-key-reused",
    )
    fresh = client.post("/v1/jobs", json=GENERATE, headers={"Idempotency-Key": "abc-2"})
    assert fresh.json()["id"] != first.json()["id"]


def test_listing_filters_and_pages(client: TestClient) -> None:
    ids = [client.post("/v1/jobs", json=GENERATE).json()["id"] for _ in range(3)]
    pipeline = client.post(
        "/v1/jobs",
        json={"kind": "pipeline", "params": {"generate": {"num_base": 4},
                                              "train": {"preset": "tiny", "epochs": 1}}},
    ).json()  # fmt: skip
    phases = [phase.kind for phase in PHASES]  # the library's pipeline, one step per phase
    everything = client.get("/v1/jobs").json()
    assert everything["total"] == 3 + 1 + len(phases)  # 3 generate + pipeline + its steps
    generate = client.get("/v1/jobs", params={"kind": "generate"}).json()
    assert generate["total"] == 4
    steps = client.get("/v1/jobs", params={"parent_id": pipeline["id"]}).json()
    assert [s["kind"] for s in sorted(steps["items"], key=lambda s: s["step"])] == phases
    assert all(s["parent_id"] == pipeline["id"] for s in steps["items"])
    first = client.get("/v1/jobs", params={"kind": "generate", "limit": 3}).json()
    rest = client.get("/v1/jobs", params={"kind": "generate", "limit": 3, "offset": 3}).json()
    assert len(first["items"]) == 3 and len(rest["items"]) == 1
    assert first["total"] == rest["total"] == 4
    seen = {j["id"] for j in first["items"]} | {j["id"] for j in rest["items"]}
    assert set(ids) < seen and len(seen) == 4
    stamps = [j["created_at"] for j in first["items"]]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    assert client.get("/v1/jobs", params={"status": "running"}).json()["total"] == 0


def test_cancel_queued_jobs_and_pipelines(client: TestClient, api_settings: Settings) -> None:
    job = client.post("/v1/jobs", json=GENERATE).json()
    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 202
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finished_at"]
    assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202  # already cancelled

    pipeline = client.post(
        "/v1/jobs",
        json={"kind": "pipeline", "params": {"generate": {"num_base": 4},
                                              "train": {"preset": "tiny", "epochs": 1}}},
    ).json()  # fmt: skip
    assert client.post(f"/v1/jobs/{pipeline['id']}/cancel").json()["status"] == "cancelled"
    steps = client.get("/v1/jobs", params={"parent_id": pipeline["id"]}).json()["items"]
    assert {s["status"] for s in steps} == {"cancelled"}

    done = client.post("/v1/jobs", json=GENERATE).json()
    with session_scope(api_settings.db_url) as session:
        session.get(Job, done["id"]).status = "succeeded"
    assert_problem(client.post(f"/v1/jobs/{done['id']}/cancel"), 409, "job-finished")


def test_datasets_and_checkpoints_are_listed_by_id(
    client: TestClient, api_settings: Settings
) -> None:
    with session_scope(api_settings.db_url) as session:
        dataset = DatasetRow(name="d", path="/srv/d", samples=5, manifest={"frames": 250})
        session.add(dataset)
        session.flush()
        for epoch, kind in ((1, "last"), (1, "best")):
            session.add(CheckpointRow(path=f"/srv/{kind}.pt", epoch=epoch, kind=kind,
                                   metrics={"val_loss": 0.5}, dataset_id=dataset.id))  # fmt: skip
        session.flush()
        dataset_id = dataset.id
        best_id = session.scalar(select(CheckpointRow.id).where(CheckpointRow.kind == "best"))
    listed = client.get("/v1/datasets").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == dataset_id
    assert "path" not in listed["items"][0]
    assert client.get("/v1/datasets", params={"embedded": True}).json()["total"] == 0
    checkpoints = client.get("/v1/checkpoints", params={"kind": "best"}).json()
    assert [c["id"] for c in checkpoints["items"]] == [best_id]
    one = client.get(f"/v1/checkpoints/{best_id}").json()
    assert one["metrics"] == {"val_loss": 0.5} and "path" not in one
    # training a dataset without embeddings is refused up front
    body = {"kind": "train", "params": {"dataset_id": dataset_id, "epochs": 1}}
    problem = assert_problem(client.post("/v1/jobs", json=body), 422, "invalid-params")
    assert "embed" in problem["detail"]


def test_compose_mode_refuses_an_out_of_date_schema(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, auto_migrate=False, reaper_interval_s=0)
    app = create_app(settings)
    with pytest.raises(RuntimeError, match="alembic upgrade head"), TestClient(app):
        pass
    upgrade_to_head(settings.db_url)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200


def test_openapi_documents_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/cancel", "/v1/datasets",
                 "/v1/checkpoints", "/v1/checkpoints/{checkpoint_id}", "/v1/animate",
                 "/healthz", "/readyz"):  # fmt: skip
        assert path in paths, path
    create = paths["/v1/jobs"]["post"]
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {"pipeline", "generate", "embed", "train", "evaluate"}
    assert "application/problem+json" in create["responses"]["422"]["content"]
    animate = paths["/v1/animate"]["post"]["responses"]["200"]["content"]
    assert {"video/mp4", "image/gif", "application/json"} <= set(animate)
    assert "APIKeyHeader" in schema["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_openapi_contract_names_problems_operations_and_version(client: TestClient) -> None:
    from importlib.metadata import version

    schema = client.get("/openapi.json").json()
    assert schema["info"]["version"] == version("stick-gen")
    operations = {
        op["operationId"]: (method, path)
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }
    assert operations["create_job"] == ("post", "/v1/jobs")
    assert operations["get_checkpoint"] == ("get", "/v1/checkpoints/{checkpoint_id}")
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, item in schema["paths"].items():
        for op in item.values():
            for status, response in op["responses"].items():
                if status[0] in "45" and path != "/readyz":  # readiness answers with its report
                    assert response["content"] == {"application/problem+json": {"schema": problem}}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    # and the server sends what it documents
    answer = client.post("/v1/jobs", json={"kind": "generate", "params": {"num_base": 0}})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
