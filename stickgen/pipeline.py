"""The training pipeline, defined once: generate -> validate -> embed -> validate -> train.

`PHASES` is the definition both ways of running it follow: `run_pipeline` runs the phases in
one process (the CLI), the service runs each as a child job of a pipeline job
(`jobcore.flow`). A validation phase stops the run with a `StickGenError` naming what failed
(`require_valid`). In one process, a rerun in the same work directory picks up where the last
one stopped: a complete dataset is reused, embeddings made with the same text model are kept,
and training resumes from `checkpoints/last.pt`.
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


@dataclass(frozen=True)
class Phase:
    kind: str  # what runs: generate, validate, embed or train
    name: str  # how it is shown (the two validations differ)
    share: float  # of the whole pipeline's progress


PHASES = (
    Phase("generate", "generate", 0.15),
    Phase("validate", "validate data", 0.05),
    Phase("embed", "embed", 0.10),
    Phase("validate", "validate embeddings", 0.05),
    Phase("train", "train", 0.65),
)
PROGRESS_SCALE = 10_000


def require_valid(dataset_dir: str | Path, phase: str, progress: Progress = no_progress) -> Any:
    """Validate the dataset (`stickgen.data.validate`); a failure stops the pipeline with the
    first failed checks. Returns the report."""
    from stickgen.data.validate import validate_dataset

    report = validate_dataset(dataset_dir, progress=progress)
    if not report.ok:
        failed = "; ".join(f"{c.name}: {c.detail}" for c in report.failures[:3])
        raise StickGenError(f"dataset validation ({phase}) failed, stopping the pipeline: {failed}")
    return report


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
        phase = PHASES[index]
        self.offset = sum(p.share for p in PHASES[:index])
        self.share = phase.share
        self.label = f"[{index + 1}/{len(PHASES)} {phase.name}]"
        self.progress(round(self.offset * PROGRESS_SCALE), PROGRESS_SCALE, self.label)
        return self.update

    def update(self, done: int, total: int, message: str) -> None:
        fraction = min(1.0, done / total) if total else 0.0
        value = round((self.offset + self.share * fraction) * PROGRESS_SCALE)
        self.progress(value, PROGRESS_SCALE, f"{self.label} {message}".rstrip())


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
    """Run every phase of `PHASES` in `workdir` (`dataset/`, `checkpoints/`).

    `model` is the text model (hub name or local sentence-transformers directory; default the
    embedder's default). Generation uses the training config's seed. `should_stop` is checked
    between phases and on every training step.
    """
    from stickgen.data.generate import generate_dataset
    from stickgen.embed import DEFAULT_MODEL, Embedder, embed_dataset

    config = train_config or TrainConfig(preset="small")
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    dataset_dir, checkpoint_dir = work / DATASET_DIR, work / CHECKPOINT_DIR
    text_model = model if model is not None else DEFAULT_MODEL
    notes: list[str] = []
    trained: list[TrainResult] = []

    def generate(report: Progress) -> None:
        if (dataset_dir / "manifest.json").exists():
            notes.append(f"reused the existing dataset {dataset_dir}")
            return
        generate_dataset(
            dataset_dir, num_base, augment=True, seed=config.seed, progress=report,
            should_stop=should_stop,
        )  # fmt: skip

    def embed(report: Progress) -> None:
        embedder = Embedder(text_model)
        if Dataset(dataset_dir).embedding_model == embedder.model_id:
            notes.append(f"kept the embeddings already made with {embedder.model_id}")
        else:
            embed_dataset(dataset_dir, model=text_model, progress=report, embedder=embedder)

    def fit(report: Progress) -> None:
        trained.append(
            train(
                dataset_dir, checkpoint_dir, config, resume=True, threads=threads,
                progress=report, should_stop=should_stop, on_checkpoint=on_checkpoint,
                text_model=text_model,
            )
        )  # fmt: skip

    runners: dict[str, Callable[[Phase, Progress], None]] = {
        "generate": lambda _, report: generate(report),
        "validate": lambda phase, report: require_valid(dataset_dir, phase.name, report),
        "embed": lambda _, report: embed(report),
        "train": lambda _, report: fit(report),
    }
    bar = _PhaseProgress(progress)
    for index, phase in enumerate(PHASES):
        runners[phase.kind](phase, bar.enter(index))
        if should_stop is not None and should_stop() and index + 1 < len(PHASES):
            raise Cancelled("pipeline stopped between phases; rerun it to continue")
    bar.update(1, 1, "done")
    return PipelineResult(dataset_dir, checkpoint_dir, trained[0], notes)
