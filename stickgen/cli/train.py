"""`stick-gen train`, `stick-gen score` and `stick-gen pipeline`: train the text-to-motion model
on CPU and score a checkpoint on a held-out split."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from stickgen.cli.app import app, console, fail, progress_bar
from stickgen.errors import Cancelled
from stickgen.model import PRESETS
from stickgen.train.losses import DEFAULT_SPECTRUM_WEIGHT, PLAN_DROPOUT


@contextmanager
def _stop_on_interrupt() -> Iterator[list[bool]]:
    """Turn the first Ctrl-C into a polite stop request (the second one interrupts)."""
    flag = [False]
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame) -> None:
        if flag[0]:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        flag[0] = True
        console.print("[yellow]stopping after this step (Ctrl-C again to abort)...[/]")

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _check_preset(preset: str) -> None:
    if preset not in PRESETS:
        raise fail(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")


@app.command("train")
def train_command(
    dataset: Annotated[Path, typer.Argument(help="Embedded dataset directory.")],
    out: Annotated[
        Path | None, typer.Option(help="Checkpoint directory (default: checkpoints/DATASET_NAME).")
    ] = None,
    preset: Annotated[str, typer.Option(help="Model size: base (~15.5M) or small.")] = "base",
    epochs: Annotated[int, typer.Option(min=1)] = 50,
    batch_size: Annotated[int, typer.Option(min=1)] = 16,
    accumulate: Annotated[int, typer.Option(min=1, help="Batches per optimizer step.")] = 4,
    lr: Annotated[float, typer.Option(min=0.0, help="Peak learning rate.")] = 3e-4,
    warmup_epochs: Annotated[int, typer.Option(min=0)] = 10,
    checkpoint_every: Annotated[int, typer.Option(min=1)] = 10,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/last.pt.")] = False,
    seed: Annotated[int, typer.Option()] = 0,
    threads: Annotated[int | None, typer.Option(min=1, help="torch CPU threads.")] = None,
    max_train_samples: Annotated[int | None, typer.Option(min=1)] = None,
    max_val_samples: Annotated[
        int | None, typer.Option(min=1, help="Validate on at most this many samples.")
    ] = None,
    text_model: Annotated[
        str | None,
        typer.Option(help="Where the dataset's text model lives (recorded for inference)."),
    ] = None,
    spectrum_weight: Annotated[
        float,
        typer.Option(min=0.0, help="Weight of the phase-free pose spectrum loss (0 = off)."),
    ] = DEFAULT_SPECTRUM_WEIGHT,
    plan_dropout: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of training samples that see no action plan."),
    ] = PLAN_DROPOUT,
) -> None:
    """Train the text-to-motion model on DATASET (Ctrl-C saves last.pt; --resume continues)."""
    from stickgen.train import LossWeights, train

    _check_preset(preset)
    out_dir = out if out is not None else Path("checkpoints") / dataset.resolve().name
    with _stop_on_interrupt() as stop, progress_bar(f"training {preset}") as progress:
        try:
            result = train(
                dataset,
                out_dir,
                preset=preset,
                epochs=epochs,
                batch_size=batch_size,
                accumulate=accumulate,
                lr=lr,
                warmup_epochs=min(warmup_epochs, epochs),
                checkpoint_every=checkpoint_every,
                resume=resume,
                seed=seed,
                threads=threads,
                max_train_samples=max_train_samples,
                max_val_samples=max_val_samples,
                progress=progress,
                should_stop=lambda: stop[0],
                text_model=text_model,
                loss_weights=LossWeights(spectrum=spectrum_weight),
                plan_dropout=plan_dropout,
            )
        except Cancelled as exc:
            raise fail(f"{exc} (continue with --resume)", code=130) from None
    last = result.history[-1] if result.history else {}
    console.print(
        f"trained {result.preset} ({result.num_parameters:,} parameters) for "
        f"{result.epochs_completed} epochs, {result.steps} steps; "
        f"val_loss {last.get('val_loss', float('nan')):.4f} "
        f"(text only {last.get('val_loss_text', float('nan')):.4f}), "
        f"action accuracy {last.get('val_action_accuracy', float('nan')):.3f} "
        f"(text only {last.get('val_action_accuracy_text', float('nan')):.3f})"
    )
    console.print(f"best: {result.best_checkpoint}  last: {result.last_checkpoint}")


@app.command("pipeline")
def pipeline_command(
    workdir: Annotated[Path, typer.Option(help="Work directory (dataset/, checkpoints/).")] = Path(
        "runs/pipeline"
    ),
    num_base: Annotated[int, typer.Option(min=1, help="Base scenes to generate.")] = 1000,
    preset: Annotated[str, typer.Option()] = "small",
    epochs: Annotated[int, typer.Option(min=1)] = 50,
    model: Annotated[
        str | None, typer.Option(help="Text model: hub name or local directory.")
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
    batch_size: Annotated[int, typer.Option(min=1)] = 16,
    accumulate: Annotated[int, typer.Option(min=1)] = 4,
    threads: Annotated[int | None, typer.Option(min=1)] = None,
) -> None:
    """Generate -> validate -> embed -> validate -> train, stopping at the first failure."""
    from stickgen.pipeline import run_pipeline

    _check_preset(preset)
    with _stop_on_interrupt() as stop, progress_bar("pipeline") as progress:
        try:
            result = run_pipeline(
                workdir,
                num_base=num_base,
                epochs=epochs,
                preset=preset,
                model=model,
                seed=seed,
                progress=progress,
                should_stop=lambda: stop[0],
                batch_size=batch_size,
                accumulate=accumulate,
                threads=threads,
            )
        except Cancelled as exc:
            raise fail(f"{exc} (rerun the same command to continue)", code=130) from None
    for note in result.notes:
        console.print(note)
    console.print(
        f"dataset {result.dataset}; best checkpoint {result.train.best_checkpoint} "
        f"(val_loss {result.train.best_val_loss:.4f})"
    )


@app.command("score")
def score_command(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint file (best.pt, last.pt, ...).")],
    dataset: Annotated[Path, typer.Argument(help="The embedded dataset it was trained on.")],
    split: Annotated[str, typer.Option(help="train, val or test.")] = "test",
    max_samples: Annotated[int | None, typer.Option(min=1)] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="torch CPU threads.")] = None,
) -> None:
    """Score CHECKPOINT on a held-out split: generation loss, smoothness, position error and the
    action head's per-frame accuracy, with the true action plan and from text alone."""
    import torch

    from stickgen.train.score import score_checkpoint

    if threads is not None:
        torch.set_num_threads(threads)
    with progress_bar(f"scoring on {split}") as progress:
        scores = score_checkpoint(
            checkpoint, dataset, split=split, max_samples=max_samples, progress=progress
        )
    lines = [f"{scores['split']} split, {scores['samples']} samples, epoch {scores['epoch']}"]
    for key in sorted(k for k in scores if k.startswith("val_")):
        lines.append(f"  {key.removeprefix('val_'):<26} {scores[key]:.4f}")
    typer.echo("\n".join(lines))
