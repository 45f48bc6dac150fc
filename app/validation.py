"""Checks that depend on the settings or the database (configurable limits, known ids)."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from app.problems import ProblemError
from app.schemas import (
    AnimateRequest,
    EmbedStepParams,
    EvaluateParams,
    GenerateParams,
    PipelineParams,
    TrainStepParams,
)
from jobcore import mocap_sources
from jobcore.models import CheckpointRow, DatasetRow
from jobcore.settings import Settings
from stickgen.errors import StickGenError


def invalid(detail: str) -> ProblemError:
    return ProblemError(422, "invalid-params", "Invalid parameters", detail)


def generate_params(params: GenerateParams, settings: Settings, prefix: str = "") -> dict:
    """Check limits; fill in the shard count."""
    if params.num_base > settings.max_base_samples:
        raise invalid(
            f"{prefix}num_base {params.num_base} exceeds the limit of {settings.max_base_samples}"
        )
    from stickgen.data.generate import BATCH_SIZE

    batches = math.ceil(params.num_base / BATCH_SIZE)  # a shard is a run of whole batches
    if params.shards is not None and params.shards > settings.max_shards:
        raise invalid(f"{prefix}shards {params.shards} exceeds the limit of {settings.max_shards}")
    if params.shards is not None and params.shards > batches:
        raise invalid(
            f"{prefix}shards {params.shards}: {params.num_base} base scenes make only {batches} "
            f"batch(es) of {BATCH_SIZE}, so at most {batches} shard(s)"
        )
    shards = params.shards or math.ceil(params.num_base / settings.shard_size)
    shards = min(shards, settings.max_shards, batches)
    stored = {**params.model_dump(exclude={"mocap"}), "shards": shards}
    if params.mocap is not None:
        stored["mocap"] = params.mocap.model_dump()
        try:
            mocap_sources.resolve(settings.mocap_path, stored["mocap"])
        except StickGenError as exc:
            detail = f"{prefix}mocap: {exc}"
            title = "Invalid motion-capture source"
            raise ProblemError(422, "invalid-mocap-source", title, detail) from None
    return stored


def embed_params(params: EmbedStepParams, settings: Settings, prefix: str = "") -> dict:
    allowed = settings.embedding_models()
    if params.model is not None and params.model not in allowed:
        raise invalid(f"{prefix}model {params.model!r} is not available; choose from {allowed}")
    return params.model_dump()


def train_params(params: TrainStepParams, settings: Settings, prefix: str = "") -> dict:
    """The stored form of a training step: its `TrainConfig`, within the server's limits."""
    if params.epochs > settings.max_epochs:
        raise invalid(f"{prefix}epochs {params.epochs} exceeds the limit of {settings.max_epochs}")
    if params.batch_size > settings.max_batch_size:
        raise invalid(
            f"{prefix}batch_size {params.batch_size} exceeds the limit of {settings.max_batch_size}"
        )
    try:
        return params.config().to_dict()
    except StickGenError as exc:
        raise invalid(f"{prefix}{exc}") from None


def pipeline_params(params: PipelineParams, settings: Settings) -> dict:
    return {
        "generate": generate_params(params.generate, settings, "generate."),
        "embed": embed_params(params.embed, settings, "embed."),
        "train": train_params(params.train, settings, "train."),
    }


def existing_dataset(session: Session, dataset_id: str, *, embedded: bool = False) -> DatasetRow:
    row = session.get(DatasetRow, dataset_id)
    if row is None:
        raise invalid(f"unknown dataset {dataset_id!r}")
    if embedded and row.embedding_model is None:
        raise invalid(f"dataset {dataset_id!r} has no text embeddings yet: run an embed job")
    return row


def evaluate_params(params: EvaluateParams, session: Session) -> dict:
    """Resolve the checkpoint and dataset ids (default: the checkpoint's dataset)."""
    checkpoint = existing_checkpoint(session, params.checkpoint)
    dataset_id = params.dataset or checkpoint.dataset_id
    if dataset_id is None:
        raise invalid(
            f"checkpoint {params.checkpoint!r} has no dataset on record: name one in dataset"
        )
    existing_dataset(session, dataset_id)
    if params.mm_repeats is not None and params.mm_repeats > params.repeats:
        raise invalid(f"mm_repeats {params.mm_repeats} exceeds repeats {params.repeats}")
    return {**params.model_dump(), "dataset": dataset_id}


def job_params(kind: str, params: Any, settings: Settings, session: Session) -> dict:
    """The params to store for a new job, after every limit and reference check."""
    if kind == "evaluate":
        return evaluate_params(params, session)
    if kind == "generate":
        return generate_params(params, settings)
    if kind == "pipeline":
        return pipeline_params(params, settings)
    if kind == "embed":
        existing_dataset(session, params.dataset_id)
        return {**embed_params(params, settings), "dataset_id": params.dataset_id}
    existing_dataset(session, params.dataset_id, embedded=True)
    return {**train_params(params, settings), "dataset_id": params.dataset_id}


def animate_request(request: AnimateRequest, settings: Settings) -> None:
    prompt = request.prompt.strip()
    if not prompt:
        raise invalid("prompt is empty")
    if len(prompt) > settings.max_prompt_chars:
        raise invalid(
            f"prompt has {len(prompt)} characters, the limit is {settings.max_prompt_chars}"
        )
    if request.duration is not None and not (
        settings.min_duration_s <= request.duration <= settings.max_duration_s
    ):
        raise invalid(
            f"duration {request.duration} s is outside "
            f"{settings.min_duration_s}..{settings.max_duration_s} s"
        )
    for name in ("width", "height"):
        size = getattr(request, name)
        if not settings.min_frame_size <= size <= settings.max_frame_size:
            raise invalid(
                f"{name} {size} is outside {settings.min_frame_size}..{settings.max_frame_size}"
            )


def existing_checkpoint(session: Session, checkpoint_id: str) -> CheckpointRow:
    row = session.get(CheckpointRow, checkpoint_id)
    if row is None:
        raise ProblemError(
            422, "unknown-checkpoint", "Unknown checkpoint", f"no checkpoint {checkpoint_id!r}"
        )
    return row
