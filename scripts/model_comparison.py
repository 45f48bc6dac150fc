"""The procedural engine next to a trained checkpoint on the same test prompts, as MP4 and PNG.

Picks `--prompts` descriptions from the dataset's test split (seeded), plans each with the story
engine and generates it twice, with the procedural engine and with the checkpoint (same seed),
then renders a row per prompt (procedural left, model right) and prints how much each clip moves
and how often the model's predicted actions agree with the plan, as a Markdown table.

    .venv/bin/python scripts/model_comparison.py --checkpoint CKPT --dataset DIR \
        [--out-dir docs] [--prompts 5] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stickgen.animate import Animation, plan_animation
from stickgen.data.store import Dataset
from stickgen.render_panels import Panel, panel_stills, write_panels_video
from stickgen.schema import FPS
from stickgen.skeleton import as_segments

NAME = "model-vs-procedural"
PANEL = 256  # pixels, each panel's drawing
STILLS = 6  # frames per row in the PNG sheet
TITLE_CHARS = 44  # the panel title shows the start of the prompt


def test_prompts(dataset: Path, count: int, seed: int) -> list[str]:
    """`count` distinct test-split descriptions, chosen by a seeded shuffle."""
    ds = Dataset(dataset)
    rows = np.unique(np.asarray(ds.description_index[ds.split_indices("test")]))
    chosen = np.random.default_rng(seed).permutation(rows)[:count]
    return [ds.descriptions[int(r)] for r in chosen]


def movement(animation: Animation) -> dict[str, float]:
    """Mean joint speed (m/s, all 10 segment end points), hip travel (m) and hip height range."""
    motion = animation.clips[0].motion
    points = motion.reshape(len(motion), -1, 2)
    speed = np.linalg.norm(np.diff(points, axis=0), axis=-1).mean() * FPS
    hip = as_segments(motion)[:, 0, 1]
    return {
        "joint speed": float(speed),
        "hip travel": float(np.abs(hip[:, 0] - hip[0, 0]).max()),
        "hip height range": float(np.ptp(hip[:, 1])),
    }


def panel(animation: Animation, label: str) -> Panel:
    prompt = animation.scene.description
    short = prompt if len(prompt) <= TITLE_CHARS else prompt[: TITLE_CHARS - 3] + "..."
    return Panel(animation.clips[0].motion, f"{label}: {short}", face=animation.faces[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, default=Path("docs"))
    parser.add_argument("--prompts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    prompts = test_prompts(args.dataset, args.prompts, args.seed)
    panels, rows = [], []
    for prompt in prompts:
        engine = plan_animation(prompt, seed=args.seed)
        model = plan_animation(prompt, seed=args.seed, checkpoint=args.checkpoint)
        panels += [panel(engine, "procedural"), panel(model, "model")]
        planned = engine.clips[0].actions
        agree = float((model.clips[0].actions == planned).mean())
        rows.append((prompt, movement(engine), movement(model), agree))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    video = write_panels_video(args.out_dir / f"{NAME}.mp4", panels, PANEL, PANEL, columns=2)
    frames = max(p.num_frames for p in panels)
    indices = np.linspace(0, frames - 1, STILLS).round().astype(int).tolist()
    from PIL import Image

    sheet = panel_stills(panels, indices, 160, 160)
    Image.fromarray(sheet).save(args.out_dir / f"{NAME}.png", optimize=True)
    print(f"wrote {video} ({video.stat().st_size / 1e3:.0f} kB) and {NAME}.png")
    print("| prompt | joint speed, m/s (engine / model) | hip travel, m | hip height range, m "
          "| model actions = plan |")  # fmt: skip
    print("|---|---|---|---|---|")
    for prompt, ours, learned, agree in rows:
        cells = [f"{ours[k]:.2f} / {learned[k]:.2f}" for k in ours]
        print(f"| {prompt} | {' | '.join(cells)} | {agree:.2f} |")


if __name__ == "__main__":
    main()
