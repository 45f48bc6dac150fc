"""`TrainConfig`: everything that defines a training run, in one frozen, validated object that the
library, the command line, the API and the worker all build."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from stickgen.compute import PRECISIONS
from stickgen.diffusion import DISTILLED_STEPS, SAMPLE_STEPS
from stickgen.errors import StickGenError, refuse_unknown_keys
from stickgen.model import PRESETS
from stickgen.train.losses import PLAN_DROPOUT, LossWeights

MAX_WARMUP_EPOCHS = 10  # automatic warmup: a fifth of the epochs, at most this many
KEEP_EPOCH_CHECKPOINTS = 3  # `checkpoint_epoch_N.pt` files a run keeps (best and last apart)


@dataclass(frozen=True)
class TrainConfig:
    """A run's settings. The defaults are the plan's phase 3: the `base` model for 50 epochs of
    optimizer steps over 4 batches of 16, warmup then cosine decay.

    `keep_epoch_checkpoints`: how many of the newest `checkpoint_epoch_N.pt` files (written every
    `checkpoint_every` epochs) stay on disk; older ones are deleted as new ones are written
    (None: all; 0: none is written). `best.pt` and `last.pt` are always kept, and resuming needs
    only `last.pt`, so it may change between runs.

    `warmup_epochs` None means automatic: min(10, epochs // 5); on resume, the run's own.
    `precision` "auto" means bf16 where the device runs it natively (`stickgen.compute`); on
    resume, the run's own. `max_*_samples` cap the train and val splits (None: all of them).

    `teacher` (a checkpoint path) makes the run a distillation (`stickgen.train.distill`): the
    model starts from the teacher's weights (its preset replaces `preset`) and learns from the
    teacher's clips for at most `max_*_samples` of the dataset's prompts (None: 1,024 train and
    64 val). `sample_steps` is how many DDIM steps the trained model samples with by default
    (None: 20, or 4 for a distilled model).
    """

    preset: str = "base"
    epochs: int = 50
    batch_size: int = 16
    accumulate: int = 4
    lr: float = 3e-4
    warmup_epochs: int | None = None
    checkpoint_every: int = 10
    keep_epoch_checkpoints: int | None = KEEP_EPOCH_CHECKPOINTS
    seed: int = 0
    max_train_samples: int | None = None
    max_val_samples: int | None = None
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    plan_dropout: float = PLAN_DROPOUT
    loss_weights: LossWeights = field(default_factory=LossWeights)
    precision: str = "auto"
    teacher: str | None = None
    sample_steps: int | None = None

    # settings that shape the optimisation trajectory: a resumed run must keep them
    TRAJECTORY = (
        "preset", "batch_size", "accumulate", "lr", "warmup_epochs", "seed", "max_train_samples",
        "weight_decay", "grad_clip", "plan_dropout", "loss_weights", "precision", "teacher",
    )  # fmt: skip

    def __post_init__(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise StickGenError(message)

        need(self.preset in PRESETS, f"unknown preset {self.preset!r}; choose from {list(PRESETS)}")
        need(self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}")
        need(self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}")
        need(self.accumulate >= 1, f"accumulate must be at least 1, got {self.accumulate}")
        need(self.lr > 0, f"learning rate must be positive, got {self.lr}")
        warmup = self.warmup_epochs
        need(
            warmup is None or 0 <= warmup <= self.epochs,
            f"warmup_epochs must be within 0..epochs ({self.epochs}), got {warmup}",
        )
        need(
            self.checkpoint_every >= 1,
            f"checkpoint_every must be at least 1, got {self.checkpoint_every}",
        )
        keep = self.keep_epoch_checkpoints
        need(keep is None or keep >= 0, f"keep_epoch_checkpoints must be >= 0, got {keep}")
        for name in ("max_train_samples", "max_val_samples"):
            value = getattr(self, name)
            need(value is None or value >= 1, f"{name} must be at least 1, got {value}")
        need(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}")
        need(self.grad_clip > 0, f"grad_clip must be positive, got {self.grad_clip}")
        need(
            0 <= self.plan_dropout <= 1,
            f"plan_dropout must be within 0..1, got {self.plan_dropout}",
        )
        need(
            self.precision in PRECISIONS,
            f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}",
        )
        steps = self.sample_steps
        need(steps is None or steps >= 1, f"sample_steps must be at least 1, got {steps}")

    @property
    def warmup(self) -> int:
        """Warmup epochs, the automatic choice filled in."""
        if self.warmup_epochs is not None:
            return self.warmup_epochs
        return min(MAX_WARMUP_EPOCHS, self.epochs // 5)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """The config of `to_dict` output (or of a job's params); unknown keys are an error."""
        refuse_unknown_keys(data, cls, "training settings")
        values = dict(data)
        weights = values.get("loss_weights")
        if isinstance(weights, dict):
            values["loss_weights"] = LossWeights.from_dict(weights)
        return cls(**values)

    def differences(self, other: TrainConfig) -> list[str]:
        """`name=value (now other value)` for each trajectory setting that differs."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [
            f"{k}={mine[k]!r} (now {theirs[k]!r})" for k in self.TRAJECTORY if mine[k] != theirs[k]
        ]

    @property
    def steps(self) -> int:
        """Default DDIM steps of the trained model, the automatic choice filled in."""
        if self.sample_steps is not None:
            return self.sample_steps
        return DISTILLED_STEPS if self.teacher else SAMPLE_STEPS

    def settled(self, recorded: TrainConfig | None, native_precision: str) -> TrainConfig:
        """This config with its automatic choices made: those of the run it continues
        (`recorded`), else a fifth of the epochs for warmup and `native_precision`."""
        if self.precision != "auto":
            precision = self.precision
        else:
            precision = recorded.precision if recorded else native_precision
        if self.warmup_epochs is not None:
            warmup = self.warmup_epochs
        else:
            warmup = recorded.warmup if recorded else self.warmup
        return replace(self, warmup_epochs=warmup, precision=precision, sample_steps=self.steps)
