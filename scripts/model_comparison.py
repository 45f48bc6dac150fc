"""The procedural engine next to trained checkpoints on the same test prompts, as MP4 and PNG.

Picks `--prompts` descriptions from the dataset's test split (seeded), plans each with the story
engine and generates it with the procedural engine and with every checkpoint (same seed), then
renders a row per prompt (procedural first) and prints how much each clip moves and how often each
model's predicted actions agree with the plan, as a Markdown table. `--checkpoint` repeats, as
`PATH` or `LABEL=PATH`.

    .venv/bin/python scripts/model_comparison.py --checkpoint [LABEL=]CKPT ... --dataset DIR \
        [--out-dir docs] [--prompts 5] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stickgen.animate import Animation, make_animation
from stickgen.data.store import Dataset
from stickgen.render_panels import Panel, panel_stills, write_panels_video
from stickgen.schema import FPS
from stickgen.skeleton import LEFT_LEG, RIGHT_LEG, TORSO, as_segments

NAME = "model-vs-procedural"
PANEL = 192  # pixels, each panel's drawing
STILLS = 6  # frames per row in the PNG sheet
TITLE_CHARS = 44  # the panel title shows the start of the prompt


def test_prompts(dataset: Path, count: int, seed: int) -> list[str]:
    """`count` distinct test-split descriptions, chosen by a seeded shuffle."""
    ds = Dataset(dataset)
    rows = np.unique(np.asarray(ds.description_index[ds.split_indices("test")]))
    chosen = np.random.default_rng(seed).permutation(rows)[:count]
    return [ds.descriptions[int(r)] for r in chosen]


def movement(animation: Animation) -> dict[str, float]:
    """Mean joint speed (m/s, all 10 segment end points), hip travel (m), hip height range (m)
    and foot swing: how far each foot ranges fore and aft of the hip (peak to peak, m), mean of
    the two feet; a figure that glides instead of stepping keeps it near zero."""
    motion = animation.clips[0].motion
    points = motion.reshape(len(motion), -1, 2)
    speed = np.linalg.norm(np.diff(points, axis=0), axis=-1).mean() * FPS
    segments = as_segments(motion)
    hip = segments[:, TORSO, 1]
    feet = segments[:, [LEFT_LEG, RIGHT_LEG], 1, 0] - hip[:, None, 0]
    return {
        "joint speed": float(speed),
        "hip travel": float(np.abs(hip[:, 0] - hip[0, 0]).max()),
        "hip height range": float(np.ptp(hip[:, 1])),
        "foot swing": float(np.ptp(feet, axis=0).mean()),
    }


def panel(animation: Animation, label: str) -> Panel:
    prompt = animation.scene.description
    short = prompt if len(prompt) <= TITLE_CHARS else prompt[: TITLE_CHARS - 3] + "..."
    return Panel(animation.clips[0].motion, f"{label}: {short}", face=animation.faces[0])


def labelled(value: str) -> tuple[str, Path]:
    """`LABEL=PATH` or `PATH` (labelled "model")."""
    label, _, path = value.rpartition("=")
    return (label or "model"), Path(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=labelled, action="append", required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, default=Path("docs"))
    parser.add_argument("--prompts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    prompts = test_prompts(args.dataset, args.prompts, args.seed)
    panels, rows = [], []
    for prompt in prompts:
        engine = make_animation(prompt, seed=args.seed)
        panels.append(panel(engine, "procedural"))
        figures, agreement = [movement(engine)], []
        for label, checkpoint in args.checkpoint:
            model = make_animation(prompt, seed=args.seed, checkpoint=checkpoint)
            panels.append(panel(model, label))
            figures.append(movement(model))
            agreement.append(float((model.clips[0].actions == engine.clips[0].actions).mean()))
        rows.append((prompt, figures, agreement))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    columns = 1 + len(args.checkpoint)
    video = write_panels_video(args.out_dir / f"{NAME}.mp4", panels, PANEL, PANEL, columns=columns)
    frames = max(p.num_frames for p in panels)
    indices = np.linspace(0, frames - 1, STILLS).round().astype(int).tolist()
    from PIL import Image

    sheet = panel_stills(panels, indices, 160, 160)
    Image.fromarray(sheet).save(args.out_dir / f"{NAME}.png", optimize=True)
    print(f"wrote {video} ({video.stat().st_size / 1e3:.0f} kB) and {NAME}.png")
    names = " / ".join(["engine", *(label for label, _ in args.checkpoint)])
    keys = list(rows[0][1][0])
    print(f"| prompt | {' | '.join(f'{k} ({names})' for k in keys)} | actions = plan |")
    print("|---" * (len(keys) + 2) + "|")
    for prompt, figures, agreement in rows:
        cells = [" / ".join(f"{f[k]:.2f}" for f in figures) for k in keys]
        agree = " / ".join(f"{a:.2f}" for a in agreement)
        print(f"| {prompt} | {' | '.join(cells)} | {agree} |")


if __name__ == "__main__":
    main()
