"""`stick-gen train`, `stick-gen score` and `stick-gen pipeline`: train the text-to-motion model
and score a checkpoint on a held-out split."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from stickgen.cli.app import app, console, fail, progress_bar, warn_if_emulated
from stickgen.errors import Cancelled, StickGenError
from stickgen.model import PRESETS
from stickgen.textmodels import BUNDLED_MODEL, PRODUCTION_MODEL
from stickgen.train.config import TrainConfig
from stickgen.train.losses import LossWeights


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


DEFAULTS = TrainConfig()
PRESET_HELP = f"Model size: {', '.join(PRESETS)} (base: the plan's ~15.5M parameters)"


def _config(**values: Any) -> TrainConfig:
    """A `TrainConfig` from command-line values (errors become one-line CLI failures)."""
    try:
        return TrainConfig(**values)
    except StickGenError as exc:
        raise fail(str(exc)) from None


@app.command("train")
def train_command(
    dataset: Annotated[Path, typer.Argument(help="Embedded dataset directory.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Checkpoint directory [default: checkpoints/DATASET_NAME]."),
    ] = None,
    preset: Annotated[
        str, typer.Option(help=PRESET_HELP + "; a distillation keeps its teacher's.")
    ] = DEFAULTS.preset,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the train split.")] = (
        DEFAULTS.epochs
    ),
    batch_size: Annotated[
        int, typer.Option(min=1, help="Samples per batch (all processes together).")
    ] = DEFAULTS.batch_size,
    accumulate: Annotated[int, typer.Option(min=1, help="Batches per optimizer step.")] = (
        DEFAULTS.accumulate
    ),
    lr: Annotated[float, typer.Option(min=0.0, help="Peak learning rate.")] = DEFAULTS.lr,
    warmup_epochs: Annotated[
        int | None,
        typer.Option(min=0, help="Linear warmup epochs [default: min(10, epochs / 5)]."),
    ] = None,
    checkpoint_every: Annotated[
        int, typer.Option(min=1, help="Keep checkpoint_epoch_N.pt every N epochs.")
    ] = DEFAULTS.checkpoint_every,
    keep_epoch_checkpoints: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Keep the newest N checkpoint_epoch_*.pt (best.pt and last.pt always stay; "
            "0: write none).",
        ),
    ] = DEFAULTS.keep_epoch_checkpoints,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/last.pt.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the data order and every draw.")] = (
        DEFAULTS.seed
    ),
    max_train_samples: Annotated[
        int | None, typer.Option(min=1, help="Train on at most this many samples [default: all].")
    ] = None,
    max_val_samples: Annotated[
        int | None,
        typer.Option(min=1, help="Validate on at most this many samples [default: all]."),
    ] = None,
    text_model: Annotated[
        str | None,
        typer.Option(
            help="Where the dataset's text model lives, recorded for inference "
            "[default: the source its manifest records]."
        ),
    ] = None,
    spectrum_weight: Annotated[
        float,
        typer.Option(min=0.0, help="Weight of the phase-free pose spectrum loss (0 = off)."),
    ] = DEFAULTS.loss_weights.spectrum,
    plan_dropout: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of training samples that see no action plan."),
    ] = DEFAULTS.plan_dropout,
    precision: Annotated[
        str,
        typer.Option(help="auto (bf16 where the hardware runs it natively), fp32 or bf16."),
    ] = DEFAULTS.precision,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    nproc: Annotated[
        int,
        typer.Option(min=1, help="Data-parallel processes on this machine (torch.distributed)."),
    ] = 1,
    threads: Annotated[
        int | None, typer.Option(min=1, help="torch threads per process [default: cores / nproc].")
    ] = None,
    distill: Annotated[
        Path | None,
        typer.Option(
            help="Distil this checkpoint (the teacher) into a few-step sampler: start from its "
            "weights (and preset) and learn its clips for DATASET's prompts (at most 1,024 "
            "train and 64 val unless limited) [default: none, train from scratch]."
        ),
    ] = None,
    sample_steps: Annotated[
        int | None,
        typer.Option(
            min=1, help="DDIM steps the model samples with by default [default: 20; 4 distilled]."
        ),
    ] = None,
) -> None:
    """Train the text-to-motion model on DATASET (Ctrl-C saves last.pt; --resume continues)."""
    from stickgen.train import train

    if distill is not None and not distill.is_file():
        raise fail(f"no checkpoint to distil at {distill}")

    config = _config(
        preset=preset,
        epochs=epochs,
        batch_size=batch_size,
        accumulate=accumulate,
        lr=lr,
        warmup_epochs=warmup_epochs,
        checkpoint_every=checkpoint_every,
        keep_epoch_checkpoints=keep_epoch_checkpoints,
        seed=seed,
        max_train_samples=max_train_samples,
        max_val_samples=max_val_samples,
        plan_dropout=plan_dropout,
        loss_weights=LossWeights(spectrum=spectrum_weight),
        precision=precision,
        teacher=str(distill.resolve()) if distill is not None else None,
        sample_steps=sample_steps,
    )
    out_dir = out if out is not None else Path("checkpoints") / dataset.resolve().name
    warn_if_emulated(precision, device)
    what = f"distilling {distill.name}" if distill is not None else f"training {preset}"
    with _stop_on_interrupt() as stop, progress_bar(what) as progress:
        try:
            result = train(
                dataset,
                out_dir,
                config,
                resume=resume,
                device=device,
                nproc=nproc,
                threads=threads,
                progress=progress,
                should_stop=lambda: stop[0],
                text_model=text_model,
            )
        except Cancelled as exc:
            raise fail(f"{exc} (continue with --resume)", code=130) from None
    last = result.history[-1] if result.history else {}
    if distill is not None:
        console.print(
            f"distilled into {config.steps} step(s): gap to the teacher's clips (val_loss) "
            f"{last.get('val_loss', float('nan')):.4f}"
        )
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
    workdir: Annotated[
        Path, typer.Option(help="Work directory (dataset/, checkpoints/); a rerun continues.")
    ] = Path("runs/pipeline"),
    num_base: Annotated[
        int, typer.Option(min=1, help="Base scenes to generate (x5 samples with augmentation).")
    ] = 1000,
    preset: Annotated[str, typer.Option(help=PRESET_HELP + ".")] = "small",
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs.")] = 50,
    model: Annotated[
        str,
        typer.Option(
            help=f"Text model: {BUNDLED_MODEL} (installed, works offline), a hub name such as "
            f"{PRODUCTION_MODEL} (downloaded once, needs the internet) or a local "
            "sentence-transformers folder."
        ),
    ] = BUNDLED_MODEL,
    seed: Annotated[int, typer.Option(help="Seed of generation and training.")] = 0,
    batch_size: Annotated[int, typer.Option(min=1, help="Samples per batch.")] = (
        DEFAULTS.batch_size
    ),
    accumulate: Annotated[int, typer.Option(min=1, help="Batches per optimizer step.")] = (
        DEFAULTS.accumulate
    ),
    threads: Annotated[
        int | None, typer.Option(min=1, help="torch threads [default: all cores].")
    ] = None,
) -> None:
    """Generate -> validate -> embed -> validate -> train, stopping at the first failure."""
    from stickgen.pipeline import run_pipeline

    config = _config(
        preset=preset,
        epochs=epochs,
        batch_size=batch_size,
        accumulate=accumulate,
        checkpoint_every=min(DEFAULTS.checkpoint_every, epochs),
        seed=seed,
    )
    with _stop_on_interrupt() as stop, progress_bar("pipeline") as progress:
        try:
            result = run_pipeline(
                workdir,
                num_base=num_base,
                train_config=config,
                model=model,
                progress=progress,
                should_stop=lambda: stop[0],
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
    max_samples: Annotated[
        int | None, typer.Option(min=1, help="Score at most this many samples [default: all].")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="torch CPU threads [default: every usable core].")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
) -> None:
    """Score CHECKPOINT on a held-out split: generation loss, smoothness, position error and the
    action head's per-frame accuracy, with the true action plan and from text alone."""
    import torch

    from stickgen.train.score import score_checkpoint

    if threads is not None:
        torch.set_num_threads(threads)
    with progress_bar(f"scoring on {split}") as progress:
        scores = score_checkpoint(
            checkpoint,
            dataset,
            split=split,
            max_samples=max_samples,
            progress=progress,
            device=device,
        )
    lines = [f"{scores['split']} split, {scores['samples']} samples, epoch {scores['epoch']}"]
    for key in sorted(k for k in scores if k.startswith("val_")):
        lines.append(f"  {key.removeprefix('val_'):<26} {scores[key]:.4f}")
    typer.echo("\n".join(lines))
