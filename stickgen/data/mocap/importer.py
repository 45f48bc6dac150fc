"""`import_mocap`: motion-capture files -> a Stick-Gen dataset of 10-s stick-figure clips.

Per recording: joints -> stick-figure roles -> resampled to the dataset frame rate by time ->
cut into clips (non-overlapping by default; a short tail is padded by holding the last pose,
and its real length recorded) -> each clip projected on its own side plane (see `project`) ->
physics from the motion, actions from the synthetic-trained classifier (flagged as inferred),
faces from the actions. All clips of one recording land in one split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stickgen.data.mocap import amass, bvh, clips, describe, project
from stickgen.data.mocap.labels import ActionClassifier, train_on_synthetic
from stickgen.data.mocap.skeletons import ROLES, SMPL22, map_joints
from stickgen.data.store import SPLITS, DatasetWriter
from stickgen.errors import Cancelled, StickGenError
from stickgen.physics import physics_from_motion
from stickgen.progress import Progress, no_progress
from stickgen.schema import ActionType

SUFFIXES = (".bvh", ".npz", ".npy")
SPLIT_FRACTIONS = {"val": 0.1, "test": 0.1}
Y_UP, Z_UP = 1, 2
SYNTHETIC_SCENES = 256  # scenes the default action classifier is trained on


@dataclass
class Recording:
    """One capture file reduced to the stick figure's roles, in its own units and frame rate."""

    name: str  # path shown in the manifest (relative to the source argument)
    path: Path
    roles: np.ndarray  # float64 [T, len(ROLES), 3]
    fps: float
    up_hint: int | None
    skeleton: str
    captions: list[describe.Caption] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.roles.shape[0] / self.fps


@dataclass
class Clip:
    recording: int
    start: float  # seconds into the recording
    real_frames: int
    motion: np.ndarray  # float32 [frames, 20], padded
    facing: list[float]


def discover(sources: Sequence[Path]) -> list[tuple[Path, str, bool]]:
    """(file, manifest name, named explicitly) for every motion file under `sources`."""
    found: list[tuple[Path, str, bool]] = []
    for source in map(Path, sources):
        if source.is_dir():
            for path in sorted(p for p in source.rglob("*") if p.suffix.lower() in SUFFIXES):
                found.append((path, path.relative_to(source.parent).as_posix(), False))
        elif source.is_file():
            if source.suffix.lower() not in SUFFIXES:
                raise StickGenError(
                    f"{source}: unknown motion format (expected {', '.join(SUFFIXES)})"
                )
            found.append((source, source.name, True))
        else:
            raise StickGenError(f"{source} does not exist")
    return found


def load_recording(
    path: Path,
    name: str,
    *,
    body_model: amass.BodyModel | None = None,
    fps_in: float | None = None,
) -> Recording:
    """Read one BVH, AMASS ``.npz`` or `[T, 22, 3]` ``.npy`` file."""
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        data = bvh.load_bvh(path)
        scheme, index = map_joints(data.names, str(path))
        positions, fps, up = data.world_positions(), data.fps, Y_UP
    elif suffix == ".npz":
        if body_model is None:
            raise StickGenError(
                f"{path}: AMASS .npz motions need a body model (--body-model PATH to an SMPL-H "
                ".npz with J_regressor, v_template, shapedirs, kintree_table)"
            )
        positions, fps = amass.load_amass(path, body_model)
        scheme, index, up = "smpl", SMPL22, Z_UP
    elif suffix == ".npy":
        positions, fps = amass.load_joint_positions(path), amass.HUMANML3D_FPS
        scheme, index, up = "smpl", SMPL22, Y_UP
    else:
        raise StickGenError(f"{path}: unknown motion format")
    roles = np.full((positions.shape[0], len(ROLES), 3), np.nan)
    for k, role in enumerate(ROLES):
        if role in index:
            roles[:, k] = positions[:, index[role]]
    if fps_in is not None:
        fps = float(fps_in)
    return Recording(name, path, roles, fps, up, scheme, describe.captions_for(path))


def split_of(name: str, seed: int) -> int:
    """Split code of a recording: a stable hash of its name and the seed (adding files never
    moves another recording between splits)."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < SPLIT_FRACTIONS["val"]:
        return SPLITS.index("val")
    if u < SPLIT_FRACTIONS["val"] + SPLIT_FRACTIONS["test"]:
        return SPLITS.index("test")
    return SPLITS.index("train")


def recording_clips(
    recording: Recording,
    index: int,
    *,
    fps: int,
    clip_frames: int,
    hop_frames: int | None = None,
    min_frames: int = 1,
) -> list[Clip]:
    """Resample, cut, project and pad one recording."""
    roles = clips.resample(recording.roles, recording.fps, fps)
    up = project.detect_up(roles, recording.up_hint)
    scale = project.body_scale(roles)
    reach = project.leg_reach(roles)
    out = []
    for start, stop in clips.clip_windows(len(roles), clip_frames, hop_frames, min_frames):
        motion, info = project.project_clip(roles[start:stop], up, scale, fps, reach)
        padded = clips.pad_hold(motion, clip_frames).astype(np.float32)
        out.append(Clip(index, start / fps, stop - start, padded, info.facing.round(4).tolist()))
    return out


def _classifier(
    classifier: ActionClassifier | Path | str | None, seed: int, fps: int
) -> tuple[ActionClassifier | None, str]:
    """The classifier to label clips with, and how it was obtained (for the manifest)."""
    if isinstance(classifier, ActionClassifier):
        return classifier, "classifier (given)"
    if classifier is not None:
        return ActionClassifier.load(classifier), f"classifier ({Path(classifier).name})"
    try:
        model = train_on_synthetic(num_scenes=SYNTHETIC_SCENES, seed=seed, fps=fps)
    except StickGenError:
        return None, "file name"  # no synthetic engine: labels from the descriptions instead
    return model, f"classifier (trained on {SYNTHETIC_SCENES} synthetic scenes, seed {seed})"


def _name_labels(description: str | None) -> int:
    """The action named first in a description (IDLE when none)."""
    if not description:
        return int(ActionType.IDLE)
    table = describe.verb_table()
    for word in description.lower().split():
        if word in table:
            return int(table[word][1])
    return int(ActionType.IDLE)


def import_mocap(
    sources: Sequence[Path],
    out_dir: Path,
    *,
    body_model: Path | None = None,
    clip_seconds: float = 10,
    fps: int = 25,
    seed: int = 0,
    progress: Progress = no_progress,
    fps_in: float | None = None,
    hop_seconds: float | None = None,
    min_clip_seconds: float = 2.0,
    classifier: ActionClassifier | Path | str | None = None,
    overwrite: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Import BVH / AMASS / joint-position files (or folders of them) into a dataset at `out_dir`.

    Files found inside folders that cannot be imported are skipped and listed in the manifest;
    a file named explicitly that cannot be imported raises StickGenError. `should_stop` is polled
    between files; when it returns True, `Cancelled` is raised before anything is written.
    """
    stop = should_stop or (lambda: False)
    if clip_seconds <= 0 or fps <= 0:
        raise StickGenError("clip_seconds and fps must be positive")
    files = discover(sources)
    if not files:
        raise StickGenError("no motion files (.bvh, .npz, .npy) found in the sources")
    model = amass.load_body_model(body_model) if body_model is not None else None
    clip_frames = round(clip_seconds * fps)
    hop_frames = round(hop_seconds * fps) if hop_seconds else None
    min_frames = max(1, round(min_clip_seconds * fps))
    steps = len(files) + 2  # read each file, label, write

    recordings: list[Recording] = []
    skipped: list[dict[str, str]] = []
    all_clips: list[Clip] = []
    for done, (path, name, explicit) in enumerate(files):
        if stop():
            raise Cancelled(f"motion-capture import cancelled after {done} files")
        progress(done, steps, f"reading {name}")
        if path.suffix.lower() == ".npz" and not amass.is_amass_motion(path) and not explicit:
            skipped.append({"file": name, "reason": "not an AMASS motion (no poses)"})
            continue
        try:
            recording = load_recording(path, name, body_model=model, fps_in=fps_in)
            found = recording_clips(
                recording,
                len(recordings),
                fps=fps,
                clip_frames=clip_frames,
                hop_frames=hop_frames,
                min_frames=min_frames,
            )
        except StickGenError as exc:
            if explicit:
                raise
            skipped.append({"file": name, "reason": str(exc)})
            continue
        recordings.append(recording)
        all_clips.extend(found)
    if not all_clips:
        reasons = "; ".join(f"{s['file']}: {s['reason']}" for s in skipped[:5])
        raise StickGenError(f"no motion could be imported ({reasons})")

    if stop():
        raise Cancelled("motion-capture import cancelled before labelling")
    progress(len(files), steps, "labelling the clips")
    model_c, label_method = _classifier(classifier, seed, fps)
    rng = np.random.default_rng(seed)
    n = len(all_clips)
    if model_c is not None:
        predicted = model_c.predict_many([c.motion[: c.real_frames] for c in all_clips])
    motion = np.stack([c.motion for c in all_clips])
    actions = np.full((n, clip_frames), int(ActionType.IDLE), dtype=np.int64)
    descriptions: list[str] = []
    origins = []
    for i, clip in enumerate(all_clips):
        recording = recordings[clip.recording]
        real = clip.real_frames
        end = clip.start + real / fps
        text = describe.choose_caption(recording.captions, clip.start, end, rng)
        source = "caption" if text else None
        if text is None:
            text = describe.description_from_name(recording.path)
            source = "file name" if text else None
        if model_c is not None:
            actions[i, :real] = predicted[i]
        else:
            actions[i, :real] = _name_labels(text)
        if text is None:
            text = describe.description_from_actions(actions[i, :real], fps)
            source = "inferred actions"
        descriptions.append(text)
        origins.append(
            {
                "file": recording.name,
                "start_seconds": round(clip.start, 4),
                "real_frames": real,
                "real_seconds": round(real / fps, 4),
                "source_fps": round(recording.fps, 4),
                "skeleton": recording.skeleton,
                "facing": clip.facing,
                "description_from": source,
            }
        )

    from stickgen.face import face_tracks

    face = face_tracks(actions, fps)
    physics = np.stack([physics_from_motion(m, fps) for m in motion])
    split_codes = [split_of(r.name, seed) for r in recordings]
    recording_of = np.array([c.recording for c in all_clips], dtype=np.int64)
    progress(len(files) + 1, steps, "writing the dataset")
    with DatasetWriter(out_dir, n, clip_frames, sources=["mocap"], overwrite=overwrite) as writer:
        writer.write(
            0,
            descriptions=descriptions,
            motion=motion,
            actions=actions.astype(np.uint8),
            physics=physics,
            face=face,
            scene_id=recording_of,
            split=np.array(split_codes, dtype=np.uint8)[recording_of],
            augmentation=np.zeros(n, dtype=np.uint8),
            source=np.zeros(n, dtype=np.uint8),
        )
        path = writer.finish(
            {
                "seed": seed,
                "fps": fps,
                "labels_inferred": True,
                "label_method": label_method,
                "generator": {
                    "kind": "mocap",
                    "clip_seconds": clip_seconds,
                    "hop_seconds": hop_seconds or clip_seconds,
                    "min_clip_seconds": min_clip_seconds,
                    "fps_in": fps_in,
                    "recordings": len(recordings),
                },
                "origins": origins,
                "skipped": skipped,
            }
        )
    progress(steps, steps, f"imported {n} clips from {len(recordings)} recordings")
    return path
