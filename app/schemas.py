"""Request and response bodies (pydantic). Static bounds live here; configurable limits are
checked against the settings in `app.limits`."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from stickgen.model import PRESETS
from stickgen.train.config import MAX_WARMUP_EPOCHS, TrainConfig
from stickgen.train.losses import LossWeights

MAX_INT = 2**31 - 1  # every integer fits a 32-bit database column
SEED = Field(0, ge=0, le=2**32 - 1, description="Random seed: same seed, same output")
ID_PATTERN = r"^[0-9a-f]{8,32}$"  # an id, or an unambiguous prefix of 8+ characters (app.ids)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _relative_path(value: str) -> str:
    """A path inside the server's motion-capture folder, written with `/`: never absolute and
    never through `..`. Returns it normalised (`./a//b` -> `a/b`; `.` is the folder itself)."""
    if "\x00" in value or "\\" in value:
        raise ValueError("use '/' between folder names (no backslashes or NUL characters)")
    if value.startswith("/") or (len(value) > 1 and value[1] == ":"):
        raise ValueError("must be relative to the server's motion-capture folder, not absolute")
    path = PurePosixPath(value)
    if ".." in path.parts:
        raise ValueError("must not contain '..'")
    return path.as_posix()


MocapPath = Annotated[
    str,
    Field(min_length=1, max_length=1024, examples=["cmu/walks/01_01.bvh"]),
    AfterValidator(_relative_path),
]


class MocapSources(_Params):
    """Motion capture to import and merge into a generated dataset (BVH, AMASS .npz, [T,22,3]
    .npy). Paths are relative to the server's motion-capture folder (`STICKGEN_MOCAP_DIR`)."""

    sources: list[MocapPath] = Field(
        min_length=1, max_length=64, description="Files or folders (folders are searched)"
    )
    body_model: MocapPath | None = Field(
        None, description="SMPL-H body-model .npz, needed for AMASS .npz motions"
    )


class GenerateParams(_Params):
    """Synthesize a dataset: `num_base` base scenes, optionally augmented, optionally merged with
    imported motion capture (samples tagged `synthetic` and `mocap`)."""

    num_base: int = Field(gt=0, le=MAX_INT, description="Base samples to generate", examples=[1000])
    augment: bool = Field(True, description="Add speed/position/scale/mirror variants")
    seed: int = SEED
    shards: int | None = Field(
        None,
        ge=1,
        le=MAX_INT,
        description="Parallel shard tasks (default: from the configured shard size)",
    )
    mocap: MocapSources | None = Field(
        None, description="Motion capture to add; each recording's clips keep one split"
    )


class EmbedStepParams(_Params):
    model: str | None = Field(
        None, description="Text model id (default: the server's configured model)"
    )
    batch_size: int = Field(64, ge=1, le=4096)


class EmbedParams(EmbedStepParams):
    """Embed every unique description of a dataset with the text model."""

    dataset_id: str = Field(pattern=ID_PATTERN, description="A dataset id from GET /v1/datasets")


TRAIN_DEFAULTS = TrainConfig()


class TrainStepParams(_Params):
    """A `stickgen.train.TrainConfig`: the same defaults, checked by the same code."""

    preset: str = Field(
        TRAIN_DEFAULTS.preset,
        description=f"Model size preset: {', '.join(PRESETS)} (base: the plan's ~15.5M)",
        examples=["small"],
    )
    epochs: int = Field(TRAIN_DEFAULTS.epochs, ge=1, le=MAX_INT, examples=[20])
    batch_size: int = Field(TRAIN_DEFAULTS.batch_size, ge=1, le=MAX_INT)
    accumulate: int = Field(
        TRAIN_DEFAULTS.accumulate, ge=1, le=256, description="Batches per optimizer step"
    )
    lr: float = Field(TRAIN_DEFAULTS.lr, gt=0, le=1, description="Peak learning rate")
    warmup_epochs: int | None = Field(
        None,
        ge=0,
        le=MAX_INT,
        description=f"Linear warmup (default: a fifth of the epochs, at most {MAX_WARMUP_EPOCHS})",
    )
    checkpoint_every: int = Field(
        TRAIN_DEFAULTS.checkpoint_every,
        ge=1,
        le=MAX_INT,
        description="Keep an extra checkpoint every N epochs",
    )
    keep_epoch_checkpoints: int | None = Field(
        None,
        ge=0,
        le=MAX_INT,
        description="How many of the newest epoch checkpoints stay (best and last always "
        "do; 0: none) (default: the server's KEEP_EPOCH_CHECKPOINTS)",
    )
    max_train_samples: int | None = Field(
        None,
        ge=1,
        le=MAX_INT,
        description="Train on a seeded subset of this many samples (quick runs)",
    )
    max_val_samples: int | None = Field(
        None, ge=1, le=MAX_INT, description="Validate on at most this many samples each epoch"
    )
    spectrum_weight: float = Field(
        TRAIN_DEFAULTS.loss_weights.spectrum,
        ge=0,
        le=100,
        description="Weight of the phase-free pose spectrum loss, so cyclic motion is not "
        "averaged into a still pose (0 = off)",
    )
    plan_dropout: float = Field(
        TRAIN_DEFAULTS.plan_dropout,
        ge=0,
        le=1,
        description="Share of training samples that see no action plan",
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        TRAIN_DEFAULTS.precision,
        description="bf16 autocast, fp32, or auto: bf16 where the hardware runs it natively",
    )
    seed: int = SEED

    def config(self) -> TrainConfig:
        """The `TrainConfig` these parameters describe (StickGenError when inconsistent)."""
        values = self.model_dump(exclude={"spectrum_weight", "dataset_id"})
        weights = LossWeights(spectrum=self.spectrum_weight)
        return TrainConfig(**values, loss_weights=weights)


class TrainParams(TrainStepParams):
    """Train (or, after a lost worker, resume) a text-to-motion model on an embedded dataset."""

    dataset_id: str = Field(pattern=ID_PATTERN, description="An embedded dataset's id")


class PipelineParams(_Params):
    """The library's pipeline (generate -> validate -> embed -> validate -> train), one child
    job per phase; each validation stops the pipeline on a dataset that fails its checks."""

    generate: GenerateParams
    embed: EmbedStepParams = Field(default_factory=EmbedStepParams)
    train: TrainStepParams


class EvaluateParams(_Params):
    """Score a checkpoint with the evaluation protocol on a dataset's test split; the result is
    stored on the checkpoint (GET /v1/checkpoints/{id} -> `evaluation`). The protocol fields
    default to the reference protocol; smaller values give a quicker, rougher evaluation."""

    checkpoint: str = Field(pattern=ID_PATTERN, description="A checkpoint id to score")
    dataset: str | None = Field(
        None, pattern=ID_PATTERN, description="A dataset id (default: the checkpoint's dataset)"
    )
    repeats: int = Field(20, ge=1, le=20, description="Repeats for the mean and 95% interval")
    seed: int = SEED
    pool_size: int = Field(32, ge=2, le=256, description="R-precision pool size")
    diversity_pairs: int = Field(300, ge=1, le=10_000)
    mm_prompts: int = Field(100, ge=1, le=1000, description="Multimodality prompts")
    mm_generations: int = Field(30, ge=2, le=100, description="Generations per prompt")
    mm_pairs: int = Field(10, ge=1, le=100)
    mm_repeats: int | None = Field(
        None, ge=0, le=20, description="Repeats that measure multimodality (default: all)"
    )
    max_test_samples: int | None = Field(
        None, ge=2, le=MAX_INT, description="Score a seeded subset of the test split"
    )
    include_augmented: bool = Field(False, description="Also score augmented test clips")
    baselines: bool = Field(True, description="Also score the baseline and noise rows")
    evaluator_epochs: int = Field(
        12, ge=1, le=100, description="Epochs if an evaluator must be trained for the dataset"
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "fp32",
        description="The checkpoint's sampling precision: fp32 (figures comparable across "
        "machines), bf16, or auto: bf16 where the hardware runs it natively",
    )


class GenerateJobCreate(BaseModel):
    kind: Literal["generate"]
    params: GenerateParams


class EmbedJobCreate(BaseModel):
    kind: Literal["embed"]
    params: EmbedParams


class TrainJobCreate(BaseModel):
    kind: Literal["train"]
    params: TrainParams


class PipelineJobCreate(BaseModel):
    kind: Literal["pipeline"]
    params: PipelineParams


class EvaluateJobCreate(BaseModel):
    kind: Literal["evaluate"]
    params: EvaluateParams


JobCreate = Annotated[
    GenerateJobCreate | EmbedJobCreate | TrainJobCreate | PipelineJobCreate | EvaluateJobCreate,
    Field(discriminator="kind"),
]

JOB_CREATE_EXAMPLES = {
    "pipeline": {
        "summary": "Generate, embed and train in one go",
        "value": {
            "kind": "pipeline",
            "params": {
                "generate": {"num_base": 1000, "seed": 0},
                "embed": {},
                "train": {"preset": "small", "epochs": 20},
            },
        },
    },
    "generate": {
        "summary": "Generate a dataset",
        "value": {"kind": "generate", "params": {"num_base": 5000, "augment": True, "seed": 1}},
    },
    "embed": {
        "summary": "Embed a dataset",
        "value": {"kind": "embed", "params": {"dataset_id": "0" * 32}},
    },
    "train": {
        "summary": "Train on an embedded dataset",
        "value": {
            "kind": "train",
            "params": {"dataset_id": "0" * 32, "preset": "small", "epochs": 50},
        },
    },
    "evaluate": {
        "summary": "Evaluate a checkpoint (a quick protocol)",
        "value": {"kind": "evaluate", "params": {"checkpoint": "0" * 32, "repeats": 5}},
    },
}

JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JobKindName = Literal[
    "generate", "embed", "train", "pipeline", "evaluate", "generate_shard", "validate"
]


class JobOut(BaseModel):
    """A job: background work with its state, progress and outcome."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: JobKindName
    status: JobStatusName
    progress: float = Field(ge=0, le=1)
    message: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None = Field(description="Why it failed, in one or two lines")
    details: str | None = Field(
        None, description="The failure's full cause (long messages, a traceback), when longer"
    )
    cancel_requested: bool
    parent_id: str | None = Field(description="The pipeline or sharded job this one belongs to")
    step: int | None = Field(description="Position among its parent's children")
    attempts: int = Field(description="Executions started (more than 1 after a lost worker)")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None


class Page(BaseModel):
    total: int = Field(description="Items matching the filters")
    limit: int
    offset: int


class JobPage(Page):
    items: list[JobOut]


class DatasetOut(BaseModel):
    """A dataset's metadata; its files stay on the server."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    samples: int
    manifest: dict[str, Any] = Field(description="Manifest summary (counts, splits, embedding)")
    embedding_model: str | None
    job_id: str | None
    created_at: datetime
    updated_at: datetime


class DatasetPage(Page):
    items: list[DatasetOut]


class CheckpointOut(BaseModel):
    """A model checkpoint with its validation metrics; pass its id to POST /v1/animate."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    epoch: int
    kind: str = Field(description="last, best or epoch", examples=["best"])
    metrics: dict[str, Any]
    evaluation: dict[str, Any] | None = Field(
        None, description="The latest evaluate job's result (systems x metrics), if any"
    )
    dataset_id: str | None
    embedding_model: str | None
    job_id: str | None
    created_at: datetime
    updated_at: datetime


class CheckpointPage(Page):
    items: list[CheckpointOut]


class AnimateRequest(BaseModel):
    """Text in, animation out."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"prompt": "A person walking and waving happily", "duration": 10, "seed": 7},
            ]
        },
    )

    prompt: str = Field(min_length=1, description="What the figure should do")
    duration: float | None = Field(None, gt=0, description="Seconds (default: from the story)")
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    checkpoint: str | None = Field(
        None, description="A checkpoint id (GET /v1/checkpoints); omitted: procedural engine"
    )
    width: int = Field(512, gt=0, le=MAX_INT, description="Frame width in pixels")
    height: int = Field(512, gt=0, le=MAX_INT, description="Frame height in pixels")
    format: Literal["mp4", "gif", "json"] = "mp4"


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
    disk_free_mb: int | None = Field(None, description="Free space in the data folder (MiB)")
    workers: dict[str, int] | None = Field(
        None, description="Live workers per queue (heartbeat fresher than stale_after_s)"
    )
