"""Render + encode benchmark: a 250-frame 512x512 clip (run by hand).

    .venv/bin/python benchmarks/render.py [--frames 250] [--size 512] [--threads 1]

Prints wall and CPU seconds (this process plus the ffmpeg child) and frames per CPU second for
  * stickgen.render (OpenCV, anti-aliased) drawing only, and drawing + H.264 encoding;
  * a Pillow renderer of the same figure with 2x supersampling (the drawing library we rejected);
  * a plain matplotlib renderer of the same figure (the named baseline), alone and with the same
    H.264 encoder,
and the ratios against matplotlib. `--threads 1` (default) pins OpenCV to one thread; CPU seconds
(self + children) are the one-core equivalent and stay meaningful on a busy machine.

Then the encoder's head start: wall seconds of 0.3 s of motion-making work on one core (about a
model's sampling) followed by the MP4, with the encoder opened after the work (the baseline)
against before it, as `stickgen.animate.animate` does; the two ways take turns, each going
first in half the rounds.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def walking_motion(frames: int, fps: int = 25) -> np.ndarray:
    """A hand-made walk cycle travelling at 1.4 m/s, `[T, 20]`."""
    from stickgen.skeleton import ARM_LENGTH, LEG_LENGTH, TORSO_LENGTH

    t = np.arange(frames) / fps
    swing = 0.4 * np.sin(2 * np.pi * 1.8 * t)
    hip = np.stack([1.4 * t, LEG_LENGTH * np.cos(np.abs(swing))], -1)
    neck = hip + TORSO_LENGTH * np.array([np.sin(0.05), np.cos(0.05)])

    def limb(origin: np.ndarray, angle: np.ndarray, length: float) -> np.ndarray:
        end = origin + length * np.stack([np.sin(angle), -np.cos(angle)], -1)
        return np.concatenate([origin, end], -1)

    parts = [
        np.concatenate([neck, hip], -1),
        limb(neck, -0.8 * swing, ARM_LENGTH),
        limb(neck, 0.8 * swing, ARM_LENGTH),
        limb(hip, swing, LEG_LENGTH),
        limb(hip, -swing, LEG_LENGTH),
    ]
    return np.concatenate(parts, -1).astype(np.float32)


def _pixels(motion: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Segments and head centres in pixels for the competitor renderers (same framing)."""
    from stickgen.render import make_camera
    from stickgen.skeleton import as_segments, head_centre

    cam = make_camera(motion[None], size, size)
    seg = cam.to_pixels(as_segments(motion))
    head = cam.to_pixels(head_centre(motion))
    return seg, head, cam.scale


def render_pillow(motion: np.ndarray, size: int, supersample: int = 2) -> None:
    """Draw every frame with Pillow at `supersample`x, then downsample (the rejected library)."""
    from PIL import Image, ImageDraw

    seg, head, scale = _pixels(motion, size)
    k = supersample
    width = max(1, round(0.045 * scale * k))
    colour, fill = (62, 82, 128), (255, 253, 248)
    for t in range(len(motion)):
        img = Image.new("RGB", (size * k, size * k), (246, 244, 238))
        draw = ImageDraw.Draw(img)
        for s in range(5):
            (x1, y1), (x2, y2) = seg[t, s] * k
            draw.line([(x1, y1), (x2, y2)], fill=colour, width=width)
            for x, y in ((x1, y1), (x2, y2)):  # round caps
                half = width / 2
                draw.ellipse([x - half, y - half, x + half, y + half], colour)
        hx, hy = head[t] * k
        r = 0.156 * scale * k
        draw.ellipse([hx - r, hy - r, hx + r, hy + r], fill, colour, width)
        np.asarray(img.resize((size, size), Image.Resampling.BOX))


def render_matplotlib(motion: np.ndarray, size: int, sink=None) -> None:
    """Draw every frame with a plain matplotlib figure and read its pixels back (the baseline).

    `sink(frame)` receives each frame (used to time matplotlib + an H.264 encoder).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    seg, head, scale = _pixels(motion, size)
    dpi = 100
    fig = plt.figure(figsize=(size / dpi, size / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    line_width = 0.045 * scale * 72 / dpi
    for t in range(len(motion)):
        ax.clear()
        ax.set_xlim(0, size)
        ax.set_ylim(size, 0)
        ax.axis("off")
        for s in range(5):
            (x1, y1), (x2, y2) = seg[t, s]
            ax.plot([x1, x2], [y1, y2], color="#3e5280", lw=line_width, solid_capstyle="round")
        ax.add_patch(Circle(tuple(head[t]), 0.156 * scale, fc="white", ec="#3e5280", lw=3))
        fig.canvas.draw()
        frame = np.ascontiguousarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])
        if sink is not None:
            sink(frame)
    plt.close(fig)


def matplotlib_video(motion: np.ndarray, size: int, path: Path) -> None:
    """The matplotlib baseline drawing into H.264 with the same encoder settings."""
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path),
        (size, size),
        fps=25,
        codec="libx264",
        quality=None,
        macro_block_size=1,
        output_params=["-preset", "superfast", "-crf", "20", "-movflags", "+faststart"],
    )
    writer.send(None)
    render_matplotlib(motion, size, sink=writer.send)
    writer.close()


def _cpu_seconds() -> float:
    """CPU seconds used by this process and its finished children (the ffmpeg encoder)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(work, repeat: int) -> tuple[float, float]:
    """Best wall seconds and best CPU seconds (this process + children) over `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, wall = _cpu_seconds(), time.perf_counter()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(_cpu_seconds() - cpu)
    return min(walls), min(cpus)


def _busy(seconds: float) -> None:
    """Keep one core busy for `seconds`, as a model sampling on one thread does."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def encoder_head_start(motion, face, size: int, repeats: int, out: Path) -> tuple[float, float]:
    """Median wall seconds of 0.3 s of motion-making work and then the MP4: (encoder opened
    after the work, opened before it)."""
    import statistics

    from stickgen.render import VideoEncoder, write_video

    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(repeats):
        for early in (False, True) if i % 2 else (True, False):  # each way goes first as often
            start = time.perf_counter()
            encoder = VideoEncoder(out / "h.mp4", size, size) if early else None
            _busy(0.3)
            write_video(out / "h.mp4", motion, face, width=size, height=size, encoder=encoder)
            times[early].append(time.perf_counter() - start)
    return statistics.median(times[False]), statistics.median(times[True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="Best of this many runs.")
    args = parser.parse_args()

    import cv2

    cv2.setNumThreads(args.threads)
    from stickgen.face import face_track
    from stickgen.render import render_frames, write_video
    from stickgen.schema import ActionType

    n, size = args.frames, args.size
    motion = walking_motion(n)
    face = face_track(np.full(n, int(ActionType.WAVE)))

    def draw() -> None:
        for _ in render_frames(motion, face, size, size):
            pass

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        write_video(out / "warm.mp4", motion[:5], face[:5], width=size, height=size)
        results = {
            "stickgen OpenCV draw": measure(draw, args.repeat),
            "stickgen draw + H.264 MP4": measure(
                lambda: write_video(out / "s.mp4", motion, face, width=size, height=size),
                args.repeat,
            ),
            "Pillow 2x supersampled draw": measure(lambda: render_pillow(motion, size), 1),
            "matplotlib draw (baseline)": measure(lambda: render_matplotlib(motion, size), 1),
            "matplotlib + same H.264": measure(
                lambda: matplotlib_video(motion, size, out / "m.mp4"), 1
            ),
        }
        late, early = encoder_head_start(motion, face, size, 5 * args.repeat, out)

    print(f"{n} frames at {size}x{size}; best of {args.repeat} for stickgen")
    print(f"{'':28s} {'wall s':>8s} {'CPU s':>8s} {'frames/CPU s':>13s}")
    for name, (wall, cpu) in results.items():
        print(f"{name:28s} {wall:8.3f} {cpu:8.3f} {n / cpu:13.1f}")
    cpu = {name: seconds for name, (_, seconds) in results.items()}
    ours_draw, ours_full = cpu["stickgen OpenCV draw"], cpu["stickgen draw + H.264 MP4"]
    print("ratios on CPU seconds (robust to other load on the machine):")
    print(f"  drawing vs matplotlib        {cpu['matplotlib draw (baseline)'] / ours_draw:6.1f}x")
    print(f"  drawing vs Pillow 2x         {cpu['Pillow 2x supersampled draw'] / ours_draw:6.1f}x")
    print(f"  full clip vs matplotlib+MP4  {cpu['matplotlib + same H.264'] / ours_full:6.1f}x")
    print(
        f"0.3 s of work + MP4 (median of {5 * args.repeat}): encoder opened after the work "
        f"{late * 1000:.0f} ms (baseline), before it {early * 1000:.0f} ms "
        f"({(late - early) * 1000:+.0f} ms, {late / early:.3f}x)"
    )


if __name__ == "__main__":
    main()
