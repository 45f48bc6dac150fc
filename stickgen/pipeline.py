"""The full training pipeline: generate -> validate -> embed -> validate -> train.

Each phase must succeed before the next starts; the first failure stops the run with a
`StickGenError` naming the phase and what failed. A rerun in the same work directory picks up
where the last one stopped: a complete dataset is reused, embeddings made with the same text
model are kept, and training resumes from `checkpoints/last.pt`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stickgen.data.store import Dataset
from stickgen.errors import Cancelled, StickGenError
from stickgen.progress import Progress, no_progress
from stickgen.train import TrainConfig, TrainResult, train

DATASET_DIR = "dataset"
CHECKPOINT_DIR = "checkpoints"

# (name, share of the overall progress bar)
PHASES = (
    ("generate", 0.15),
    ("validate data", 0.05),
    ("embed", 0.10),
    ("validate embeddings", 0.05),
    ("train", 0.65),
)
PROGRESS_SCALE = 10_000


@dataclass
class PipelineResult:
    dataset: Path
    checkpoints: Path
    train: TrainResult
    notes: list[str]


class _PhaseProgress:
    """Maps each phase's own (done, total) onto one 0..PROGRESS_SCALE bar."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.offset = 0.0
        self.share = 0.0
        self.label = ""

    def enter(self, index: int) -> Progress:
        name, share = PHASES[index]
        self.offset = sum(s for _, s in PHASES[:index])
        self.share = share
        self.label = f"[{index + 1}/{len(PHASES)} {name}]"
        self.progress(round(self.offset * PROGRESS_SCALE), PROGRESS_SCALE, self.label)
        return self.update

    def update(self, done: int, total: int, message: str) -> None:
        fraction = min(1.0, done / total) if total else 0.0
        value = round((self.offset + self.share * fraction) * PROGRESS_SCALE)
        self.progress(value, PROGRESS_SCALE, f"{self.label} {message}".rstrip())


def _require_valid(report: Any, phase: str) -> None:
    if report.ok:
        return
    failed = "; ".join(f"{c.name}: {c.detail}" for c in report.failures[:3])
    raise StickGenError(f"{phase} failed validation, stopping the pipeline: {failed}")


def run_pipeline(
    workdir: str | Path,
    *,
    num_base: int = 1000,
    train_config: TrainConfig | None = None,
    model: str | Path | None = None,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
    threads: int | None = None,
    on_checkpoint: Callable[[dict[str, Any]], None] | None = None,
) -> PipelineResult:
    """Run every phase in `workdir` (`dataset/`, `checkpoints/`); see the module docstring.

    `model` is the text model (hub name or local sentence-transformers directory; default the
    embedder's default). Generation uses the training config's seed. `should_stop` is checked
    between phases and on every training step.
    """
    config = train_config or TrainConfig(preset="small")
    seed = config.seed
    from stickgen.data.generate import generate_dataset
    from stickgen.data.validate import validate_dataset
    from stickgen.embed import DEFAULT_MODEL, Embedder, embed_dataset

    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    dataset_dir, checkpoint_dir = work / DATASET_DIR, work / CHECKPOINT_DIR
    text_model = model if model is not None else DEFAULT_MODEL
    bar = _PhaseProgress(progress)
    notes: list[str] = []

    def checkpoint_phase() -> None:
        if should_stop is not None and should_stop():
            raise Cancelled("pipeline stopped between phases; rerun it to continue")

    phase = bar.enter(0)
    if (dataset_dir / "manifest.json").exists():
        notes.append(f"reused the existing dataset {dataset_dir}")
    else:
        generate_dataset(
            dataset_dir, num_base, augment=True, seed=seed, progress=phase, should_stop=should_stop
        )
    checkpoint_phase()

    phase = bar.enter(1)
    _require_valid(validate_dataset(dataset_dir, progress=phase), "phase 1 (generated data)")
    checkpoint_phase()

    phase = bar.enter(2)
    embedder = Embedder(text_model)
    if Dataset(dataset_dir).embedding_model == embedder.model_id:
        notes.append(f"kept the embeddings already made with {embedder.model_id}")
    else:
        embed_dataset(dataset_dir, model=text_model, progress=phase, embedder=embedder)
    checkpoint_phase()

    phase = bar.enter(3)
    _require_valid(validate_dataset(dataset_dir, progress=phase), "phase 2 (embeddings)")
    checkpoint_phase()

    phase = bar.enter(4)
    result = train(
        dataset_dir,
        checkpoint_dir,
        config,
        resume=True,
        threads=threads,
        progress=phase,
        should_stop=should_stop,
        on_checkpoint=on_checkpoint,
        expected_embedding_model=embedder.model_id,
        text_model=text_model,
    )
    bar.update(1, 1, "done")
    return PipelineResult(dataset_dir, checkpoint_dir, result, notes)
