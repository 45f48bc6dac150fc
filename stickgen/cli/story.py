"""`stick-gen story`: read a prompt the way the story engine does, and score it on a suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stickgen.cli.app import app, progress_bar

story_app = typer.Typer(
    help="The story engine: how prompts are read, and how well.", no_args_is_help=True
)
app.add_typer(story_app, name="story")

SWEEP = (0.30, 0.35, 0.40, 0.42, 0.45, 0.48, 0.50, 0.55, 0.60)


@story_app.command("plan")
def plan_command(
    prompt: Annotated[str, typer.Argument(help="The prompt to read.")],
    duration: Annotated[
        float | None, typer.Option(help="Seconds [default: from the prompt].")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Print the plan PROMPT gives and what was recognised, guessed and ignored."""
    from stickgen.story import parse_prompt
    from stickgen.story.check import describe_plan

    scene = parse_prompt(prompt, duration)
    report = scene.understanding
    assert report is not None
    if as_json:
        typer.echo(json.dumps({"plan": describe_plan(scene), **report.to_json()}, indent=2))
        return
    typer.echo(describe_plan(scene))
    typer.echo(report.summary())


@story_app.command("check")
def check_command(
    suite: Annotated[Path, typer.Argument(help="A JSON Lines suite of prompts and plans.")],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show passes too.")] = False,
    sweep: Annotated[
        bool, typer.Option(help="Score the suite at several similarity thresholds.")
    ] = False,
    min_share: Annotated[
        float | None,
        typer.Option(help="Exit 1 when less than this share passes, 0 to 1 [default: never]."),
    ] = None,
) -> None:
    """Score the story engine on SUITE: per-prompt pass/fail and the share that passed."""
    from stickgen.story.check import check_suite, load_suite

    cases = load_suite(suite)
    if sweep:
        _sweep(cases)
        return
    with progress_bar("parsing") as progress:
        result = check_suite(cases, progress=progress)
    for verdict in result.verdicts:
        if verdict.passed and not verbose:
            continue
        mark = "pass" if verdict.passed else "FAIL"
        line = f"{mark} {verdict.case.line}: {verdict.case.prompt} -> {verdict.got}"
        if verdict.reasons:
            line += f"  [{'; '.join(verdict.reasons)}]"
        typer.echo(line)
    for category, (done, total) in result.by_category().items():
        typer.echo(f"  {category or '-'}: {done}/{total}")
    flagged, nonsense = result.nonsense()
    per_prompt = 1000 * result.seconds / len(result.verdicts)
    typer.echo(
        f"{result.passed}/{len(result.verdicts)} prompts give the expected plan "
        f"({100 * result.share:.1f}%); nonsense reported as not understood: {flagged}/{nonsense}; "
        f"{per_prompt:.1f} ms per prompt"
    )
    if min_share is not None and result.share < min_share:
        raise typer.Exit(1)


def _sweep(cases) -> None:
    """Scores with the action and expression thresholds varied one at a time."""
    from stickgen.story import parse_prompt
    from stickgen.story.check import check_suite
    from stickgen.story.meaning import ACTION_THRESHOLD, EXPRESSION_THRESHOLD, Thresholds

    for kind in ("action", "expression"):
        for value in SWEEP:
            limits = (
                Thresholds(value, EXPRESSION_THRESHOLD)
                if kind == "action"
                else Thresholds(ACTION_THRESHOLD, value)
            )
            result = check_suite(cases, lambda p, t=limits: parse_prompt(p, thresholds=t))
            flagged, nonsense = result.nonsense()
            typer.echo(
                f"{kind} threshold {value:.2f}: {result.passed}/{len(result.verdicts)} "
                f"({100 * result.share:.1f}%), nonsense flagged {flagged}/{nonsense}"
            )
