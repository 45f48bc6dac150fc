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

from celery.exceptions import Reject

from jobcore import dispatch, logs, mocap_sources
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
from worker.publish import (
    attempt_dir,
    move_rows,
    publish_dir,
    remove_other_attempts,
    take_over_checkpoints,
)
from worker.runner import DatabaseUnavailable, JobRun, LostClaim

log = logging.getLogger(__name__)
HISTORY_KEYS = ("epoch", "step", "train_loss", "val_loss")


def _run(
    job_id: str, body: Callable[[JobRun], None], *, progress_span: tuple[float, float] = (0.0, 1.0)
) -> None:
    """Claim the job, run `body(run)` inside it; a lost claim means another execution has it.
    When the database cannot be reached to claim it, the message goes back to the queue."""
    settings = get_settings()
    dispatcher = Dispatcher(settings, celery_app)
    with logs.job_context(job_id):  # every line logged below carries the job's id
        try:
            with JobRun(settings, dispatcher, job_id, progress_span=progress_span) as run:
                body(run)
        except LostClaim:
            log.info("job %s is not ours to run (taken, ended or cancelled); skipping", job_id)
        except DatabaseUnavailable as error:
            log.error("%s; the message goes back to the queue", error)
            raise Reject(str(error), requeue=True) from None


def _dataset(run: JobRun) -> DatasetRow:
    dataset_id = run.job.params.get("dataset_id")
    row = run.query(lambda s: s.get(DatasetRow, dataset_id) if dataset_id else None, "dataset")
    if row is None:
        raise StickGenError(f"unknown dataset {dataset_id!r}")
    return row


def _record_dataset(run: JobRun, path: Path, job_id: str) -> dict[str, Any]:
    def write(session: Any) -> dict[str, Any]:
        row = records.upsert_dataset(session, path, name=f"dataset-{job_id[:8]}", job_id=job_id)
        return {"dataset_id": row.id, "samples": row.samples}

    return run.fenced(write, "record dataset")


def _complete_dataset(path: Path) -> bool:
    try:
        Dataset(path)
    except (StickGenError, OSError, ValueError):
        return False
    return True


def _publish_dataset(run: JobRun, scratch: Path, final: Path) -> Path:
    """Move a finished dataset into place while this run holds the claim (see worker.publish)."""
    run.fenced(lambda session: None, "check claim")
    return publish_dir(scratch, final, _complete_dataset)


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
    scratch = attempt_dir(run.settings.work_dir / run.job.id, run.attempt)
    common = dict(
        augment=bool(params.get("augment", True)),
        seed=int(params.get("seed", 0)),
        workers=1,  # pool processes cannot fork; parallel work is sharded into tasks instead
        overwrite=True,
        progress=run.progress,
        should_stop=run.should_stop,
    )
    try:
        if mocap is None:
            generate_dataset(scratch / "dataset", int(params["num_base"]), **common)
        else:
            generate_with_mocap(scratch / "dataset", int(params["num_base"]), mocap.sources,
                                body_model=mocap.body_model, **common)  # fmt: skip
        path = _publish_dataset(run, scratch / "dataset", run.settings.datasets_dir / run.job.id)
        run.succeed(_with_sources(_record_dataset(run, path, run.job.id), path))
    finally:
        shutil.rmtree(scratch.parent, ignore_errors=True)


@celery_app.task(name=dispatch.TASK_GENERATE)
def generate(job_id: str) -> None:
    """Generate a synthetic dataset in one piece."""
    _run(job_id, _generate_body)


def _shard_dir(settings: Any, parent_id: str, index: int) -> Path:
    return settings.work_dir / parent_id / f"shard-{index:03d}"


def _shard_body(run: JobRun) -> None:
    parent = run.query(lambda s: s.get(Job, run.job.parent_id), "parent")
    assert parent is not None
    params = dict(parent.params)
    index, count = (int(v) for v in run.job.params["shard"])
    out = _shard_dir(run.settings, parent.id, index)
    scratch = out.with_name(f"{out.name}.{run.attempt}")
    try:
        generate_dataset(
            scratch,
            int(params["num_base"]),
            augment=bool(params.get("augment", True)),
            seed=int(params.get("seed", 0)),
            shard=(index, count),
            workers=1,
            overwrite=True,
            progress=run.progress,
            should_stop=run.should_stop,
        )
        _publish_dataset(run, scratch, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    run.succeed({"shard": [index, count]})


@celery_app.task(name=dispatch.TASK_GENERATE_SHARD)
def generate_shard(job_id: str) -> None:
    """Generate one shard of a sharded generate job (run as a group, one task per shard)."""
    _run(job_id, _shard_body)


def _merge_body(run: JobRun) -> None:
    count = dispatch.shard_count(run.job)
    sources = [_shard_dir(run.settings, run.job.id, i) for i in range(count)]
    scratch = attempt_dir(run.settings.work_dir / run.job.id, run.attempt) / "dataset"
    mocap = _mocap(run)
    if mocap is None:
        merge_datasets(sources, scratch, overwrite=True, progress=run.progress)
    else:
        merge_with_mocap(
            sources,
            mocap.sources,
            scratch,
            body_model=mocap.body_model,
            seed=int(run.job.params.get("seed", 0)),
            overwrite=True,
            progress=run.progress,
            should_stop=run.should_stop,
        )
    path = _publish_dataset(run, scratch, run.settings.datasets_dir / run.job.id)
    result = _with_sources(_record_dataset(run, path, run.job.id), path)
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
    run.fenced(
        lambda session: records.upsert_dataset(
            session, Path(dataset.path), name=dataset.name, job_id=dataset.job_id
        ),
        "record embeddings",
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
def train_threads(settings: Any) -> int:
    """torch threads of each training process: the `train_threads` setting, else the cores
    shared among the data-parallel processes (the train worker runs one job at a time)."""
    return settings.train_threads or max(1, available_cores() // settings.train_processes)


def _train_body(run: JobRun) -> None:
    dataset = _dataset(run)
    params = run.job.params
    root = run.settings.checkpoints_dir / run.job.id
    out = attempt_dir(root, run.attempt)
    # a retried or reclaimed job continues from its published checkpoint, in its own folder
    moved = run.query(lambda s: take_over_checkpoints(s, run.job.id, out), "checkpoints")

    def take_over(session: Any) -> int | None:
        move_rows(session, moved)
        return records.last_epoch(session, run.job.id)

    resumed_from = run.fenced(take_over, "take over checkpoints")
    remove_other_attempts(root, out)
    resume = (out / "last.pt").exists()

    def on_checkpoint(info: dict[str, Any]) -> None:
        if info.get("kind") == "last" and not info.get("epoch"):
            return  # stopped before an epoch ended: nothing worth publishing

        def write(session: Any) -> None:
            records.upsert_checkpoint(session, info, job_id=run.job.id, dataset_id=dataset.id)
            records.drop_pruned_epochs(session, run.job.id)  # retention removed their files

        run.publish(write, "publish checkpoint")

    threads = train_threads(run.settings)
    log.info("job %s trains with %d torch thread(s) per process", run.job.id, threads)
    config = TrainConfig.from_dict({k: v for k, v in params.items() if k != "dataset_id"})
    result = train_model(
        dataset.path,
        out,
        config,
        resume=resume,
        device=run.settings.device,
        nproc=run.settings.train_processes,
        threads=threads,
        progress=run.progress,
        should_stop=run.should_stop,
        on_checkpoint=on_checkpoint,
        expected_embedding_model=dataset.embedding_model,
    )
    checkpoint_ids = run.query(lambda s: records.checkpoint_ids(s, run.job.id), "checkpoints")
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
            "threads": threads,
            "metrics": records.json_safe(latest),
            "resumed_from_epoch": resumed_from if resume else None,
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
    checkpoint = run.query(lambda s: s.get(CheckpointRow, params["checkpoint"]), "checkpoint")
    dataset = run.query(lambda s: s.get(DatasetRow, params["dataset"]), "dataset")
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
        out_dir=attempt_dir(root / "evaluations" / run.job.id, run.attempt),
        seed=seed,
        repeats=int(params.get("repeats", 20)),
        progress=run.progress,
        should_stop=run.should_stop,
        protocol_options={
            **{key: int(params[key]) for key in PROTOCOL_KEYS if key in params},
            "mm_repeats": params.get("mm_repeats"),
        },
        baselines=bool(params.get("baselines", True)),
        generator_text_model=run.settings.text_model_dir(checkpoint.embedding_model),
        device=run.settings.device,
        precision=str(params.get("precision", "fp32")),
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
    stored = run.fenced(  # files are in place: now the row
        lambda s: records.store_evaluation(s, checkpoint.id, evaluation), "store evaluation"
    )
    if not stored:
        raise StickGenError(f"checkpoint {checkpoint.id!r} was deleted during the evaluation")
    remove_other_attempts(root / "evaluations" / run.job.id, attempt_dir(
        root / "evaluations" / run.job.id, run.attempt))  # fmt: skip
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
