"""Checks that depend on the settings or the database (configurable limits, known ids)."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from app import ids
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
    if params.keep_epoch_checkpoints is None:
        keep = settings.keep_epoch_checkpoints
        params = params.model_copy(update={"keep_epoch_checkpoints": keep})
    try:
        return params.config().to_dict()
    except StickGenError as exc:
        raise invalid(f"{prefix}{exc}") from None


def pipeline_params(params: PipelineParams, settings: Settings) -> dict:
    stored = {
        "generate": generate_params(params.generate, settings, "generate."),
        "embed": embed_params(params.embed, settings, "embed."),
        "train": train_params(params.train, settings, "train."),
    }
    if params.generate.mocap is None:  # capture brings splits of its own
        _trainable_splits(params.generate.num_base, params.generate.seed)
    return stored


def _trainable_splits(num_base: int, seed: int) -> None:
    """Refuse a pipeline whose generated dataset would have no train or no val scene (its train
    step could only fail): the splits are drawn from the seed, so they are known now."""
    import numpy as np

    from stickgen.data.generate import SPLIT_CODES, Recipe, planned_splits

    counts = np.bincount(planned_splits(Recipe(seed=seed, num_base=num_base)), minlength=3)
    missing = [name for name in ("train", "val") if counts[SPLIT_CODES[name]] == 0]
    if missing:
        raise invalid(
            f"generate.num_base {num_base} with seed {seed} gives no {' and no '.join(missing)} "
            "scene, so the train step could not run: generate more base scenes (or another seed)"
        )


def _trainable_dataset(dataset: DatasetRow) -> None:
    splits = (dataset.manifest or {}).get("splits") or {}
    missing = [name for name in ("train", "val") if splits and not splits.get(name)]
    if missing:
        raise invalid(
            f"dataset {dataset.id} has no {' and no '.join(missing)} samples: training needs both"
        )


def existing_dataset(session: Session, dataset_id: str, *, embedded: bool = False) -> DatasetRow:
    """The dataset an id (or an unambiguous id prefix) names; 422 when there is none."""
    row = ids.find(session, DatasetRow, dataset_id)
    if row is None:
        raise invalid(f"unknown dataset {dataset_id!r}")
    if embedded and row.embedding_model is None:
        raise invalid(f"dataset {dataset_id!r} has no text embeddings yet: run an embed job")
    return row


def test_prompts(dataset: DatasetRow, *, include_augmented: bool = False) -> int:
    """Prompts an evaluation can score: the test split's samples (original clips only unless
    `include_augmented`)."""
    import numpy as np

    from stickgen.data.store import Dataset

    files = Dataset(dataset.path)
    test = np.asarray(files.split) == 2  # stickgen.data.store.SPLITS: train, val, test
    if not include_augmented:
        test &= np.asarray(files.augmentation) == 0
    return int(test.sum())


def evaluate_params(params: EvaluateParams, session: Session) -> dict:
    """Resolve the checkpoint and dataset ids (default: the checkpoint's dataset) and make
    every check the evaluation would make later, so a refusal comes before any work."""
    checkpoint = existing_checkpoint(session, params.checkpoint)
    dataset_id = params.dataset or checkpoint.dataset_id
    if dataset_id is None:
        raise invalid(
            f"checkpoint {checkpoint.id[:8]} has no dataset on record: name one in dataset"
        )
    dataset = existing_dataset(session, dataset_id)
    if params.mm_repeats is not None and params.mm_repeats > params.repeats:
        raise invalid(f"mm_repeats {params.mm_repeats} exceeds repeats {params.repeats}")
    prompts = test_prompts(dataset, include_augmented=params.include_augmented)
    if params.max_test_samples is not None:
        prompts = min(prompts, params.max_test_samples)
    if prompts < 2:
        raise invalid(
            f"dataset {dataset.id[:8]} has {prompts} test prompt(s); an evaluation needs at "
            "least 2: generate more base scenes (about 1 in 20 is a test scene)"
        )
    if params.pool_size > prompts:
        raise invalid(
            f"pool_size {params.pool_size} exceeds the {prompts} test prompts of dataset "
            f"{dataset.id[:8]}; choose at most {prompts}"
        )
    return {**params.model_dump(), "checkpoint": checkpoint.id, "dataset": dataset.id}


def job_params(kind: str, params: Any, settings: Settings, session: Session) -> dict:
    """The params to store for a new job, after every limit and reference check."""
    if kind == "evaluate":
        return evaluate_params(params, session)
    if kind == "generate":
        return generate_params(params, settings)
    if kind == "pipeline":
        return pipeline_params(params, settings)
    if kind == "embed":
        dataset = existing_dataset(session, params.dataset_id)
        return {**embed_params(params, settings), "dataset_id": dataset.id}
    dataset = existing_dataset(session, params.dataset_id, embedded=True)
    _trainable_dataset(dataset)
    return {**train_params(params, settings), "dataset_id": dataset.id}


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
    """The checkpoint an id (or an unambiguous id prefix) names; 422 when there is none."""
    row = ids.find(session, CheckpointRow, checkpoint_id)
    if row is None:
        raise ProblemError(
            422, "unknown-checkpoint", "Unknown checkpoint", f"no checkpoint {checkpoint_id!r}"
        )
    return row
