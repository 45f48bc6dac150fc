"""End to end through HTTP against a real worker process: SQLite + filesystem broker always,
Postgres + Redis when they answer locally. Module-scoped: later tests reuse the pipeline's
dataset."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
from service_harness import TINY_TRAIN, Service

from jobcore import flow, jobs
from jobcore.db import session_scope
from jobcore.models import JobKind, JobStatus
from stickgen.pipeline import PHASES
from stickgen.train import load_checkpoint

STATE: dict[str, dict] = {}


def _pipeline(service: Service) -> dict:
    if service.name not in STATE:
        job = service.create(
            "pipeline",
            {
                "generate": {"num_base": 40, "seed": 5},
                "embed": {"batch_size": 64},
                "train": {**TINY_TRAIN, "epochs": 2, "spectrum_weight": 0.5},
            },
        )
        STATE[service.name] = service.wait(job["id"], timeout_s=180)
    return STATE[service.name]


def read_video(content: bytes, folder: Path) -> np.ndarray:
    """Decode an MP4 with imageio's ffmpeg reader: frames [N, H, W, 3]."""
    path = folder / "video.mp4"
    path.write_bytes(content)
    with imageio.get_reader(path, "ffmpeg") as reader:
        return np.stack([frame for frame in reader.iter_data()])


def test_pipeline_produces_dataset_checkpoint_and_video(service: Service, tmp_path: Path) -> None:
    pipeline = _pipeline(service)
    assert pipeline["status"] == "succeeded", pipeline["error"]
    assert pipeline["progress"] == pytest.approx(1.0)

    steps = service.client.get("/v1/jobs", params={"parent_id": pipeline["id"]}).json()
    items = sorted(steps["items"], key=lambda step: step["step"])
    # the library's pipeline, one child job per phase, each started after the last one ended
    assert [step["kind"] for step in items] == [phase.kind for phase in PHASES]
    assert all(step["status"] == "succeeded" for step in items), items
    assert all(a["finished_at"] <= b["started_at"] for a, b in itertools.pairwise(items))
    assert pipeline["result"]["steps"] == {
        phase.name: step["id"] for phase, step in zip(PHASES, items, strict=True)
    }
    by_kind = {step["kind"]: step for step in items}

    dataset_id = pipeline["result"]["dataset_id"]
    dataset = service.client.get(f"/v1/datasets/{dataset_id}").json()
    assert dataset["samples"] == 200  # 40 base scenes, 4 augmentations each
    assert dataset["embedding_model"]
    assert dataset["manifest"]["embedding"]["dim"] == 384
    assert dataset["job_id"] == by_kind["generate"]["id"]
    assert "path" not in dataset  # files are never exposed by path

    checkpoint_id = pipeline["result"]["checkpoint_id"]
    checkpoint = service.client.get(f"/v1/checkpoints/{checkpoint_id}").json()
    assert checkpoint["job_id"] == by_kind["train"]["id"]
    assert checkpoint["dataset_id"] == dataset_id
    assert checkpoint["embedding_model"] == dataset["embedding_model"]
    for metric in ("train_loss", "val_loss", "val_smoothness", "val_position"):
        assert np.isfinite(checkpoint["metrics"][metric]), metric
    assert 0.0 <= checkpoint["metrics"]["val_action_accuracy"] <= 1.0
    assert by_kind["train"]["result"]["epochs_completed"] == 2
    saved = load_checkpoint(service.checkpoint_file(by_kind["train"]["id"]))
    assert saved["config"]["train"]["loss_weights"]["spectrum"] == 0.5  # the step's weight
    if service.settings.train_processes > 1:  # data-parallel ranks ended with equal weights
        assert saved["metrics"]["weights_spread"] == 0.0
    listed = service.checkpoints(job_id=by_kind["train"]["id"])
    assert {row["kind"] for row in listed} >= {"last", "best"}

    response = service.client.post(
        "/v1/animate",
        json={"prompt": "a person walking then waving", "duration": 3, "seed": 1,
              "checkpoint": checkpoint_id, "width": 256, "height": 192},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["x-stickgen-engine"] == "model"
    frames = read_video(response.content, tmp_path)
    assert frames.ndim == 4 and frames.shape[1:3] == (192, 256)
    assert abs(frames.shape[0] - 75) <= 2  # 3 s at 25 fps
    assert frames.std() > 1.0  # something was drawn


def test_a_pipeline_fails_a_corrupted_dataset_at_validation(service: Service) -> None:
    """The generate step "made" a dataset whose files were damaged afterwards: the validation
    child fails the pipeline before anything is embedded or trained."""
    made = service.create("generate", {"num_base": 8, "augment": False, "seed": 2})
    dataset_id = service.wait(made["id"])["result"]["dataset_id"]
    motion = service.settings.datasets_dir / made["id"] / "motion.npy"
    damaged = bytearray(motion.read_bytes())
    damaged[-64:] = b"\xff" * 64  # NaN floats in the last clip
    motion.write_bytes(bytes(damaged))
    body = {"generate": {"num_base": 8}, "train": {"epochs": 1}}
    with session_scope(service.settings.db_url) as session:
        pipeline = flow.create_job(session, JobKind.PIPELINE, {**body, "embed": {}})
        generate = jobs.children(session, pipeline.id)[0]
        generate_id, pipeline_id = generate.id, pipeline.id
        jobs.finish(session, generate_id, None, JobStatus.SUCCEEDED,
                    result={"dataset_id": dataset_id})  # fmt: skip
    flow.advance(service.settings, service.client.app.state.dispatcher, pipeline_id)
    done = service.wait(pipeline_id, timeout_s=60)
    assert done["status"] == "failed"
    assert "validate step failed: dataset validation (validate data) failed" in done["error"]
    assert "clips with NaN/inf" in done["error"]
    kids = service.client.get("/v1/jobs", params={"parent_id": pipeline_id}).json()["items"]
    status = {kid["step"]: kid["status"] for kid in kids}
    assert status[1] == "failed" and {status[2], status[4]} == {"cancelled"}


def test_cancel_running_training_stops_within_seconds(service: Service) -> None:
    dataset_id = _pipeline(service)["result"]["dataset_id"]
    job = service.create("train", {**TINY_TRAIN, "dataset_id": dataset_id, "epochs": 100})
    service.wait(job["id"], lambda j: j["status"] == "running" and j["progress"] > 0, 60)

    response = service.client.post(f"/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 202
    assert response.json()["cancel_requested"] is True
    asked = time.monotonic()
    ended = service.wait(job["id"], timeout_s=30, poll_s=0.05)
    took = time.monotonic() - asked
    assert ended["status"] == "cancelled", ended
    assert took < 15.0, f"cancel took {took:.1f} s"  # one optimizer step, even on a busy CPU
    # it kept its last checkpoint, saved when it stopped, unless no epoch had ended yet
    last = service.checkpoints(job_id=job["id"], kind="last")
    assert len(last) <= 1 and all(row["epoch"] >= 1 for row in last), last


def test_killed_worker_job_resumes_from_checkpoint(service: Service) -> None:
    dataset_id = _pipeline(service)["result"]["dataset_id"]
    job = service.create("train", {**TINY_TRAIN, "dataset_id": dataset_id, "epochs": 4})
    # wait for the end-of-epoch checkpoint, then kill the worker mid-run (no warm shutdown)
    deadline = time.monotonic() + 90
    while not service.checkpoints(job_id=job["id"], kind="last"):
        assert time.monotonic() < deadline, service.worker.log_tail()
        time.sleep(0.05)
    service.worker.kill()
    killed = service.job(job["id"])
    assert killed["status"] == "running", "the job finished before the kill: make it longer"
    assert killed["attempts"] == 1

    service.worker.start()
    done = service.wait(job["id"], timeout_s=120)
    assert done["status"] == "succeeded", done["error"]
    assert done["attempts"] == 2
    assert done["result"]["resumed_from_epoch"] >= 1
    assert done["result"]["epochs_completed"] == 4
    assert [row["epoch"] for row in done["result"]["history"]] == [1, 2, 3, 4]
    # nothing is left running
    running = service.client.get("/v1/jobs", params={"status": "running"}).json()
    assert running["total"] == 0, running


def test_sharded_generate_fans_out_and_merges(service: Service) -> None:
    job = service.create("generate", {"num_base": 300, "seed": 9, "augment": False, "shards": 3})
    done = service.wait(job["id"], timeout_s=120)
    assert done["status"] == "succeeded", done["error"]
    shards = service.client.get("/v1/jobs", params={"parent_id": job["id"]}).json()["items"]
    assert sorted(s["step"] for s in shards) == [0, 1, 2]
    assert all(s["kind"] == "generate_shard" and s["status"] == "succeeded" for s in shards)
    assert all(s["finished_at"] <= done["finished_at"] for s in shards)  # merged after the group
    dataset = service.client.get(f"/v1/datasets/{done['result']['dataset_id']}").json()
    assert dataset["samples"] == 300
