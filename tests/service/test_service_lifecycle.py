"""Artefact lifecycle through the API: DELETE removes rows and files and refuses what is in use
(on SQLite and PostgreSQL), epoch checkpoint retention, orphan clean-up and the model export."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_harness import postgres_database
from test_service_api import assert_problem

from app.main import create_app
from jobcore.cleanup import remove_orphans
from jobcore.db import session_scope
from jobcore.models import CheckpointRow, DatasetRow, Job
from jobcore.settings import Settings
from worker.records import drop_pruned_epochs


@pytest.fixture(params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    """The API without a worker on either database."""
    values: dict = {"data_dir": tmp_path / "data", "reaper_interval_s": 0}
    drop = None
    if request.param == "postgres":
        database = postgres_database()
        if isinstance(database, str):
            pytest.skip(database)
        values["database_url"], drop = database
    settings = Settings(**values)
    try:
        with TestClient(create_app(settings)) as client:
            yield client, settings
    finally:
        if drop is not None:
            drop()


def add(settings: Settings, row):
    with session_scope(settings.db_url) as session:
        session.add(row)
        session.flush()
        return row.id


def set_status(settings: Settings, job_id: str, status: str) -> None:
    with session_scope(settings.db_url) as session:
        session.get(Job, job_id).status = status


def dataset(settings: Settings, job_id: str) -> tuple[str, Path]:
    folder = settings.datasets_dir / job_id
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    row = DatasetRow(name="d", path=str(folder), samples=4, job_id=job_id, embedding_model="m@1")
    return add(settings, row), folder


def checkpoint(settings: Settings, job_id: str, kind: str, dataset_id: str) -> tuple[str, Path]:
    path = settings.checkpoints_dir / job_id / "attempt-1" / f"{kind}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"weights")
    row = CheckpointRow(path=str(path), epoch=1, kind=kind, job_id=job_id, dataset_id=dataset_id)
    return add(settings, row), path


def test_delete_removes_rows_and_files_and_refuses_what_is_in_use(api) -> None:
    client, settings = api
    make = add(settings, Job(kind="generate", status="succeeded", params={"num_base": 10}))
    data_id, data_dir = dataset(settings, make)
    train = add(settings, Job(kind="train", status="succeeded", params={"dataset_id": data_id}))
    best_id, best = checkpoint(settings, train, "best", data_id)
    last_id, last = checkpoint(settings, train, "last", data_id)
    scoring = add(settings, Job(kind="evaluate", status="running",
                                params={"checkpoint": best_id, "dataset": data_id}))  # fmt: skip

    # a running evaluation uses the dataset and the checkpoint (and so the jobs that made them)
    for path in (f"/v1/datasets/{data_id}", f"/v1/checkpoints/{best_id}", f"/v1/jobs/{train}"):
        problem = assert_problem(client.delete(path), 409, "in-use")
        assert f"evaluate job {scoring} is running" in problem["detail"]
    problem = assert_problem(client.delete(f"/v1/jobs/{scoring}"), 409, "in-use")
    assert "cancel it first" in problem["detail"]
    assert best.is_file() and data_dir.is_dir()

    # once it ended it goes with its files and the evaluation it stored; again: 404
    set_status(settings, scoring, "succeeded")
    with session_scope(settings.db_url) as session:
        session.get(CheckpointRow, best_id).evaluation = {"job_id": scoring, "systems": {}}
    (settings.data_path / "evaluations" / scoring / "attempt-1").mkdir(parents=True)
    assert client.delete(f"/v1/jobs/{scoring[:8]}").status_code == 204
    assert not (settings.data_path / "evaluations" / scoring).exists()
    assert client.get(f"/v1/checkpoints/{best_id}").json()["evaluation"] is None
    assert_problem(client.get(f"/v1/jobs/{scoring}"), 404, "unknown-job")
    assert_problem(client.delete(f"/v1/jobs/{scoring}"), 404, "unknown-job")

    # a checkpoint goes with its file; the last one of a run takes the run's folder with it
    assert client.delete(f"/v1/checkpoints/{best_id}").status_code == 204
    assert not best.exists() and last.is_file()
    assert_problem(client.delete(f"/v1/checkpoints/{best_id}"), 404, "unknown-checkpoint")
    assert client.delete(f"/v1/checkpoints/{last_id}").status_code == 204
    assert not (settings.checkpoints_dir / train).exists()

    # a training that runs may still write its checkpoints and reads its dataset
    running = add(settings, Job(kind="train", status="running", params={"dataset_id": data_id}))
    current_id, _ = checkpoint(settings, running, "last", data_id)
    problem = assert_problem(client.delete(f"/v1/checkpoints/{current_id}"), 409, "in-use")
    assert f"train job {running} is running and may still write" in problem["detail"]
    assert_problem(client.delete(f"/v1/datasets/{data_id}"), 409, "in-use")
    set_status(settings, running, "failed")
    assert client.delete(f"/v1/datasets/{data_id}").status_code == 204
    assert not data_dir.exists()
    assert client.get(f"/v1/checkpoints/{current_id}").json()["dataset_id"] is None  # stays
    assert_problem(client.get(f"/v1/datasets/{data_id}"), 404, "unknown-dataset")


def test_deleting_a_pipeline_deletes_its_steps_and_what_they_made(api) -> None:
    client, settings = api
    pipeline = add(settings, Job(kind="pipeline", status="running", params={}))
    step = add(settings, Job(kind="generate", status="succeeded", params={}, parent_id=pipeline,
                             step=0))  # fmt: skip
    data_id, data_dir = dataset(settings, step)
    problem = assert_problem(client.delete(f"/v1/datasets/{data_id}"), 409, "in-use")
    assert f"pipeline job {pipeline} is running and may still write" in problem["detail"]
    problem = assert_problem(client.delete(f"/v1/jobs/{step}"), 409, "in-use")
    assert f"step of job {pipeline}" in problem["detail"]
    set_status(settings, pipeline, "cancelled")
    assert client.delete(f"/v1/jobs/{pipeline}").status_code == 204
    assert not data_dir.exists()
    assert client.get("/v1/jobs").json()["total"] == 0
    assert client.get("/v1/datasets").json()["total"] == 0


def test_pruned_epoch_rows_go_and_orphan_folders_are_cleaned(api) -> None:
    client, settings = api
    train = add(settings, Job(kind="train", status="running", params={}))
    kept, pruned = (settings.checkpoints_dir / train / f"checkpoint_epoch_{n}.pt" for n in (2, 1))
    for epoch, path in ((2, kept), (1, pruned)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"w")
        add(settings, CheckpointRow(path=str(path), epoch=epoch, kind="epoch", job_id=train))
    pruned.unlink()  # the trainer's retention
    with session_scope(settings.db_url) as session:
        assert drop_pruned_epochs(session, train) == 1
    epochs = client.get("/v1/checkpoints", params={"kind": "epoch"}).json()["items"]
    assert [row["epoch"] for row in epochs] == [2]

    gone_job = settings.checkpoints_dir / ("f" * 32)
    orphan = settings.datasets_dir / "orphan"
    make = add(settings, Job(kind="generate", status="succeeded", params={}))
    _, listed = dataset(settings, make)
    for folder in (gone_job, orphan):
        folder.mkdir(parents=True)
    for folder in (gone_job, orphan, listed, kept.parent):
        os.utime(folder, (1, 1))
    assert remove_orphans(settings) == 2
    assert not gone_job.exists() and not orphan.exists()
    assert listed.is_dir() and kept.is_file()


def test_train_jobs_keep_the_servers_number_of_epoch_checkpoints(tmp_path: Path) -> None:
    from stickgen.train import TrainConfig

    assert Settings().keep_epoch_checkpoints == TrainConfig().keep_epoch_checkpoints
    settings = Settings(data_dir=tmp_path, reaper_interval_s=0, keep_epoch_checkpoints=5)
    with TestClient(create_app(settings)) as client:
        data = DatasetRow(name="d", path=str(tmp_path / "d"), samples=8, embedding_model="m@1",
                          manifest={"splits": {"train": 6, "val": 2}})  # fmt: skip
        data_id = add(settings, data)
        body = {"kind": "train", "params": {"dataset_id": data_id, "epochs": 1}}
        assert client.post("/v1/jobs", json=body).json()["params"]["keep_epoch_checkpoints"] == 5
        body["params"]["keep_epoch_checkpoints"] = 0
        assert client.post("/v1/jobs", json=body).json()["params"]["keep_epoch_checkpoints"] == 0


def test_a_checkpoint_downloads_as_an_export_that_draws_the_same_clip(
    tmp_path: Path, text_model_path: Path
) -> None:
    from tiny_motion_data import embed_tiny_dataset, write_tiny_dataset

    from stickgen.infer import read_generator
    from stickgen.schema import Scene
    from stickgen.train import TrainConfig, train

    data = embed_tiny_dataset(write_tiny_dataset(tmp_path / "tiny", 16, 50), text_model_path)
    config = TrainConfig(preset="tiny", epochs=1, batch_size=8, accumulate=1, warmup_epochs=1,
                         precision="fp32")  # fmt: skip
    best = train(data, tmp_path / "run", config, threads=1).best_checkpoint
    settings = Settings(data_dir=tmp_path / "data", reaper_interval_s=0)
    with TestClient(create_app(settings)) as client:
        row = CheckpointRow(path=str(best), epoch=1, kind="best", embedding_model="m",
                            evaluation={"systems": {"checkpoint": {"metrics": {
                                "fid": {"mean": 1.25}}}}})  # fmt: skip
        checkpoint_id = add(settings, row)
        answer = client.get(f"/v1/checkpoints/{checkpoint_id}/export")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/zip"
        assert_problem(client.get(f"/v1/checkpoints/{'0' * 32}/export"), 404)
    name = f"stickgen-{checkpoint_id[:8]}-best"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as zipped:
        names = set(zipped.namelist())
        zipped.extractall(tmp_path / "download")
    assert names == {f"{name}/{f}" for f in ("README.md", "config.json", "model.safetensors")}
    folder = tmp_path / "download" / name
    assert "| checkpoint | 1.2500 |" in (folder / "README.md").read_text()
    assert not any(settings.temp_dir.iterdir())  # the export's scratch folder went
    scene = Scene(description="a person waves", actors=[], duration=2.0)
    direct = read_generator(best, device="cpu").generate(scene, seed=4)
    exported = read_generator(folder, device="cpu").generate(scene, seed=4)
    assert np.array_equal(direct.motion, exported.motion)
