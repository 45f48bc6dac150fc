"""Render + encode benchmark: a 250-frame 512x512 clip (run by hand).

    .venv/bin/python benchmarks/render.py [--frames 250] [--size 512] [--threads 1]

Prints frames/s for
  * stickgen.render (OpenCV, anti-aliased) drawing only, and drawing + H.264 encoding;
  * a Pillow renderer of the same figure with 2x supersampling (the drawing library we rejected);
  * a plain matplotlib renderer of the same figure (the named baseline),
and the ratios against matplotlib. `--threads 1` (default) pins OpenCV to
one thread so the drawing figure reflects one core; the encode line also reports CPU seconds of
this process plus the ffmpeg child, the one-core equivalent of the full clip.
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


def render_pillow(motion: np.ndarray, size: int, supersample: int = 2) -> float:
    """Seconds to draw every frame with Pillow at `supersample`x, then downsample."""
    from PIL import Image, ImageDraw

    seg, head, scale = _pixels(motion, size)
    k = supersample
    width = max(1, round(0.045 * scale * k))
    start = time.perf_counter()
    for t in range(len(motion)):
        img = Image.new("RGB", (size * k, size * k), (246, 244, 238))
        draw = ImageDraw.Draw(img)
        for s in range(5):
            (x1, y1), (x2, y2) = seg[t, s] * k
            draw.line([(x1, y1), (x2, y2)], fill=(62, 82, 128), width=width, joint="curve")
            for x, y in ((x1, y1), (x2, y2)):  # round caps
                draw.ellipse(
                    [x - width / 2, y - width / 2, x + width / 2, y + width / 2], (62, 82, 128)
                )
        hx, hy = head[t] * k
        r = 0.156 * scale * k
        draw.ellipse([hx - r, hy - r, hx + r, hy + r], (255, 253, 248), (62, 82, 128), width)
        np.asarray(img.resize((size, size), Image.Resampling.BOX))
    return time.perf_counter() - start


def render_matplotlib(motion: np.ndarray, size: int, sink=None) -> float:
    """Seconds to draw every frame with a plain matplotlib figure and read its pixels back.

    `sink(frame)` receives each frame (used to time matplotlib + the same encoder).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    seg, head, scale = _pixels(motion, size)
    dpi = 100
    start = time.perf_counter()
    fig = plt.figure(figsize=(size / dpi, size / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    for t in range(len(motion)):
        ax.clear()
        ax.set_xlim(0, size)
        ax.set_ylim(size, 0)
        ax.axis("off")
        for s in range(5):
            (x1, y1), (x2, y2) = seg[t, s]
            ax.plot(
                [x1, x2],
                [y1, y2],
                color="#3e5280",
                lw=0.045 * scale * 72 / dpi,
                solid_capstyle="round",
            )
        ax.add_patch(Circle(tuple(head[t]), 0.156 * scale, fc="white", ec="#3e5280", lw=3))
        fig.canvas.draw()
        frame = np.ascontiguousarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])
        if sink is not None:
            sink(frame)
    plt.close(fig)
    return time.perf_counter() - start


def _matplotlib_video(motion: np.ndarray, size: int) -> float:
    """Seconds for the matplotlib baseline drawing frames into the same H.264 encoder settings."""
    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(Path(tmp) / "mpl.mp4"),
            (size, size),
            fps=25,
            codec="libx264",
            quality=None,
            macro_block_size=1,
            output_params=["-preset", "superfast", "-crf", "20", "-movflags", "+faststart"],
        )
        writer.send(None)
        start = time.perf_counter()
        render_matplotlib(motion, size, sink=writer.send)
        writer.close()
        return time.perf_counter() - start


def _cpu_seconds() -> float:
    """CPU seconds used by this process and its finished children (the ffmpeg encoder)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import cv2

    cv2.setNumThreads(args.threads)
    from stickgen.face import face_track
    from stickgen.render import render_frames, write_video
    from stickgen.schema import ActionType

    motion = walking_motion(args.frames)
    face = face_track(np.full(args.frames, int(ActionType.WAVE)))
    n, size = args.frames, args.size
    list(render_frames(motion[:5], face[:5], size, size))  # warm-up

    start = time.perf_counter()
    for _ in render_frames(motion, face, size, size):
        pass
    draw_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        write_video(Path(tmp) / "warm.mp4", motion[:5], face[:5], width=size, height=size)
        before = _cpu_seconds()
        start = time.perf_counter()
        write_video(Path(tmp) / "bench.mp4", motion, face, width=size, height=size)
        full_s = time.perf_counter() - start
        full_cpu = _cpu_seconds() - before

    pillow_s = render_pillow(motion, size)
    mpl_s = render_matplotlib(motion, size)
    mpl_full_s = _matplotlib_video(motion, size)

    print(f"{n} frames at {size}x{size}")
    print(f"stickgen OpenCV draw     : {draw_s:6.3f} s  {n / draw_s:8.1f} frames/s")
    print(f"stickgen draw + H.264    : {full_s:6.3f} s  {n / full_s:8.1f} frames/s (wall)")
    print(f"  CPU time, python + ffmpeg: {full_cpu:6.3f} s  (one-core equivalent)")
    print(f"Pillow 2x supersampled   : {pillow_s:6.3f} s  {n / pillow_s:8.1f} frames/s")
    print(f"matplotlib (baseline)    : {mpl_s:6.3f} s  {n / mpl_s:8.1f} frames/s")
    print(f"matplotlib + same H.264  : {mpl_full_s:6.3f} s  {n / mpl_full_s:8.1f} frames/s")
    print(f"speed-up vs matplotlib   : draw {mpl_s / draw_s:.1f}x")
    print(f"                           full clip {mpl_full_s / full_s:.1f}x (both encode)")
    print(f"OpenCV vs Pillow (draw)  : {pillow_s / draw_s:.1f}x")


if __name__ == "__main__":
    main()
