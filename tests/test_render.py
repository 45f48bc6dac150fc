"""Renderer: frame shape, where the figure is drawn, facing, faces, camera, furniture, MP4 and GIF
files."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from children import running_encoders

from stickgen.errors import StickGenError
from stickgen.face import face_track
from stickgen.render import (
    BACKGROUND,
    CUSHION,
    HEAD_FILL,
    WOOD,
    Furniture,
    VideoEncoder,
    furniture_kind,
    make_camera,
    render_frames,
    scene_furniture,
    write_video,
)
from stickgen.schema import ActionType
from stickgen.skeleton import (
    ARM_LENGTH,
    BODY_HEIGHT,
    LEG_LENGTH,
    TORSO_LENGTH,
    head_centre,
    mirror_motion,
)


def limb(origin: np.ndarray, angle: np.ndarray, length: float) -> np.ndarray:
    """Segment from `origin` at `angle` radians from straight down (positive = towards +x)."""
    return np.concatenate(
        [origin, origin + length * np.stack([np.sin(angle), -np.cos(angle)], -1)], -1
    )


def figure(hip_x, arm_angles=(-0.2, 0.2), leg_angles=(0.15, -0.15), hip_y=None) -> np.ndarray:
    """`[T, 20]` motion of a figure whose hip follows `hip_x` (array over time)."""
    hip_x = np.atleast_1d(np.asarray(hip_x, dtype=np.float64))
    n = len(hip_x)
    hip_y = np.full(n, LEG_LENGTH * np.cos(0.15)) if hip_y is None else np.asarray(hip_y)
    hip = np.stack([hip_x, hip_y], -1)
    neck = hip + np.array([0.0, TORSO_LENGTH])
    parts = [np.concatenate([neck, hip], -1)]
    parts += [limb(neck, np.full(n, a), ARM_LENGTH) for a in arm_angles]
    parts += [limb(hip, np.full(n, a), LEG_LENGTH) for a in leg_angles]
    return np.concatenate(parts, -1).astype(np.float32)


def walking(frames: int, speed: float = 1.4, fps: int = 25) -> np.ndarray:
    t = np.arange(frames) / fps
    swing = 0.4 * np.sin(2 * np.pi * 1.8 * t)
    hip = np.stack([speed * t, LEG_LENGTH * np.cos(np.abs(swing))], -1)
    neck = hip + TORSO_LENGTH * np.array([np.sin(0.05), np.cos(0.05)])
    parts = [
        np.concatenate([neck, hip], -1),
        limb(neck, -0.8 * swing, ARM_LENGTH),
        limb(neck, 0.8 * swing, ARM_LENGTH),
        limb(hip, swing, LEG_LENGTH),
        limb(hip, -swing, LEG_LENGTH),
    ]
    return np.concatenate(parts, -1).astype(np.float32)


def ink(frame: np.ndarray) -> np.ndarray:
    """Mask of pixels that differ clearly from the background."""
    return np.abs(frame.astype(int) - np.array(BACKGROUND)).sum(-1) > 60


def test_frames_have_size_and_dtype() -> None:
    motion = figure(np.zeros(6))
    frames = list(render_frames(motion, width=320, height=192))
    assert len(frames) == 6
    for frame in frames:
        assert frame.shape == (192, 320, 3) and frame.dtype == np.uint8
    two = np.stack([motion, figure(np.ones(6))])
    assert len(list(render_frames(two, width=128, height=128))) == 6


def test_standing_figure_fills_half_the_height() -> None:
    height = 256
    motion = figure(np.zeros(3), arm_angles=(0.0, 0.0), leg_angles=(0.0, 0.0), hip_y=[0.9] * 3)
    frame = next(render_frames(motion, width=256, height=height))
    # Ignore the ground line and ticks: only rows above it.
    mask = ink(frame)
    rows = np.flatnonzero(mask.any(1))
    ground_row = rows.max()
    figure_rows = np.flatnonzero(mask[: ground_row - 2].any(1))
    drawn = ground_row - figure_rows.min()
    assert drawn / height == pytest.approx(BODY_HEIGHT / 2 / BODY_HEIGHT, abs=0.06)


def test_figure_pixels_are_where_the_motion_says() -> None:
    """Two actors 2 m apart with a static camera: heads drawn 2 m apart at the frame's scale."""
    size = 256
    a = figure(np.full(4, -1.0))
    b = figure(np.full(4, 1.0), arm_angles=(2.6, 0.2))  # left arm raised high
    motion = np.stack([a, b])
    frame = list(render_frames(motion, width=size, height=size, camera="static"))[2]
    head_pixels = np.argwhere((frame == HEAD_FILL).all(-1))
    left = head_pixels[head_pixels[:, 1] < size / 2].mean(0)
    right = head_pixels[head_pixels[:, 1] >= size / 2].mean(0)
    scale = 0.5 * size / BODY_HEIGHT
    assert right[1] - left[1] == pytest.approx(2.0 * scale, rel=0.1)
    assert abs(right[0] - left[0]) < 2  # same height
    # The camera's transform agrees with the drawing: head fill at the head centre, ink at the
    # raised hand.
    cam = make_camera(motion, size, size, "static")
    x, y = np.round(cam.to_pixels(head_centre(b[2])[None], 2)[0]).astype(int)
    assert (frame[y, x] == HEAD_FILL).all()
    x, y = np.round(cam.to_pixels(b[2, 6:8][None], 2)[0]).astype(int)
    assert ink(frame)[y - 1 : y + 2, x - 1 : x + 2].any()
    assert y < cam.to_pixels(head_centre(b[2])[None], 2)[0, 1]  # above the head
    # Nothing drawn far from both figures in the sky.
    assert not ink(frame)[:20].any()


def test_follow_camera_keeps_a_travelling_figure_in_view() -> None:
    motion = walking(250, speed=1.4)  # 14 m of travel
    frames = list(render_frames(motion, width=128, height=128))
    for frame in frames[::10]:
        cols = np.flatnonzero((frame == HEAD_FILL).all(-1).any(0))
        assert cols.size and cols.min() >= 5 and cols.max() <= 122
    # The ground ticks scroll, so travel is visible below the ground line.
    below = slice(int(0.8 * 128) + 2, 128)
    assert not np.array_equal(frames[0][below], frames[12][below])


def test_static_camera_fits_whole_travel() -> None:
    motion = walking(100, speed=1.4)
    frames = list(render_frames(motion, width=128, height=128, camera="static"))
    first = np.flatnonzero(ink(frames[0])[:90].any(0)).mean()
    last = np.flatnonzero(ink(frames[-1])[:90].any(0)).mean()
    assert last - first > 40  # the figure crosses the frame


def face_marks(frame: np.ndarray) -> tuple[np.ndarray, float]:
    """Mask of dark pixels well inside the head, and the head's centre column."""
    head = np.argwhere((frame == HEAD_FILL).all(-1))
    cy, cx = head.mean(0)
    r = np.sqrt(len(head) / np.pi)
    yy, xx = np.mgrid[: frame.shape[0], : frame.shape[1]]
    inside = (yy - cy) ** 2 + (xx - cx) ** 2 < (0.8 * r) ** 2
    return inside & (frame.sum(-1) < 250), float(cx)


def feature_side(frame: np.ndarray) -> float:
    """Mean x offset of dark face features from the head centre (positive = right)."""
    dark, cx = face_marks(frame)
    return float(np.argwhere(dark)[:, 1].mean() - cx)


def test_face_looks_towards_travel() -> None:
    motion = walking(60)
    face = face_track(np.full(60, int(ActionType.WALK)))
    right = list(render_frames(motion, face, 384, 384))[40]
    left = list(render_frames(mirror_motion(motion), face, 384, 384))[40]
    assert feature_side(right) > 1.0
    assert feature_side(left) < -1.0


def test_facing_hint_for_a_still_figure() -> None:
    motion = figure(np.zeros(10))
    face = face_track(np.zeros(10, dtype=int))
    assert feature_side(list(render_frames(motion, face, 384, 384, facing=[-1]))[5]) < -1.0
    assert feature_side(list(render_frames(motion, face, 384, 384))[5]) > 1.0


def head_crop(action: ActionType) -> np.ndarray:
    motion = figure(np.zeros(20))
    face = face_track(np.full(20, int(action)))
    frame = list(render_frames(motion, face, 512, 512))[-1]
    cy, cx = np.argwhere((frame == HEAD_FILL).all(-1)).mean(0).astype(int)
    return frame[cy - 20 : cy + 20, cx - 20 : cx + 20].astype(int)


def test_emotions_draw_distinct_faces() -> None:
    crops = {a: head_crop(a) for a in (ActionType.WAVE, ActionType.CRY, ActionType.PUNCH)}
    crops["surprised"] = head_crop(ActionType.CATCH)
    keys = list(crops)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            changed = (np.abs(crops[a] - crops[b]).sum(-1) > 120).sum()
            assert changed > 25, (a, b)
    # Without face rows the head is blank.
    plain = next(render_frames(figure(np.zeros(3)), None, 512, 512))
    assert not face_marks(plain)[0].any()


def test_speaking_mouth_moves_between_frames() -> None:
    def changes(action: ActionType) -> int:
        motion = figure(np.zeros(25))  # the body stands still
        face = face_track(np.full(25, int(action)))
        frames = list(render_frames(motion, face, 512, 512))
        return sum(not np.array_equal(frames[i], frames[i + 1]) for i in range(10, 24))

    assert changes(ActionType.SHOUT) >= 10
    assert changes(ActionType.WAVE) == 0


def test_mp4_reads_back(tmp_path: Path) -> None:
    motion = walking(50)
    face = face_track(np.full(50, int(ActionType.WAVE)))
    out = write_video(tmp_path / "clip.mp4", motion, face, width=160, height=96)
    assert out == tmp_path / "clip.mp4"
    frames = iio.imread(out, index=None)
    assert frames.shape == (50, 96, 160, 3)
    meta = iio.immeta(out)
    assert meta["fps"] == pytest.approx(25.0)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert meta["size"] == (160, 96)
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temporary left behind
    assert b"ftyp" in out.read_bytes()[:32]
    # +faststart: the index (moov) comes before the media data (mdat).
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")


def test_gif_reads_back(tmp_path: Path) -> None:
    motion = walking(12)
    out = write_video(tmp_path / "clip.gif", motion, fmt="gif", width=96, height=64)
    frames = iio.imread(out, index=None)
    assert frames.shape[:3] == (12, 64, 96)
    from PIL import Image

    with Image.open(out) as img:
        assert img.info["duration"] == 40  # 25 fps


def test_progress_is_reported(tmp_path: Path) -> None:
    calls = []
    write_video(
        tmp_path / "p.mp4", walking(30), width=64, height=64, progress=lambda *a: calls.append(a)
    )
    assert calls[-1][0] == calls[-1][1] == 30


@pytest.mark.parametrize(
    ("width", "height", "fmt"),
    [(63, 128, "mp4"), (128, 4096, "mp4"), (0, 0, "gif"), (129, 128, "mp4"), (128.0, 128, "gif")],
)
def test_bad_sizes_raise(tmp_path: Path, width, height, fmt: str) -> None:
    with pytest.raises(StickGenError):
        write_video(tmp_path / f"x.{fmt}", walking(5), width=width, height=height, fmt=fmt)
    with pytest.raises(StickGenError):
        render_frames(walking(5), width=width if width != 129 else 10, height=height)


def test_odd_size_is_fine_for_gif(tmp_path: Path) -> None:
    out = write_video(tmp_path / "odd.gif", walking(3), width=65, height=67, fmt="gif")
    assert iio.imread(out, index=None).shape[1:3] == (67, 65)


@pytest.mark.parametrize(
    ("motion", "face", "kwargs"),
    [
        (np.zeros((5, 19)), None, {}),
        (np.full((5, 20), np.nan), None, {}),
        (np.zeros((0, 20)), None, {}),
        (np.zeros((5, 20)), np.zeros((4, 7)), {}),
        (np.zeros((5, 20)), None, {"camera": "drone"}),
        (np.zeros((2, 5, 20)), None, {"facing": [1]}),
    ],
)
def test_bad_inputs_raise(motion, face, kwargs) -> None:
    with pytest.raises(StickGenError):
        render_frames(motion, face, 64, 64, **kwargs)


def test_bad_format_and_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(StickGenError, match="format"):
        write_video(tmp_path / "x.avi", walking(3), fmt="avi")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StickGenError):
        write_video(blocker / "x.mp4", walking(3), width=64, height=64)
    with pytest.raises(StickGenError, match="directory"):
        write_video(tmp_path, walking(3), width=64, height=64)


# ---- several clips side by side --------------------------------------------------------------


def test_panels_show_each_clip_as_drawn_alone_under_its_title() -> None:
    from stickgen.render_panels import SEPARATOR, Panel, make_layout, panel_frames

    walk, still = walking(20), figure(np.zeros(8))
    face = face_track(np.full(20, int(ActionType.WAVE)))
    panels = [Panel(walk, "real walk", face=face), Panel(still, ""), Panel(walk[::-1], "back")]
    layout = make_layout(3, 96, 64, columns=2)
    assert (layout.rows, layout.size) == (2, (192, 2 * (layout.band + 64)))
    frames = list(panel_frames(panels, 96, 64, columns=2))
    assert len(frames) == 20  # the longest clip
    assert frames[0].shape == (2 * (layout.band + 64), 192, 3)
    alone = [
        list(render_frames(walk, face, 96, 64)),
        list(render_frames(still, None, 96, 64)),
        list(render_frames(walk[::-1], None, 96, 64)),
    ]
    for t in (0, 7, 19):
        for i, drawn in enumerate(alone):
            x, y = layout.origin(i)
            cell = frames[t][y + layout.band : y + layout.band + 64, x : x + 96]
            skip = SEPARATOR if x > 0 else 0
            expected = drawn[min(t, len(drawn) - 1)]  # the short clip holds its last frame
            np.testing.assert_array_equal(cell[:, skip:], expected[:, skip:])
    bands = [
        frames[0][y : y + layout.band, x + 4 : x + 92] for x, y in map(layout.origin, range(3))
    ]
    assert ink(bands[0]).sum() > 20 and ink(bands[2]).sum() > 10  # titles are written
    assert not ink(bands[1]).any()  # an untitled panel has a blank band
    assert not ink(frames[0][layout.cell_h :, 96:]).any()  # the unused fourth cell stays empty


def test_panels_video_and_stills(tmp_path: Path) -> None:
    from stickgen.render_panels import Panel, make_layout, panel_stills, write_panels_video

    panels = [Panel(walking(30), "one"), Panel(walking(12, speed=0.5), "two")]
    out = write_panels_video(tmp_path / "pair.mp4", panels, 96, 64)
    width, height = make_layout(2, 96, 64).size
    assert iio.imread(out, index=None).shape == (30, height, width, 3)
    still = panel_stills(panels, [0, 10, 25], 64, 64)
    band = make_layout(1, 64, 64).band
    assert still.shape == (2 * (band + 64), 3 * 64, 3)
    first = next(render_frames(walking(30), None, 64, 64))
    inner = (slice(band + 20, band + 63), slice(1, 63))  # below the time label, inside the frame
    np.testing.assert_array_equal(still[inner], first[20:63, 1:63])


@pytest.mark.parametrize(
    ("panels", "kwargs", "words"),
    [
        ([], {}, "at least one"),
        ([np.zeros((5, 19))], {}, "motion must be"),
        ([walking(5)] * 2, {"columns": 3}, "columns"),
        ([walking(5)] * 5, {"width": 2048, "height": 64}, "at most 8192"),
        ([walking(5)], {"width": 30}, "width"),
    ],
)
def test_bad_panels_raise(panels, kwargs, words: str) -> None:
    from stickgen.render_panels import Panel, panel_frames

    with pytest.raises(StickGenError, match=words):
        panel_frames([Panel(m, "x") for m in panels], **kwargs)


# --- furniture ------------------------------------------------------------------------------------


def _wood_pixels(frame: np.ndarray) -> int:
    """Pixels drawn in the furniture's colours (wood or cushion)."""
    near = [np.abs(frame.astype(int) - np.array(c)).sum(-1) < 30 for c in (WOOD, CUSHION)]
    return int((near[0] | near[1]).sum())


def test_the_seat_a_figure_sits_on_is_drawn_where_it_sits_and_only_then():
    from stickgen.story import parse_prompt

    scene = parse_prompt("A man waits, then sits down on a bench")
    [bench] = scene_furniture(scene, 25)
    sitting = [s for s in scene.actors[0].segments if s.action is ActionType.SIT]
    assert (bench.kind, bench.height) == ("bench", sitting[0].support)
    assert bench.start == round(sitting[0].start * 25) and bench.end == 250
    assert scene_furniture(parse_prompt("A man sits down on the floor"), 25) == []

    motion = figure(np.zeros(20))
    item = Furniture(0, 10, 20, 0.45, "bench")
    frames = list(render_frames(motion, width=128, height=128, furniture=[item]))
    assert _wood_pixels(frames[5]) == 0 and _wood_pixels(frames[15]) > 50
    plain = list(render_frames(motion, width=128, height=128))
    assert np.array_equal(frames[5], plain[5])


@pytest.mark.parametrize(
    ("prop", "lying", "kind"),
    [
        ("park bench", False, "bench"),
        ("sofa", False, "sofa"),
        ("bar stool", False, "stool"),
        ("armchair", False, "chair"),
        ("bed", True, "bed"),
        ("rock", False, "block"),
        ("bench", True, "bench"),
    ],
)
def test_how_a_named_seat_or_bed_is_drawn(prop, lying, kind):
    assert furniture_kind(prop, lying) == kind
    motion = figure(np.zeros(4))
    [frame] = list(render_frames(motion[:1], width=96, height=96, furniture=[
        Furniture(0, 0, 1, 0.45, kind)]))  # fmt: skip
    assert _wood_pixels(frame) > 20


def test_furniture_for_a_missing_actor_is_refused():
    with pytest.raises(StickGenError, match="furniture for actor 1"):
        render_frames(figure(np.zeros(3)), furniture=[Furniture(1, 0, 3, 0.45, "chair")])


# ---- an encoder opened before its frames exist -----------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_an_encoder_runs_from_its_opening_and_a_close_leaves_nothing(tmp_path: Path) -> None:
    before = set(running_encoders())
    encoder = VideoEncoder(tmp_path / "clip.mp4", 64, 64)
    assert set(running_encoders()) - before  # ffmpeg started before any frame exists
    encoder.close()
    encoder.close()  # idempotent
    assert set(running_encoders()) <= before
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StickGenError, match="closed"):
        encoder.write(iter([]), 0)


def test_write_video_into_an_opened_encoder(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    with VideoEncoder(out, 96, 64, fps=20) as encoder:
        assert write_video(out, walking(30), width=96, height=64, fps=20, encoder=encoder) == out
    assert iio.imread(out, index=None).shape == (30, 64, 96, 3)
    assert iio.immeta(out)["fps"] == pytest.approx(20.0)
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


@pytest.mark.parametrize("change", [{"fps": 20}, {"width": 96}, {"fmt": "gif"}])
def test_an_encoder_opened_for_other_options_is_refused_and_closed(tmp_path: Path, change) -> None:
    options = {"width": 64, "height": 64, "fps": 25, "fmt": "mp4"} | change
    encoder = VideoEncoder(tmp_path / f"clip.{options['fmt']}", 64, 64)
    with pytest.raises(StickGenError, match="encoder was opened"):
        write_video(tmp_path / f"clip.{options['fmt']}", walking(5), encoder=encoder, **options)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StickGenError, match="closed"):
        encoder.write(iter([]), 0)


def test_bad_motion_closes_the_opened_encoder(tmp_path: Path) -> None:
    encoder = VideoEncoder(tmp_path / "clip.mp4", 64, 64)
    with pytest.raises(StickGenError):
        write_video(tmp_path / "clip.mp4", np.full((5, 20), np.nan), width=64, height=64,
                    encoder=encoder)  # fmt: skip
    assert list(tmp_path.iterdir()) == []
