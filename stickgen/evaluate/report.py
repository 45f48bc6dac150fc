"""The evaluation as a Markdown page: context and chance levels, then one row per system and one
column per metric (mean ± 95% interval), then warnings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from stickgen.evaluate.protocol import METRICS
from stickgen.schema import action_vocabulary

ARROWS = {"higher": "↑", "lower": "↓", "ground truth": "→GT"}


def _cell(value: dict[str, float] | None) -> str:
    if value is None:
        return "–"
    mean, ci = value["mean"], value["ci"]
    size = max(abs(mean), abs(ci))
    # three significant figures for small values (0.000312), never fewer than 2 decimals
    digits = 2 if size >= 10 or size < 1e-6 else min(6, max(2, 2 - math.floor(math.log10(size))))
    return f"{mean:.{digits}f} ± {ci:.{digits}f}"


def _maybe(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _figures(values: list[float]) -> str:
    return "/".join(f"{v:.3f}" for v in values)


def _header(result: dict[str, Any]) -> list[str]:
    data, ev, proto, chance = (
        result["dataset"],
        result["evaluator"],
        result["protocol"],
        result["chance"],
    )
    own = ev.get("own", {})
    hard = result["hard_pools"]
    ceiling = result["ceiling"]
    mm_repeats = proto["mm_repeats"] if proto["mm_repeats"] is not None else proto["repeats"]
    lines = [
        "# Stick-Gen evaluation",
        "",
        f"- Dataset `{data['path']}` (id `{data['id']}`): {data['samples']} {data['split']} "
        f"prompts ({'all clips' if data['include_augmented'] else 'original clips only'}), "
        f"{data['frames']} frames each.",
        f"- Evaluator `{ev['path']}`: trained on dataset `{ev['dataset_id']}`"
        f"{'' if ev['same_dataset'] else ' (**another dataset**)'}; text side: {ev['text_model']} "
        f"(a vocabulary of {ev.get('vocabulary_size', '?')} words of its train split, learned "
        "with the motion encoder; no generator's text model). Own figures on the val split "
        f"({own.get('val_samples', '?')} clips): R@1/2/3 "
        f"{_figures(own.get('val_r_precision', []))}, hard R@1/2/3 "
        f"{_figures(own.get('val_hard_r_precision', []))} (pools of "
        f"{own.get('val_pool_size', '?')}), MM-Dist {own.get('val_mm_dist', float('nan')):.3f}, "
        f"classifier per-frame accuracy {own.get('val_action_accuracy', float('nan')):.3f}.",
        f"- Protocol: {proto['repeats']} repeats, mean ± 1.96·std/√{proto['repeats']}; "
        f"R-precision in pools of {proto['pool_size']}; diversity over "
        f"{proto['diversity_pairs']} pairs; multimodality {proto['mm_prompts']} prompts × "
        f"{proto['mm_generations']} generations × {proto['mm_pairs']} pairs in {mm_repeats} "
        f"repeats; seed {proto['seed']}.",
        f"- Chance: R@1 {chance['r_precision_top1']:.3f}, R@2 {chance['r_precision_top2']:.3f}, "
        f"R@3 {chance['r_precision_top3']:.3f} (the same in hard pools); action accuracy of "
        f"always predicting the most frequent planned action {chance['action_accuracy']:.3f}.",
        f"- Hard R@k: each prompt's pool of {proto['pool_size']} holds the other test prompts "
        "that look most like it (plan starting with the same action first, then the most "
        "actions in common); in repeat 0, "
        f"{100 * hard['negatives_sharing_first_action']:.0f}% of their negatives share the "
        f"prompt's first action, and all do for "
        f"{100 * hard['prompts_with_all_negatives_sharing']:.0f}% of prompts.",
        f"- Classifier ceiling (on the ground truth against the dataset's own labels): action "
        f"accuracy {ceiling['action_accuracy']:.3f}, order {_maybe(ceiling['order_accuracy'])} "
        f"({ceiling['order_checked_prompts']} multi-action prompts). Rows are scored against the "
        "story engine's parse of each prompt, whose timing can differ from the scene the "
        "ground truth was drawn from.",
        "- Arrows: ↑ higher is better, ↓ lower is better, →GT closer to ground truth is better.",
        "",
    ]
    return lines


def top_confusions(confusion: list[list[int]], count: int = 3) -> list[tuple[str, str, float]]:
    """The `count` largest off-diagonal cells as (planned, predicted, share of the planned
    action's frames)."""
    matrix = np.asarray(confusion, dtype=np.float64)
    off = matrix.copy()
    np.fill_diagonal(off, 0.0)
    names = action_vocabulary()
    out = []
    for flat in np.argsort(off, axis=None)[::-1][:count]:
        planned, predicted = divmod(int(flat), matrix.shape[1])
        if off[planned, predicted] <= 0:
            break
        share = off[planned, predicted] / matrix[planned].sum()
        out.append((names[planned], names[predicted], float(share)))
    return out


def markdown_report(result: dict[str, Any]) -> str:
    """The page for an `evaluate_checkpoints` result."""
    lines = _header(result)
    columns = ["System", *(f"{m.label} {ARROWS[m.better]}" for m in METRICS)]
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "---|" * len(columns))
    warnings = list(result.get("warnings", []))
    for name, row in result["systems"].items():
        flag = " ⚠" if row["warnings"] else ""
        cells = [f"{name}{flag}", *(_cell(row["metrics"][m.key]) for m in METRICS)]
        lines.append("| " + " | ".join(cells) + " |")
        warnings += [f"{name}: {w}" for w in row["warnings"]]
    if warnings:
        lines += ["", "## Warnings", "", *(f"- {w}" for w in warnings)]
    confused = [
        f"{name}: "
        + ", ".join(f"{a} → {b} {100 * p:.0f}%" for a, b, p in top_confusions(row["confusion"]))
        for name, row in result["systems"].items()
        if row["kind"] != "calibration"
    ]
    lines += [
        "",
        "## Most confused actions (planned → predicted, share of the planned action's frames)",
        "",
        *(f"- {line}" for line in confused),
    ]
    notes = [f"{name}: {n}" for name, row in result["systems"].items() for n in row["notes"]]
    if notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"
