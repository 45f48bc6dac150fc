"""`stick-gen evaluate`: score ground truth, baselines and checkpoints on a dataset's test split."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stickgen.cli.app import app, console, fail, progress_bar, warn_if_emulated
from stickgen.errors import Cancelled


@app.command("evaluate")
def evaluate_command(
    dataset: Annotated[Path, typer.Option(help="Dataset directory (its test split is scored).")],
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            help="A checkpoint to score (repeat the option) [default: none, baselines only]."
        ),
    ] = None,
    evaluator: Annotated[
        Path | None,
        typer.Option(help="Evaluator file (default: trained on DATASET's train split, cached)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where evaluation.json and .md go.")] = Path(
        "evaluation"
    ),
    repeats: Annotated[int, typer.Option(min=1, help="Repeats for mean and 95% CI.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of every draw (pools, noise, subsets).")] = 0,
    mm_prompts: Annotated[int, typer.Option(min=1, help="Multimodality prompts.")] = 100,
    mm_generations: Annotated[int, typer.Option(min=2, help="Generations per prompt.")] = 30,
    mm_repeats: Annotated[
        int | None, typer.Option(min=0, help="Repeats that measure multimodality (default all).")
    ] = None,
    evaluator_epochs: Annotated[
        int, typer.Option(min=1, help="Epochs when an evaluator is trained.")
    ] = 12,
    text_model: Annotated[
        str | None,
        typer.Option(
            help="Where the checkpoints' text model lives [default: the one each records]."
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="torch CPU threads [default: every usable core].")
    ] = None,
    guidance: Annotated[
        str | None,
        typer.Option(
            help="Diffusion checkpoints' guidance: W, or TEXT,PLAN scales (default: the model's)."
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(min=1, help="Checkpoints' sampling steps [default: each model's own]."),
    ] = None,
    text_alone: Annotated[
        bool,
        typer.Option(
            "--text-alone",
            help="Also score each checkpoint from its prompts alone (no story-engine plan).",
        ),
    ] = False,
    device: Annotated[str, typer.Option(help="Checkpoints' device: auto, cpu, cuda or cuda:N.")] = (
        "auto"
    ),
    precision: Annotated[
        str,
        typer.Option(
            help="Checkpoints' sampling precision: fp32, bf16, or auto (bf16 where native); "
            "fp32 keeps figures comparable across machines."
        ),
    ] = "fp32",
) -> None:
    """Score DATASET's test split: ground truth, baselines, noise rows and each --checkpoint."""
    from stickgen.compute import resolve_device, resolve_precision
    from stickgen.diffusion import Guidance
    from stickgen.evaluate import EvaluatorTraining, evaluate_checkpoints

    scales = Guidance.parse(guidance) if guidance is not None else None
    resolve_precision(precision, resolve_device(device))  # a bad choice stops before any work
    warn_if_emulated(precision, device)

    with progress_bar("evaluating") as progress:
        try:
            result = evaluate_checkpoints(
                dataset,
                checkpoint or [],
                evaluator=evaluator,
                out_dir=out,
                seed=seed,
                repeats=repeats,
                progress=progress,
                protocol_options={
                    "mm_prompts": mm_prompts,
                    "mm_generations": mm_generations,
                    "mm_repeats": mm_repeats,
                },
                generator_text_model=text_model,
                evaluator_settings=EvaluatorTraining(epochs=evaluator_epochs, seed=seed),
                threads=threads,
                guidance=scales,
                steps=steps,
                device=device,
                precision=precision,
                text_alone=text_alone,
            )
        except Cancelled as exc:
            raise fail(str(exc), code=130) from None
    typer.echo(Path(result["files"]["markdown"]).read_text())
    for name, row in result["systems"].items():
        for warning in row["warnings"]:
            console.print(f"[yellow]warning:[/] {name}: {warning}")
    console.print(f"wrote {result['files']['json']} and {result['files']['markdown']}")
