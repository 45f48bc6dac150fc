"""A real walk (motion capture) next to a procedural walk of the same length, as MP4 and PNG.

Fetches the bvhtoolbox 0.1.3 sdist with pip into a temporary folder (its example BVH files are
not part of this repository), imports its Mixamo walk with `import_mocap`, asks the procedural
engine for "A person walks" lasting as long, renders both side by side and prints gait figures
measured on both clips as a Markdown table. Needs a pip index that has the sdist (PyPI).

    .venv/bin/python scripts/mocap_comparison.py [--out-dir docs] [--seed 0]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from stickgen.animate import make_animation
from stickgen.data.mocap import import_mocap
from stickgen.data.store import Dataset
from stickgen.render_panels import Panel, panel_stills, write_panels_video
from stickgen.schema import FPS
from stickgen.skeleton import as_segments

SDIST = "bvhtoolbox==0.1.3"
WALK = "test_freebvh.bvh"  # a Mixamo walk, 30 fps
NAME = "mocap-walk-vs-procedural"
PANEL = 384  # pixels, each panel's drawing
STILLS = 8  # frames in the PNG sheet


def fetch_walk(folder: Path) -> Path:
    """Download the sdist with pip and extract the walk BVH into `folder`."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "--no-build-isolation", SDIST, "-d", str(folder), "-q"],
        check=True,
    )  # fmt: skip
    archive = next(folder.glob("bvhtoolbox-*.tar.gz"))
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(f"/{WALK}"))
        tar.extractall(folder, members=[member], filter="data")
    return folder / member.name


def real_walk(bvh: Path, scratch: Path, seed: int) -> Panel:
    """The capture as one clip (no cutting), its faces from the inferred actions."""
    path = import_mocap([bvh], scratch / "walk", clip_seconds=60, seed=seed)
    data = Dataset(path)
    frames = data.manifest["origins"][0]["real_frames"]
    sample = data[0]
    title = "capture: Mixamo walk (bvhtoolbox)"
    return Panel(sample["motion"][:frames], title, face=sample["face"][:frames])


def procedural_walk(seconds: float, seed: int) -> Panel:
    animation = make_animation("A person walks", duration=seconds, seed=seed)
    clip = animation.clips[0]
    return Panel(clip.motion, "procedural: A person walks", face=animation.faces[0])


def gait(motion: np.ndarray, fps: int = FPS) -> dict[str, float]:
    """Figures that tell walks apart: travel, speed profile, step rhythm, bob, swing, lean."""
    seg = as_segments(motion)
    neck, hip = seg[:, 0, 0], seg[:, 0, 1]
    feet = seg[:, 3:, 1]  # [T, 2, xy]
    lead = feet[:, 0, 0] - feet[:, 1, 0]  # which foot is ahead, and by how much
    crossings = np.flatnonzero(np.diff(np.sign(lead)) != 0)
    step_times = np.diff(crossings) / fps
    hands = seg[:, 1:3, 1, 0] - neck[:, None, 0]  # hands ahead of the neck
    velocity = np.convolve(np.gradient(hip[:, 0]) * fps, np.ones(5) / 5, mode="same")
    moving = np.abs(velocity) > 0.2
    lean = np.degrees(np.arctan2(neck[:, 0] - hip[:, 0], neck[:, 1] - hip[:, 1]))
    start = max(1, round(0.2 * fps))
    return {
        "hip travel, m (farthest from start)": float(np.abs(hip[:, 0] - hip[0, 0]).max()),
        "speed over the first 0.2 s, m/s": float(abs(hip[start, 0] - hip[0, 0]) * fps / start),
        "peak speed, m/s": float(np.abs(velocity).max()),
        "direction changes": int((np.diff(np.sign(velocity[moving])) != 0).sum()),
        "steps (feet passing) per second": len(crossings) * fps / len(motion),
        "step time spread, s (std)": float(step_times.std()) if len(step_times) > 1 else 0.0,
        "largest gap between the feet, m": float(np.abs(lead).max()),
        "hip bob, m (height range)": float(np.ptp(hip[:, 1])),
        "arm swing, m (hand range, mean of both)": float(np.ptp(hands, axis=0).mean()),
        "torso lean, deg (mean)": float(np.abs(lean).mean()),
        "torso lean, deg (range)": float(np.ptp(lean)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path("docs"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stickgen-walk-") as tmp:
        real = real_walk(fetch_walk(Path(tmp)), Path(tmp), args.seed)
    synthetic = procedural_walk(real.num_frames / FPS, args.seed)
    panels = [real, synthetic]
    video = write_panels_video(args.out_dir / f"{NAME}.mp4", panels, PANEL, PANEL)
    indices = np.linspace(0, real.num_frames - 1, STILLS).round().astype(int)
    still = panel_stills(panels, indices.tolist(), 192, 192)
    from PIL import Image

    Image.fromarray(still).save(args.out_dir / f"{NAME}.png", optimize=True)
    print(f"wrote {video} ({video.stat().st_size / 1e3:.0f} kB) and {NAME}.png")
    figures = [gait(p.motion) for p in panels]
    print(f"| {real.num_frames / FPS:.2f} s at {FPS} fps | capture | procedural |")
    print("|---|---:|---:|")
    for key in figures[0]:
        cells = [f"{f[key]}" if isinstance(f[key], int) else f"{f[key]:.2f}" for f in figures]
        print(f"| {key} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
