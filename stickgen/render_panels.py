"""Several clips in one video, side by side: each clip in its own titled panel.

For comparisons: imported capture next to the procedural engine, or the engine next to a trained
model on the same prompts. Every panel is drawn exactly as `render.render_frames` draws it alone
(its own follow camera and scale), under a title band; panels sit in a grid of `columns` (default:
one row). A clip shorter than the longest holds its last frame. Titles are drawn with OpenCV's
Hershey font, which covers ASCII only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from stickgen.errors import StickGenError
from stickgen.progress import Progress, no_progress
from stickgen.render import (
    BACKGROUND,
    FEATURE,
    TICK,
    Furniture,
    check_size,
    check_video_options,
    encode_frames,
    render_frames,
)
from stickgen.schema import FPS

MAX_TOTAL = 8192  # pixels along either side of the whole video
TITLE_SHARE = 0.09  # title band height as a fraction of the panel height
SEPARATOR = 2  # pixels between neighbouring panels


@dataclass(frozen=True)
class Panel:
    """One clip to draw: `[T, 20]` (or `[A, T, 20]`) motion, optional faces, a title, the seats
    and beds under the figures."""

    motion: np.ndarray
    title: str = ""
    face: np.ndarray | None = None
    facing: Sequence[int] | None = None
    furniture: Sequence[Furniture] = ()

    @property
    def num_frames(self) -> int:
        return int(np.shape(self.motion)[-2])


@dataclass(frozen=True)
class Layout:
    """Where the panels go: a grid of `rows` x `columns` cells of `cell_w` x `cell_h` pixels
    (a `band`-pixel title above each `width` x `height` drawing)."""

    columns: int
    rows: int
    width: int
    height: int
    band: int

    @property
    def cell_h(self) -> int:
        return self.band + self.height

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the whole frame."""
        return self.columns * self.width, self.rows * self.cell_h

    def origin(self, index: int) -> tuple[int, int]:
        """(x, y) of the top-left pixel of panel `index`'s cell."""
        row, column = divmod(index, self.columns)
        return column * self.width, row * self.cell_h


def make_layout(count: int, width: int, height: int, columns: int | None = None) -> Layout:
    """Grid for `count` panels of `width` x `height` (title band added; even sizes kept even)."""
    if count < 1:
        raise StickGenError("give at least one clip to draw")
    columns = count if columns is None else columns
    if isinstance(columns, bool) or not isinstance(columns, int) or not 1 <= columns <= count:
        raise StickGenError(f"columns must be a whole number from 1 to {count}, got {columns!r}")
    band = 2 * max(8, math.ceil(TITLE_SHARE * height / 2))
    layout = Layout(columns, math.ceil(count / columns), width, height, band)
    total_w, total_h = layout.size
    if max(total_w, total_h) > MAX_TOTAL:
        raise StickGenError(
            f"{count} panels of {width}x{height} make a {total_w}x{total_h} video; "
            f"at most {MAX_TOTAL} pixels a side (use smaller panels or more rows)"
        )
    return layout


def title_band(text: str, width: int, band: int) -> np.ndarray:
    """A `band` x `width` RGB strip with `text` centred, shrunk to fit the width."""
    img = np.empty((band, width, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    text = text.strip()
    if not text:
        return img
    font, thickness = cv2.FONT_HERSHEY_SIMPLEX, max(1, round(band / 18))
    (w1, h1), _ = cv2.getTextSize(text, font, 1.0, thickness)
    scale = min(0.55 * band / max(h1, 1), 0.94 * width / max(w1, 1))
    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
    origin = ((width - w) // 2, (band + h) // 2)
    cv2.putText(img, text, origin, font, scale, FEATURE, thickness, cv2.LINE_AA)
    return img


def _held(frames: Iterator[np.ndarray], total: int) -> Iterator[np.ndarray]:
    """`frames`, then its last frame again until `total` frames were given."""
    last = None
    for last in frames:
        yield last
        total -= 1
    for _ in range(total):
        yield last


def panel_frames(
    panels: Sequence[Panel],
    width: int = 384,
    height: int = 384,
    *,
    columns: int | None = None,
    camera: str = "follow",
    fps: int = FPS,
) -> Iterator[np.ndarray]:
    """Yield uint8 RGB frames of all `panels` in one grid (see the module docstring).

    `width` x `height` is one panel's drawing; every input is checked before the first frame."""
    panels = list(panels)
    layout = make_layout(len(panels), width, height, columns)
    total = max(p.num_frames for p in panels)
    streams = [
        _held(
            render_frames(
                p.motion,
                p.face,
                width,
                height,
                camera,
                fps=fps,
                facing=p.facing,
                furniture=p.furniture,
            ),
            total,
        )
        for p in panels
    ]
    return _compose(layout, panels, streams, total)


def _compose(
    layout: Layout, panels: list[Panel], streams: list[Iterator[np.ndarray]], total: int
) -> Iterator[np.ndarray]:
    total_w, total_h = layout.size
    canvas = np.empty((total_h, total_w, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    for i, panel in enumerate(panels):
        x, y = layout.origin(i)
        canvas[y : y + layout.band, x : x + layout.width] = title_band(
            panel.title, layout.width, layout.band
        )
    for _ in range(total):
        for i, stream in enumerate(streams):
            x, y = layout.origin(i)
            top = y + layout.band
            canvas[top : top + layout.height, x : x + layout.width] = next(stream)
            if x > 0:
                canvas[y : y + layout.cell_h, x : x + SEPARATOR] = TICK
        yield canvas.copy()


def write_panels_video(
    path: str | Path,
    panels: Sequence[Panel],
    width: int = 384,
    height: int = 384,
    *,
    columns: int | None = None,
    camera: str = "follow",
    fps: int = FPS,
    fmt: str = "mp4",
    progress: Progress = no_progress,
) -> Path:
    """Render `panels` side by side into one MP4 or GIF at `path`; returns the path."""
    check_video_options(fmt, fps)
    check_size(width, height, fmt)
    panels = list(panels)
    frames = panel_frames(panels, width, height, columns=columns, camera=camera, fps=fps)
    total_w, total_h = make_layout(len(panels), width, height, columns).size
    total = max(p.num_frames for p in panels)
    return encode_frames(Path(path), frames, total, fps, total_w, total_h, fmt, progress=progress)


def panel_stills(
    panels: Sequence[Panel],
    frame_indices: Sequence[int],
    width: int = 256,
    height: int = 256,
    *,
    camera: str = "follow",
    fps: int = FPS,
) -> np.ndarray:
    """One RGB image: a row per panel (its title above), a column per frame index, each cell
    labelled with its time. Frames past a clip's end show its last frame."""
    panels = list(panels)
    indices = [int(i) for i in frame_indices]
    if not panels:
        raise StickGenError("give at least one clip to draw")
    if not indices or min(indices) < 0:
        raise StickGenError("give one or more frame indices (0 or more)")
    check_size(width, height, fmt="")
    band = 2 * max(8, math.ceil(TITLE_SHARE * height / 2))
    strips = []
    for panel in panels:
        wanted = {min(i, panel.num_frames - 1) for i in indices}
        frames = render_frames(panel.motion, panel.face, width, height, camera, fps=fps,
                               facing=panel.facing, furniture=panel.furniture)  # fmt: skip
        kept = {t: frame for t, frame in enumerate(frames) if t in wanted}
        cells = []
        for index in indices:
            cell = kept[min(index, panel.num_frames - 1)].copy()
            _label(cell, f"{index / fps:.1f} s")
            cells.append(cell)
        row = np.concatenate(cells, axis=1)
        strips += [title_band(panel.title, row.shape[1], band), row]
    return np.concatenate(strips, axis=0)


def _label(cell: np.ndarray, text: str) -> None:
    """Small time label in a cell's top-left corner, and a thin frame around the cell."""
    h = cell.shape[0]
    scale = max(0.35, h / 450)
    cv2.putText(cell, text, (6, 6 + round(22 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale, FEATURE,
                1, cv2.LINE_AA)  # fmt: skip
    cv2.rectangle(cell, (0, 0), (cell.shape[1] - 1, h - 1), TICK, 1)
