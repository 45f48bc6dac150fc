"""Training records beside the checkpoints: `metrics.jsonl` and `loss_curve.png`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stickgen.files import replacing, write_text_atomic

METRICS = "metrics.jsonl"
CURVE = "loss_curve.png"


def write_metrics(out_dir: Path, history: list[dict[str, Any]]) -> Path:
    """Rewrite `metrics.jsonl` (one JSON object per epoch) atomically from the full history."""
    lines = "".join(json.dumps(row, sort_keys=True) + "\n" for row in history)
    return write_text_atomic(Path(out_dir) / METRICS, lines)


def read_metrics(out_dir: Path) -> list[dict[str, Any]]:
    path = Path(out_dir) / METRICS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_loss_curve(out_dir: Path, history: list[dict[str, Any]]) -> Path:
    """Train loss and validation losses (with plan, text only) per epoch, written atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(out_dir) / CURVE
    fig = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    epochs = [row["epoch"] for row in history]
    for key, label in (
        ("train_loss", "train"),
        ("val_loss", "val (text + plan)"),
        ("val_loss_text", "val (text only)"),
    ):
        values = [row.get(key) for row in history]
        if any(v is not None for v in values):
            ax.plot(epochs, values, marker="o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with replacing(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
