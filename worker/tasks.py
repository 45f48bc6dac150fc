"""Celery tasks: each one claims a job row and calls one `stickgen` function (no domain logic).

Messages carry only the job id; parameters are read from the row, which the API validated.
The library is imported here, in the worker's main process, so forked pool processes start warm.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobcore import dispatch, mocap_sources
from jobcore.db import session_scope
from jobcore.dispatch import Dispatcher
from jobcore.models import CheckpointRow, DatasetRow, Job
from jobcore.settings import get_settings
from stickgen.compute import available_cores
from stickgen.data.generate import generate_dataset
from stickgen.data.merge import merge_datasets
from stickgen.data.mocap.mix import generate_with_mocap, merge_with_mocap
from stickgen.data.store import Dataset
from stickgen.embed import embed_dataset
from stickgen.errors import StickGenError
from stickgen.evaluate import EvaluatorTraining, evaluate_checkpoints
from stickgen.pipeline import require_valid
from stickgen.train import TrainConfig
from stickgen.train import train as train_model
from worker import records
from worker.celery_app import celery_app
from worker.runner import JobRun, LostClaim

log = logging.getLogger(__name__)
HISTORY_KEYS = ("epoch", "step", "train_loss", "val_loss")


def _run(
    job_id: str, body: Callable[[JobRun], None], *, progress_span: tuple[float, float] = (0.0, 1.0)
) -> None:
    """Claim the job, run `body(run)` inside it; a lost claim means another execution has it."""
    settings = get_settings()
    dispatcher = Dispatcher(settings, celery_app)
    try:
        with JobRun(settings, dispatcher, job_id, progress_span=progress_span) as run:
            body(run)
    except LostClaim:
        log.info("job %s is not ours to run (taken, ended or cancelled); skipping", job_id)


def _dataset(run: JobRun) -> DatasetRow:
    dataset_id = run.job.params.get("dataset_id")
    with session_scope(run.settings.db_url) as session:
        row = session.get(DatasetRow, dataset_id) if dataset_id else None
    if row is None:
        raise StickGenError(f"unknown dataset {dataset_id!r}")
    return row


def _record_dataset(run: JobRun, path: Path, job_id: str) -> dict[str, Any]:
    with session_scope(run.settings.db_url) as session:
        row = records.upsert_dataset(session, path, name=f"dataset-{job_id[:8]}", job_id=job_id)
        return {"dataset_id": row.id, "samples": row.samples}


# -- generate ----------------------------------------------------------------------------------
def _mocap(run: JobRun) -> mocap_sources.MocapInputs | None:
    """The job's motion capture, resolved inside the configured folder (None when it has none)."""
    mocap = run.job.params.get("mocap")
    return mocap_sources.resolve(run.settings.mocap_path, mocap) if mocap else None


def _with_sources(result: dict[str, Any], path: Path) -> dict[str, Any]:
    """The job result plus samples per source when the dataset mixes several."""
    counts = Dataset(path).manifest.get("source_counts")
    return {**result, "sources": counts} if counts else result


def _generate_body(run: JobRun) -> None:
    params = run.job.params
    mocap = _mocap(run)  # checked before the long part
    out = run.settings.datasets_dir / run.job.id
    common = dict(
        augment=bool(params.get("augment", True)),
        seed=int(params.get("seed", 0)),
        workers=1,  # pool processes cannot fork; parallel work is sharded into tasks instead
        overwrite=True,
        progress=run.progress,
        should_stop=run.should_stop,
    )
    if mocap is None:
        path = generate_dataset(out, int(params["num_base"]), **common)
    else:
        path = generate_with_mocap(
            out, int(params["num_base"]), mocap.sources, body_model=mocap.body_model, **common
        )
    run.succeed(_with_sources(_record_dataset(run, Path(path), run.job.id), Path(path)))


@celery_app.task(name=dispatch.TASK_GENERATE)
def generate(job_id: str) -> None:
    """Generate a synthetic dataset in one piece."""
    _run(job_id, _generate_body)


def _shard_dir(settings: Any, parent_id: str, index: int) -> Path:
    return settings.work_dir / parent_id / f"shard-{index:03d}"


def _shard_body(run: JobRun) -> None:
    with session_scope(run.settings.db_url) as session:
        parent = session.get(Job, run.job.parent_id)
        assert parent is not None
        params = dict(parent.params)
    index, count = (int(v) for v in run.job.params["shard"])
    out = _shard_dir(run.settings, parent.id, index)
    generate_dataset(
        out,
        int(params["num_base"]),
        augment=bool(params.get("augment", True)),
        seed=int(params.get("seed", 0)),
        shard=(index, count),
        workers=1,
        overwrite=True,
        progress=run.progress,
        should_stop=run.should_stop,
    )
    run.succeed({"shard": [index, count]})


@celery_app.task(name=dispatch.TASK_GENERATE_SHARD)
def generate_shard(job_id: str) -> None:
    """Generate one shard of a sharded generate job (run as a group, one task per shard)."""
    _run(job_id, _shard_body)


def _merge_body(run: JobRun) -> None:
    count = dispatch.shard_count(run.job)
    sources = [_shard_dir(run.settings, run.job.id, i) for i in range(count)]
    out = run.settings.datasets_dir / run.job.id
    mocap = _mocap(run)
    if mocap is None:
        path = merge_datasets(sources, out, overwrite=True, progress=run.progress)
    else:
        path = merge_with_mocap(
            sources,
            mocap.sources,
            out,
            body_model=mocap.body_model,
            seed=int(run.job.params.get("seed", 0)),
            overwrite=True,
            progress=run.progress,
            should_stop=run.should_stop,
        )
    result = _with_sources(_record_dataset(run, Path(path), run.job.id), Path(path))
    shutil.rmtree(run.settings.work_dir / run.job.id, ignore_errors=True)
    run.succeed({**result, "shards": count})


@celery_app.task(name=dispatch.TASK_MERGE)
def merge(job_id: str) -> None:
    """The merge step of a sharded generate job, run once every shard has succeeded."""
    from jobcore.flow import SHARDS_SHARE

    _run(job_id, _merge_body, progress_span=(SHARDS_SHARE, 1.0))


# -- embed ---------------------------------------------------------------------------------------
def _embed_body(run: JobRun) -> None:
    dataset = _dataset(run)
    params = run.job.params
    summary = embed_dataset(
        dataset.path,
        model=params.get("model") or run.settings.embedding_model,
        batch_size=int(params.get("batch_size", 64)),
        device=run.settings.device,
        cache_dir=run.settings.data_path / "cache",
        progress=run.progress,
    )
    with session_scope(run.settings.db_url) as session:
        records.upsert_dataset(
            session, Path(dataset.path), name=dataset.name, job_id=dataset.job_id
        )
    keep = (
        "model",
        "dim",
        "pooling",
        "samples",
        "unique_texts",
        "encoded",
        "cache_hits",
        "seconds",
    )
    run.succeed({"dataset_id": dataset.id, **{k: summary[k] for k in keep if k in summary}})


@celery_app.task(name=dispatch.TASK_EMBED)
def embed(job_id: str) -> None:
    """Embed a dataset's descriptions with a text model (in place)."""
    _run(job_id, _embed_body)


# -- validate ------------------------------------------------------------------------------------
def _validate_body(run: JobRun) -> None:
    dataset = _dataset(run)
    report = require_valid(dataset.path, run.job.params["phase"], run.progress)
    warnings = [str(check) for check in report.warnings]
    run.succeed({"dataset_id": dataset.id, "checks": len(report.checks), "warnings": warnings})


@celery_app.task(name=dispatch.TASK_VALIDATE)
def validate(job_id: str) -> None:
    """Validate a pipeline's dataset between two phases (`stickgen.pipeline.require_valid`)."""
    _run(job_id, _validate_body)


# -- train ---------------------------------------------------------------------------------------
def _train_body(run: JobRun) -> None:
    dataset = _dataset(run)
    params = run.job.params
    out = run.settings.checkpoints_dir / run.job.id
    resume = (out / "last.pt").exists()  # a retried or reclaimed job continues where it was
    with session_scope(run.settings.db_url) as session:
        resumed_from = records.last_epoch(session, run.job.id) if resume else None

    def on_checkpoint(info: dict[str, Any]) -> None:
        with session_scope(run.settings.db_url) as session:
            records.upsert_checkpoint(session, info, job_id=run.job.id, dataset_id=dataset.id)

    config = TrainConfig.from_dict({k: v for k, v in params.items() if k != "dataset_id"})
    result = train_model(
        dataset.path,
        out,
        config,
        resume=resume,
        device=run.settings.device,
        nproc=run.settings.train_processes,
        threads=run.settings.train_threads,
        progress=run.progress,
        should_stop=run.should_stop,
        on_checkpoint=on_checkpoint,
        expected_embedding_model=dataset.embedding_model,
    )
    with session_scope(run.settings.db_url) as session:
        checkpoint_ids = records.checkpoint_ids(session, run.job.id)
    best = checkpoint_ids.get("best") or checkpoint_ids.get("last")
    latest = result.history[-1] if result.history else {}
    run.succeed(
        {
            "checkpoint_id": best,
            "checkpoint_ids": checkpoint_ids,
            "dataset_id": dataset.id,
            "epochs_completed": result.epochs_completed,
            "steps": result.steps,
            "best_val_loss": result.best_val_loss,
            "num_parameters": result.num_parameters,
            "preset": result.preset,
            "metrics": records.json_safe(latest),
            "resumed_from_epoch": resumed_from,
            "history": records.json_safe(
                [{k: entry.get(k) for k in HISTORY_KEYS} for entry in result.history]
            ),
        }
    )


@celery_app.task(name=dispatch.TASK_TRAIN)
def train(job_id: str) -> None:
    """Train (or resume training) a model on an embedded dataset; one worker runs it."""
    _run(job_id, _train_body)


# -- evaluate ------------------------------------------------------------------------------------
PROTOCOL_KEYS = ("pool_size", "diversity_pairs", "mm_prompts", "mm_generations", "mm_pairs")
SUMMARY_KINDS = ("reference", "checkpoint")


def _evaluate_inputs(run: JobRun) -> tuple[CheckpointRow, DatasetRow]:
    params = run.job.params
    with session_scope(run.settings.db_url) as session:
        checkpoint = session.get(CheckpointRow, params["checkpoint"])
        dataset = session.get(DatasetRow, params["dataset"])
    if checkpoint is None:
        raise StickGenError(f"unknown checkpoint {params['checkpoint']!r}")
    if dataset is None:
        raise StickGenError(f"unknown dataset {params['dataset']!r}")
    return checkpoint, dataset


def _threads_per_process(run: JobRun) -> int:
    """A fair share of the cores for one pool process (oversubscribed torch threads crawl)."""
    return max(1, available_cores() // run.settings.worker_concurrency)


def _evaluate_body(run: JobRun) -> None:
    checkpoint, dataset = _evaluate_inputs(run)
    params = run.job.params
    seed = int(params.get("seed", 0))
    root = run.settings.data_path
    result = evaluate_checkpoints(
        dataset.path,
        [checkpoint.path],
        out_dir=root / "evaluations" / run.job.id,
        seed=seed,
        repeats=int(params.get("repeats", 20)),
        progress=run.progress,
        should_stop=run.should_stop,
        protocol_options={
            **{key: int(params[key]) for key in PROTOCOL_KEYS if key in params},
            "mm_repeats": params.get("mm_repeats"),
        },
        baselines=bool(params.get("baselines", True)),
        allow_shared_text_model=bool(params.get("allow_shared_text_model", False)),
        generator_text_model=run.settings.text_model_dir(checkpoint.embedding_model),
        device=run.settings.device,
        evaluator_settings=EvaluatorTraining(
            epochs=int(params.get("evaluator_epochs", 12)), seed=seed
        ),
        cache_dir=root / "cache" / "evaluators",
        threads=_threads_per_process(run),
        max_test_samples=params.get("max_test_samples"),
        include_augmented=bool(params.get("include_augmented", False)),
    )
    evaluation = {
        **records.relative_to(result, root),
        "job_id": run.job.id,
        "dataset_id": dataset.id,
    }
    with session_scope(run.settings.db_url) as session:  # files are in place: now the row
        if not records.store_evaluation(session, checkpoint.id, evaluation):
            raise StickGenError(f"checkpoint {checkpoint.id!r} was deleted during the evaluation")
    run.succeed(
        {
            "checkpoint_id": checkpoint.id,
            "dataset_id": dataset.id,
            "files": evaluation["files"],
            "test_samples": evaluation["dataset"]["samples"],
            "systems": list(evaluation["systems"]),
            "summary": records.json_safe(records.evaluation_summary(evaluation, SUMMARY_KINDS)),
            "warnings": evaluation["warnings"],
            "seconds": evaluation.get("seconds"),
        }
    )


@celery_app.task(name=dispatch.TASK_EVALUATE)
def evaluate(job_id: str) -> None:
    """Score a checkpoint with the evaluation protocol; store the result on its row."""
    _run(job_id, _evaluate_body)
