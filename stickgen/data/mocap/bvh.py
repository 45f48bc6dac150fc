"""BVH motion files: parse the hierarchy and motion, forward kinematics to world positions.

Channels may come in any order per joint; the order of a joint's rotation channels is its Euler
rotation order (``Zrotation Xrotation Yrotation`` means ``R = Rz @ Rx @ Ry``, angles in degrees).
A joint's local translation is its OFFSET plus its position channels (usually only the root has
them). End Sites become extra joints named ``<parent>_End`` so toe and head tips are available.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stickgen.errors import StickGenError

_AXES = {"x": 0, "y": 1, "z": 2}


@dataclass
class BvhJoint:
    """One joint of the hierarchy; `channels` index columns of the motion table."""

    name: str
    parent: int  # -1 for the root
    offset: np.ndarray  # [3]
    channel_names: list[str] = field(default_factory=list)
    channels: list[int] = field(default_factory=list)


@dataclass
class Bvh:
    """A parsed BVH file: joints in hierarchy order (parents before children) and motion."""

    joints: list[BvhJoint]
    motion: np.ndarray  # float64 [T, C] channel values per frame
    frame_time: float

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    def world_positions(self) -> np.ndarray:
        """float64 `[T, J, 3]` world position of every joint (and End Site) per frame."""
        return forward_kinematics(self)


def _tokens(text: str) -> list[str]:
    return text.replace("{", " { ").replace("}", " } ").split()


def parse_bvh(text: str, source: str = "BVH") -> Bvh:
    """Parse BVH text; raises StickGenError naming `source` when the file is malformed."""
    try:
        head, body = _split_sections(text)
        joints, num_channels = _parse_hierarchy(_tokens(head))
        motion, frame_time = _parse_motion(body, num_channels)
    except StickGenError as exc:
        raise StickGenError(f"{source}: {exc}") from None
    except (ValueError, IndexError) as exc:
        raise StickGenError(f"{source}: malformed BVH ({exc})") from None
    return Bvh(joints=joints, motion=motion, frame_time=frame_time)


def load_bvh(path: str | Path) -> Bvh:
    """Read and parse a `.bvh` file."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise StickGenError(f"cannot read {path}: {exc.strerror}") from None
    return parse_bvh(text, source=str(path))


_SECTION = re.compile(r"^[ \t]*(HIERARCHY|MOTION)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


def _split_sections(text: str) -> tuple[str, str]:
    """(hierarchy, motion): the text after the HIERARCHY and MOTION keywords, each alone on its
    line (so a joint named `RootMotion` or `HeadMotion` does not end the hierarchy)."""
    found = {m.group(1).upper(): m for m in reversed(list(_SECTION.finditer(text)))}
    start, split = found.get("HIERARCHY"), found.get("MOTION")
    if start is None or split is None or split.start() < start.end():
        raise StickGenError("not a BVH file (needs HIERARCHY and MOTION sections)")
    return text[start.end() : split.start()], text[split.end() :]


def _parse_hierarchy(tokens: list[str]) -> tuple[list[BvhJoint], int]:
    joints: list[BvhJoint] = []
    stack: list[int] = []  # joint index per open brace; -2 marks an End Site block
    pending: tuple[str, int] | None = None
    num_channels = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        key = tok.upper()
        if key in ("ROOT", "JOINT"):
            parent = _innermost_joint(stack)
            if key == "ROOT" and joints:
                raise StickGenError("more than one ROOT (only one skeleton per file is supported)")
            pending = (tokens[i + 1], parent)
            i += 2
        elif key == "END":  # End Site
            parent = _innermost_joint(stack)
            pending = (f"{joints[parent].name}_End", parent)
            i += 2
        elif tok == "{":
            if pending is None:
                raise StickGenError("unexpected '{' in HIERARCHY")
            joints.append(BvhJoint(pending[0], pending[1], np.zeros(3)))
            stack.append(len(joints) - 1)
            pending = None
            i += 1
        elif tok == "}":
            if not stack:
                raise StickGenError("unbalanced '}' in HIERARCHY")
            stack.pop()
            i += 1
        elif key == "OFFSET":
            joints[stack[-1]].offset = np.array([float(v) for v in tokens[i + 1 : i + 4]])
            i += 4
        elif key == "CHANNELS":
            count = int(tokens[i + 1])
            names = [c.lower() for c in tokens[i + 2 : i + 2 + count]]
            for name in names:
                if (
                    len(name) != 9
                    or name[0] not in _AXES
                    or name[1:] not in ("position", "rotation")
                ):
                    raise StickGenError(f"unknown channel {name!r}")
            joint = joints[stack[-1]]
            joint.channel_names = names
            joint.channels = list(range(num_channels, num_channels + count))
            num_channels += count
            i += 2 + count
        else:
            raise StickGenError(f"unexpected {tok!r} in HIERARCHY")
    if stack or not joints:
        raise StickGenError("incomplete HIERARCHY")
    return joints, num_channels


def _innermost_joint(stack: list[int]) -> int:
    return stack[-1] if stack else -1


def _parse_motion(body: str, num_channels: int) -> tuple[np.ndarray, float]:
    lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
    if len(lines) < 2:
        raise StickGenError("MOTION section lacks 'Frames:' and 'Frame Time:'")
    frames = int(lines[0].split(":", 1)[1])
    frame_time = float(lines[1].split(":", 1)[1])
    if frame_time <= 0:
        raise StickGenError(f"Frame Time must be positive, got {frame_time}")
    values = np.array(" ".join(lines[2 : 2 + frames]).split(), dtype=np.float64)
    if frames < 1 or values.size != frames * num_channels:
        raise StickGenError(
            f"MOTION has {values.size} values, expected {frames} frames x {num_channels} channels"
        )
    return values.reshape(frames, num_channels), frame_time


def axis_rotation(axis: int, degrees: np.ndarray) -> np.ndarray:
    """Rotation matrices `[T, 3, 3]` about one coordinate axis (right-handed)."""
    rad = np.radians(degrees)
    c, s = np.cos(rad), np.sin(rad)
    out = np.zeros((*rad.shape, 3, 3))
    a, b = (axis + 1) % 3, (axis + 2) % 3  # cyclic, so every axis is right-handed
    out[..., axis, axis] = 1.0
    out[..., a, a] = c
    out[..., b, b] = c
    out[..., a, b] = -s
    out[..., b, a] = s
    return out


def forward_kinematics(bvh: Bvh) -> np.ndarray:
    """World positions `[T, J, 3]`: each joint's rotation is the product of its rotation
    channels in file order, applied after its parent's."""
    num_frames = bvh.num_frames
    rotations = np.empty((len(bvh.joints), num_frames, 3, 3))
    positions = np.empty((num_frames, len(bvh.joints), 3))
    for j, joint in enumerate(bvh.joints):
        local_t = np.broadcast_to(joint.offset, (num_frames, 3)).copy()
        local_r = np.broadcast_to(np.eye(3), (num_frames, 3, 3))
        for name, column in zip(joint.channel_names, joint.channels, strict=True):
            axis = _AXES[name[0]]
            if name.endswith("position"):
                local_t[:, axis] += bvh.motion[:, column]
            else:
                local_r = local_r @ axis_rotation(axis, bvh.motion[:, column])
        if joint.parent < 0:
            rotations[j] = local_r
            positions[:, j] = local_t
        else:
            parent_r = rotations[joint.parent]
            rotations[j] = parent_r @ local_r
            positions[:, j] = positions[:, joint.parent] + (parent_r @ local_t[..., None])[..., 0]
    return positions
