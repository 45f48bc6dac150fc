"""Prompt to animation: plan the scene, make each actor's motion and face, render or export.

    prompt -> stickgen.story.parse_prompt -> Scene (with its `understanding` report)
           -> per actor: stickgen.motion.synthesize (procedural)
                         or stickgen.infer.load_generator(checkpoint).generate (learned model)
           -> two people doing something together meet at its distance (motion.together)
           -> face_track(actions, upper, expression) -> render (MP4 / GIF) or JSON

With a checkpoint every figure is drawn from what the model predicts, and its faces follow the
model's *predicted* actions, smoothed into segments (`stickgen.timeline`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from stickgen.errors import StickGenError
from stickgen.export import is_export
from stickgen.face import face_track
from stickgen.files import write_text_atomic
from stickgen.progress import Progress, no_progress
from stickgen.render import FORMATS as VIDEO_FORMATS
from stickgen.render import VideoEncoder, check_size, scene_furniture, write_video
from stickgen.schema import FPS, ActionType, MotionClip, Scene, checked_duration
from stickgen.timeline import action_segments, describe, smoothed

FORMATS = (*VIDEO_FORMATS, "json")
ENGINES = ("procedural", "model")
JSON_VERSION = 2  # 2: the scene's understanding, interactions, and each segment's seat


class Generator(Protocol):
    """A loaded model that draws actor 0 of a scene: `stickgen.infer.LearnedGenerator`, or the
    service's shared `stickgen.serving.BatchedGenerator`."""

    def generate(self, scene: Scene, seed: int | None = None) -> MotionClip: ...


# loads a checkpoint for drawing: (checkpoint, text_model, device) -> Generator
Loader = Callable[[Path, "str | Path | None", str], Generator]


@dataclass
class Animation:
    """A planned and generated animation: one clip and one face track per actor."""

    scene: Scene
    clips: list[MotionClip]
    faces: list[np.ndarray]
    engine: str  # "procedural" | "model"

    @property
    def fps(self) -> int:
        return self.clips[0].fps if self.clips else FPS

    @property
    def num_frames(self) -> int:
        return max((c.num_frames for c in self.clips), default=0)

    def summary(self) -> str:
        """One line: engine, duration and each actor's action timeline."""
        actors = " | ".join(_timeline(a.name, a.segments) for a in self.scene.actors)
        return f"{self.engine} engine, {self.scene.duration:g} s: {actors}"

    @property
    def understood(self) -> bool:
        """Whether the story engine understood anything in the prompt."""
        report = self.scene.understanding
        return report is None or report.understood

    def predicted(self, actor: int) -> list:
        """The learned model's predicted actions of one actor as smoothed segments
        (`stickgen.timeline`); empty for the procedural engine, which follows the plan."""
        if self.engine != "model":
            return []
        return action_segments(self.clips[actor].actions, self.fps)

    def predicted_summary(self) -> str:
        """One line per model-drawn scene: what the action head predicted, smoothed."""
        return " | ".join(
            f"{a.name}: {describe(self.predicted(i), self.fps)}"
            for i, a in enumerate(self.scene.actors)
        )

    def understanding_summary(self) -> str:
        """One line: what the prompt's words became (recognised / guessed / ignored)."""
        report = self.scene.understanding
        return "" if report is None else report.summary()

    def motion(self) -> np.ndarray:
        """`[A, T, 20]` motion of all actors (shorter clips hold their last frame)."""
        return _stack([c.motion for c in self.clips], self.num_frames)

    def face(self) -> np.ndarray:
        """`[A, T, 7]` face rows of all actors."""
        return _stack(self.faces, self.num_frames)

    def to_json(self) -> dict:
        """Plain-JSON view: scene plan, per-actor motion, action names and face rows."""
        names = [a.name.lower() for a in ActionType]
        return {
            "version": JSON_VERSION,
            "description": self.scene.description,
            "engine": self.engine,
            "fps": self.fps,
            "duration": self.scene.duration,
            "frames": self.num_frames,
            "motion_layout": "5 segments x (x1, y1, x2, y2): torso neck->hip, left arm, right arm, "
            "left leg, right leg; metres, y up, ground at y = 0",
            "face_layout": [
                "expression",
                "eye_type",
                "eyebrow_angle",
                "mouth_shape",
                "mouth_openness",
                "speaking",
                "speech_hz",
            ],
            "scene": _scene_json(self.scene),
            "actors": [
                {
                    "name": actor.name,
                    "motion": np.round(clip.motion.astype(np.float64), 4).tolist(),
                    "actions": [names[int(i)] for i in clip.actions],
                    "physics": np.round(clip.physics.astype(np.float64), 4).tolist(),
                    "face": np.round(face.astype(np.float64), 4).tolist(),
                    # the model's predicted actions, smoothed (model engine only)
                    "predicted": [s.to_json(self.fps) for s in self.predicted(index)],
                }
                for index, (actor, clip, face) in enumerate(
                    zip(self.scene.actors, self.clips, self.faces, strict=True)
                )
            ],
        }


def _name(value) -> str | None:
    return None if value is None else value.name.lower()


def _timeline(name: str, segments) -> str:
    parts = []
    for seg in segments:
        label = _name(seg.action) + (f"+{_name(seg.upper)}" if seg.upper is not None else "")
        if seg.prop is not None and seg.support > 0:
            label += f" on {seg.prop}"
        if seg.expression is not None:
            label += f" ({_name(seg.expression)})"
        parts.append(f"{label} {seg.start:.1f}-{seg.end:.1f}s")
    return f"{name}: " + (", ".join(parts) if parts else "idle")


def _scene_json(scene: Scene) -> dict:
    report = scene.understanding
    return {
        "description": scene.description,
        "duration": scene.duration,
        "theme": scene.theme,
        "extras": dict(scene.extras),
        "understanding": None if report is None else report.to_json(),
        "interactions": [
            {
                "actors": list(i.actors),
                "start": i.start,
                "end": i.end,
                "distance": i.distance,
                "kind": i.kind,
            }
            for i in scene.interactions
        ],
        "actors": [
            {
                "name": actor.name,
                "start_x": actor.start_x,
                "facing": actor.facing,
                "segments": [
                    {
                        "action": _name(seg.action),
                        "start": seg.start,
                        "end": seg.end,
                        "upper": _name(seg.upper),
                        "expression": _name(seg.expression),
                        "speech": seg.speech,
                        "support": seg.support,
                        "prop": seg.prop,
                    }
                    for seg in actor.segments
                ],
            }
            for actor in scene.actors
        ],
    }


def _fit(track: np.ndarray, frames: int, fill: int | None = None) -> np.ndarray:
    """Cut or pad a per-frame track to `frames` (pad with `fill`, or repeat the last value)."""
    missing = frames - len(track)
    if missing <= 0:
        return track[:frames]
    if fill is None and len(track):
        pad = np.repeat(track[-1:], missing, axis=0)
    else:
        pad = np.full((missing, *track.shape[1:]), -1 if fill is None else fill, track.dtype)
    return np.concatenate([track, pad])


def _stack(tracks: list[np.ndarray], frames: int) -> np.ndarray:
    return np.stack([_fit(t, frames) for t in tracks])


def check_duration(duration: float | None) -> None:
    """Raise StickGenError unless `duration` is None or a clip length the story engine takes."""
    if duration is not None:
        checked_duration(duration)


def check_output(path: Path) -> None:
    """Raise StickGenError when `path` clearly cannot be written (checked before any work)."""
    path = Path(path)
    if path.is_dir():
        raise StickGenError(f"output path {path} is a directory")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise StickGenError(f"cannot write {path}: {folder} is not a writable folder")


def _together(scene: Scene, clips: list[MotionClip]) -> list[MotionClip]:
    """Clips with the partners of the scene's interactions shifted to meet at their distance."""
    if not scene.interactions or len(clips) < 2:
        return clips
    from stickgen.motion.together import bring_together

    moved = bring_together(scene, [c.motion for c in clips], clips[0].fps)
    return [
        MotionClip(m, c.actions, c.physics, c.fps) if m is not c.motion else c
        for m, c in zip(moved, clips, strict=True)
    ]


def _procedural_clips(scene: Scene, seed: int | None) -> list[MotionClip]:
    from stickgen.motion import synthesize

    rng = np.random.default_rng(seed) if seed is not None else None
    return _together(scene, [synthesize(scene, rng=rng, actor=i) for i in range(len(scene.actors))])


def _model_clips(scene: Scene, seed: int | None, generator: Generator) -> list[MotionClip]:
    """Each actor generated by the learned model from a one-actor copy of the scene.

    With several actors each clip is shifted (never reshaped) so the actor starts at its planned
    `start_x`; the model itself places a lone actor.
    """
    clips = []
    for actor in scene.actors:
        alone = Scene(
            description=scene.description,
            actors=[actor],
            duration=scene.duration,
            theme=scene.theme,
            extras=dict(scene.extras),
        )
        clip = generator.generate(alone, seed=seed)
        if len(scene.actors) > 1 and clip.num_frames:
            motion = clip.motion.copy()
            motion[:, 0::2] += actor.start_x - float(motion[0, 2])  # hip x of the first frame
            clip = MotionClip(motion, clip.actions, clip.physics, clip.fps)
        clips.append(clip)
    return _together(scene, clips)


def make_animation(
    prompt: str,
    duration: float | None = None,
    seed: int | None = None,
    checkpoint: Path | None = None,
    text_model: str | Path | None = None,
    device: str = "auto",
    loader: Loader | None = None,
) -> Animation:
    """Plan `prompt` into a Scene and generate every actor's motion and face track.

    Without `checkpoint` the procedural motion engine runs (seeded by `seed`); with one, the
    learned model does on `device` (`text_model`: where its text model lives when the checkpoint
    cannot say), and faces follow its predicted actions. `loader` loads the checkpoint
    (default: `stickgen.infer.load_generator`; the service's `stickgen.serving.ModelCache.get`).
    """
    if not isinstance(prompt, str):
        raise StickGenError("the prompt must be text")
    check_duration(duration)
    if checkpoint is not None and not (Path(checkpoint).is_file() or is_export(checkpoint)):
        raise StickGenError(f"no checkpoint or export at {checkpoint}")
    from stickgen.story import parse_prompt

    scene = parse_prompt(prompt, duration)
    check_duration(scene.duration)
    if not scene.actors:
        raise StickGenError("the prompt describes no one to animate")
    if checkpoint is None:
        engine, clips = "procedural", _procedural_clips(scene, seed)
    else:
        if loader is None:
            from stickgen.infer import load_generator as loader
        clips = _model_clips(scene, seed, loader(Path(checkpoint), text_model, device))
        engine = "model"
    faces = []
    for i, clip in enumerate(clips):
        frames = clip.num_frames
        upper = _fit(scene.upper_track(i, clip.fps), frames, fill=-1)
        expression = _fit(scene.expression_track(i, clip.fps), frames, fill=-1)
        actions = clip.actions if engine == "procedural" else smoothed(clip.actions, clip.fps)
        faces.append(face_track(actions, clip.fps, upper=upper, expression=expression))
    return Animation(scene=scene, clips=clips, faces=faces, engine=engine)


def write_json(path: Path, animation: Animation) -> Path:
    """Write the animation's JSON view atomically (temporary sibling, then rename)."""
    path = Path(path)
    if path.is_dir():
        raise StickGenError(f"output path {path} is a directory")
    try:
        return write_text_atomic(path, json.dumps(animation.to_json(), separators=(",", ":")))
    except OSError as exc:
        raise StickGenError(f"cannot write {path}: {exc}") from None


def check_output_options(
    output: Path, duration: float | None = None, width: int = 512, height: int = 512, fmt="mp4"
) -> None:
    """Raise StickGenError for a bad format, frame size, duration or output path."""
    if fmt not in FORMATS:
        raise StickGenError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt != "json":
        check_size(width, height, fmt)
    check_duration(duration)
    check_output(Path(output))


def write_animation(
    animation: Animation,
    output: Path,
    *,
    width: int = 512,
    height: int = 512,
    fmt: str = "mp4",
    progress: Progress = no_progress,
    encoder: VideoEncoder | None = None,
) -> Path:
    """Render `animation` to `output` as MP4 or GIF, or export it as JSON. `encoder`: one opened
    for `output` before the animation was made (closed here either way)."""
    if encoder is not None and (fmt == "json" or encoder.fps != animation.fps):
        encoder.close()  # not a video after all, or a model that draws at another frame rate
        encoder = None
    check_output_options(output, None, width, height, fmt)
    if fmt == "json":
        path = write_json(Path(output), animation)
        progress(1, 1, f"wrote {path.name}")
        return path
    return write_video(
        Path(output),
        animation.motion(),
        animation.face(),
        fps=animation.fps,
        width=width,
        height=height,
        fmt=fmt,
        facing=[actor.facing for actor in animation.scene.actors],
        furniture=scene_furniture(animation.scene, animation.fps),
        progress=progress,
        encoder=encoder,
    )


def animate(
    prompt: str,
    output: Path,
    *,
    duration: float | None = None,
    seed: int | None = None,
    checkpoint: Path | None = None,
    text_model: str | Path | None = None,
    device: str = "auto",
    width: int = 512,
    height: int = 512,
    fmt: str = "mp4",
    progress: Progress = no_progress,
    loader: Loader | None = None,
) -> Animation:
    """Plan and generate `prompt`, then write it to `output` as MP4, GIF or JSON.

    Arguments are checked before any work starts; user errors raise StickGenError.
    `loader` loads the checkpoint (see `make_animation`). A video's encoder starts before the
    motion is made, so its start-up runs beside the planning and the model.
    """
    check_output_options(output, duration, width, height, fmt)
    encoder = VideoEncoder(output, width, height, FPS, fmt) if fmt in VIDEO_FORMATS else None
    with encoder or nullcontext():
        animation = make_animation(
            prompt,
            duration=duration,
            seed=seed,
            checkpoint=checkpoint,
            text_model=text_model,
            device=device,
            loader=loader,
        )
        write_animation(
            animation, output, width=width, height=height, fmt=fmt, progress=progress,
            encoder=encoder,
        )  # fmt: skip
    return animation
