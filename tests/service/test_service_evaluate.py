"""The `evaluate` job kind through HTTP against a real worker process: a tiny pipeline makes a
dataset and a checkpoint, an evaluate job scores it with the smallest protocol, and the result
lands on the checkpoint row (`GET /v1/checkpoints/{id}` -> `evaluation`)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import numpy as np
import pytest
from service_harness import Service

TINY_PIPELINE = {
    "generate": {"num_base": 40, "seed": 5},  # 200 clips, 10 of them in the test split
    "embed": {"batch_size": 64},
    "train": {"preset": "tiny", "epochs": 1, "batch_size": 16, "accumulate": 1, "seed": 3,
              "max_train_samples": 32, "max_val_samples": 8},
}  # fmt: skip
SMALL_PROTOCOL: dict[str, Any] = {
    "repeats": 2,
    "pool_size": 4,
    "diversity_pairs": 20,
    "mm_prompts": 2,
    "mm_generations": 2,
    "mm_pairs": 1,
    "include_augmented": True,  # the tiny dataset's test split has only 2 original clips
    "baselines": False,
    "evaluator_epochs": 1,
    "seed": 4,
}
STATE: dict[str, dict[str, Any]] = {}


def _trained(service: Service) -> dict[str, Any]:
    """The tiny pipeline's job (dataset and checkpoint ids in its result), run once per backend."""
    if service.name not in STATE:
        job = service.create("pipeline", TINY_PIPELINE)
        STATE[service.name] = service.wait(job["id"], timeout_s=180)
    pipeline = STATE[service.name]
    assert pipeline["status"] == "succeeded", pipeline["error"]
    return pipeline["result"]


def _evaluated(service: Service) -> dict[str, Any]:
    """The evaluate job of the trained checkpoint, run once per backend."""
    key = f"{service.name}-evaluate"
    if key not in STATE:
        job = service.create("evaluate", {"checkpoint": _trained(service)["checkpoint_id"],
                                          **SMALL_PROTOCOL})  # fmt: skip
        STATE[key] = service.wait(job["id"], timeout_s=180)
    return STATE[key]


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_evaluate_job_stores_the_result_on_the_checkpoint(service: Service) -> None:
    trained = _trained(service)
    checkpoint_id, dataset_id = trained["checkpoint_id"], trained["dataset_id"]
    job = _evaluated(service)
    assert job["status"] == "succeeded", f"{job['error']}\n{service.worker.log_tail()}"
    assert job["kind"] == "evaluate" and job["progress"] == pytest.approx(1.0)
    assert job["params"]["dataset"] == dataset_id  # defaulted to the checkpoint's dataset
    assert job["params"]["precision"] == "fp32"  # figures comparable across machines

    response = service.client.get(f"/v1/checkpoints/{checkpoint_id}")
    assert response.status_code == 200
    assert str(service.settings.data_path) not in response.text  # no server paths leak
    evaluation = response.json()["evaluation"]
    assert evaluation["job_id"] == job["id"] and evaluation["dataset_id"] == dataset_id
    assert evaluation["protocol"]["repeats"] == 2 and evaluation["protocol"]["pool_size"] == 4
    assert evaluation["protocol"]["seed"] == 4
    assert evaluation["dataset"]["samples"] >= 4  # at least one R-precision pool
    assert evaluation["evaluator"]["same_dataset"] is True
    assert evaluation["evaluator"]["training"]["epochs"] == 1

    rows = evaluation["systems"]
    (name,) = [n for n, row in rows.items() if row["kind"] == "checkpoint"]
    assert set(rows) == {"ground truth", name}
    assert rows["ground truth"]["kind"] == "reference"
    # its MiniLM is not the evaluator's text side: no shared-model warning
    assert not any("text model" in w.lower() for w in rows[name]["warnings"])
    keys = {metric["key"] for metric in evaluation["metrics"]}
    for row in rows.values():
        assert set(row["metrics"]) == keys
        for key in ("r_precision_top1", "r_precision_top3", "action_accuracy"):
            assert 0.0 <= row["metrics"][key]["mean"] <= 1.0, (key, row["metrics"][key])
        assert np.isfinite(row["metrics"]["mm_dist"]["mean"])
    truth = rows["ground truth"]["metrics"]
    assert truth["fid"]["mean"] == pytest.approx(0.0, abs=1e-6)  # the reference against itself
    assert truth["diversity"]["mean"] > 0.0

    # the files the job names are in place and hold the same numbers
    result = job["result"]
    assert result["checkpoint_id"] == checkpoint_id and result["dataset_id"] == dataset_id
    assert result["files"]["json"] == f"evaluations/{job['id']}/attempt-1/evaluation.json"
    written = json.loads((service.settings.data_path / result["files"]["json"]).read_text())
    assert (service.settings.data_path / result["files"]["markdown"]).is_file()
    assert list(written["systems"]) == result["systems"] == list(rows)
    assert written["systems"]["ground truth"] == rows["ground truth"]
    assert written["systems"][name]["metrics"] == rows[name]["metrics"]
    assert result["test_samples"] == evaluation["dataset"]["samples"]
    assert result["summary"]["ground truth"]["r_precision_top1"] == pytest.approx(
        truth["r_precision_top1"]["mean"]
    )
    assert set(result["summary"]) == {"ground truth", name}

    # only the evaluated checkpoint carries it, in the list as in the detail
    listed = {row["id"]: row for row in service.checkpoints(job_id=_train_step_id(service))}
    assert listed[checkpoint_id]["evaluation"] == evaluation
    assert all(row["evaluation"] is None for cid, row in listed.items() if cid != checkpoint_id)


def _train_step_id(service: Service) -> str:
    """The pipeline's train step id."""
    steps = service.client.get("/v1/jobs", params={"parent_id": STATE[service.name]["id"]})
    (train,) = [step for step in steps.json()["items"] if step["kind"] == "train"]
    return train["id"]


def test_refusals_come_before_any_work(service: Service) -> None:
    """A pool larger than the test split: 422 at once, nothing queued. (A checkpoint on
    MiniLM is no refusal: the evaluator reads prompts with its own word encoder.)"""
    trained = _trained(service)
    checkpoint_id = trained["checkpoint_id"]
    earlier = _evaluated(service)
    before = service.client.get("/v1/jobs", params={"kind": "evaluate"}).json()["total"]

    def post(params: dict[str, Any]) -> httpx.Response:
        return service.client.post("/v1/jobs", json={"kind": "evaluate", "params": params})

    prompts = (service.client.get(f"/v1/datasets/{trained['dataset_id']}").json())["manifest"]
    too_big = {**SMALL_PROTOCOL, "checkpoint": checkpoint_id, "pool_size": 256}
    detail = _problem(post(too_big), 422)["detail"]
    assert "pool_size 256 exceeds the" in detail and "test prompts" in detail, prompts
    after = service.client.get("/v1/jobs", params={"kind": "evaluate"}).json()["total"]
    assert after == before  # nothing was queued
    stored = service.client.get(f"/v1/checkpoints/{checkpoint_id}").json()["evaluation"]
    assert stored["job_id"] == earlier["id"]
    # an id prefix of 8 characters names the checkpoint as well as its full id (the refusal
    # names the checkpoint's own dataset, so the prefix was resolved; nothing is queued)
    by_prefix = {**too_big, "checkpoint": checkpoint_id[:8]}
    assert f"dataset {trained['dataset_id'][:8]}" in _problem(post(by_prefix), 422)["detail"]
    assert service.client.get("/v1/jobs", params={"kind": "evaluate"}).json()["total"] == before


def test_bad_evaluate_params_are_problems(service: Service) -> None:
    trained = _trained(service)
    checkpoint_id = trained["checkpoint_id"]

    def post(params: dict[str, Any]) -> httpx.Response:
        return service.client.post("/v1/jobs", json={"kind": "evaluate", "params": params})

    before = service.client.get("/v1/jobs", params={"kind": "evaluate"}).json()["total"]
    problem = _problem(post({"checkpoint": "f" * 32}), 422)
    assert problem["type"].endswith("unknown-checkpoint")
    problem = _problem(post({"checkpoint": checkpoint_id, "dataset": "e" * 32}), 422)
    assert "unknown dataset" in problem["detail"]
    for params in (
        {},  # no checkpoint
        {"checkpoint": "../../etc/passwd"},  # ids only, never paths
        {"checkpoint": checkpoint_id, "path": "/tmp/x.pt"},  # unknown field
        {"checkpoint": checkpoint_id, "repeats": 0},
        {"checkpoint": checkpoint_id, "repeats": 21},
        {"checkpoint": checkpoint_id, "pool_size": 1},
        {"checkpoint": checkpoint_id, "mm_generations": 1},
        {"checkpoint": checkpoint_id, "evaluator_epochs": 10_000},
        {"checkpoint": checkpoint_id, "seed": -1},
        {"checkpoint": checkpoint_id, "precision": "half"},
    ):
        _problem(post(params), 422)
    problem = _problem(post({"checkpoint": checkpoint_id, "repeats": 2, "mm_repeats": 3}), 422)
    assert "mm_repeats" in problem["detail"]
    after = service.client.get("/v1/jobs", params={"kind": "evaluate"}).json()["total"]
    assert after == before  # nothing was queued


def test_cancel_running_evaluation_stops_within_seconds(service: Service) -> None:
    checkpoint_id = _trained(service)["checkpoint_id"]
    # another evaluator recipe (not cached yet): a long evaluator training to interrupt
    params = {**SMALL_PROTOCOL, "checkpoint": checkpoint_id, "evaluator_epochs": 100}
    job = service.create("evaluate", params)
    service.wait(job["id"], lambda j: j["status"] == "running" and j["progress"] > 0, 60)

    response = service.client.post(f"/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 202 and response.json()["cancel_requested"] is True
    asked = time.monotonic()
    ended = service.wait(job["id"], timeout_s=30, poll_s=0.05)
    took = time.monotonic() - asked
    assert ended["status"] == "cancelled", ended
    assert took < 10.0, f"cancel took {took:.1f} s"  # one evaluator training step
    assert not (service.settings.data_path / "evaluations" / job["id"]).exists()
    stored = service.client.get(f"/v1/checkpoints/{checkpoint_id}").json()["evaluation"]
    assert stored["job_id"] == _evaluated(service)["id"]  # the finished evaluation stays
