"""AMASS motions: SMPL-H/SMPL-X parameters through a body model, or pre-computed joint positions.

An AMASS ``.npz`` holds ``poses`` `[T, 156]` (axis-angle per joint: 3 root + 21 body + hands),
``trans`` `[T, 3]`, ``betas`` and the frame rate under ``mocap_framerate`` or
``mocap_frame_rate``; its world is Z-up, metres. Joint positions come from forward kinematics
with the user's own body-model ``.npz`` (``J_regressor``, ``v_template``, ``shapedirs``,
``kintree_table``; SMPL-H is licensed, so the project never ships one). Only the first 22 joints
(the body) are used.

The joint-position form is a `[T, 22, 3]` ``.npy`` in SMPL joint order as HumanML3D ships it
(Y-up, metres, 20 fps); it needs no body model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stickgen.errors import StickGenError

BODY_JOINTS = 22
HUMANML3D_FPS = 20.0
MIN_FK_FPS = 50.0  # captures faster than twice this are thinned before forward kinematics
FRAMERATE_KEYS = ("mocap_framerate", "mocap_frame_rate", "fps", "framerate")
BODY_MODEL_KEYS = ("J_regressor", "v_template", "shapedirs", "kintree_table")


@dataclass(frozen=True)
class BodyModel:
    """The parts of an SMPL-family model that joint positions need."""

    parents: np.ndarray  # int [K], -1 for the root
    j_regressor: np.ndarray  # [K, V]
    v_template: np.ndarray  # [V, 3]
    shapedirs: np.ndarray  # [V, 3, B]

    @property
    def num_joints(self) -> int:
        return int(self.parents.shape[0])

    def rest_joints(self, betas: np.ndarray | None = None) -> np.ndarray:
        """Joint locations `[K, 3]` of the shaped body in its rest pose."""
        vertices = self.v_template
        if betas is not None and self.shapedirs.shape[-1]:
            b = np.asarray(betas, dtype=np.float64).reshape(-1)
            n = min(b.shape[0], self.shapedirs.shape[-1])
            vertices = vertices + self.shapedirs[..., :n] @ b[:n]
        return self.j_regressor @ vertices


def _load_npz(path: Path, what: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise StickGenError(
                f"{path}: {what} holds pickled objects (for example a sparse J_regressor); "
                "save it again with dense numpy arrays"
            ) from None
        raise StickGenError(f"{path}: not a readable {what} ({exc})") from None
    except OSError as exc:
        raise StickGenError(f"cannot read {what} {path}: {exc}") from None


def load_body_model(path: str | Path) -> BodyModel:
    """Read a body-model ``.npz``; raises StickGenError naming missing arrays."""
    path = Path(path)
    data = _load_npz(path, "body model")
    missing = [key for key in BODY_MODEL_KEYS if key not in data]
    if missing:
        raise StickGenError(f"{path}: body model lacks {', '.join(missing)}")
    kintree = np.asarray(data["kintree_table"]).astype(np.int64)
    parents = kintree[0].copy()
    parents[(parents < 0) | (parents >= parents.shape[0])] = -1
    parents[0] = -1
    if np.any(parents[1:] >= np.arange(1, parents.shape[0])):
        raise StickGenError(f"{path}: kintree_table must list parents before children")
    v_template = np.asarray(data["v_template"], dtype=np.float64)
    shapedirs = np.asarray(data["shapedirs"], dtype=np.float64)
    if shapedirs.ndim == 2:
        shapedirs = shapedirs.reshape(v_template.shape[0], 3, -1)
    regressor = np.asarray(data["J_regressor"], dtype=np.float64)
    if regressor.shape != (parents.shape[0], v_template.shape[0]):
        raise StickGenError(
            f"{path}: J_regressor has shape {regressor.shape}, expected "
            f"({parents.shape[0]}, {v_template.shape[0]})"
        )
    return BodyModel(parents, regressor, v_template, shapedirs)


def axis_angle_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Rodrigues' formula: axis-angle vectors `[..., 3]` (radians) -> rotations `[..., 3, 3]`."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(rotvec, axis=-1)
    x, y, z = np.moveaxis(rotvec / np.maximum(angle, 1e-12)[..., None], -1, 0)
    s, c = np.sin(angle), np.cos(angle)
    k = 1.0 - c
    rows = [
        c + k * x * x, k * x * y - s * z, k * x * z + s * y,
        k * y * x + s * z, c + k * y * y, k * y * z - s * x,
        k * z * x - s * y, k * z * y + s * x, c + k * z * z,
    ]  # fmt: skip
    return np.stack(rows, axis=-1).reshape(*angle.shape, 3, 3)


def body_joint_positions(
    model: BodyModel,
    poses: np.ndarray,
    trans: np.ndarray | None = None,
    betas: np.ndarray | None = None,
    num_joints: int = BODY_JOINTS,
) -> np.ndarray:
    """Forward kinematics: world joint positions `[T, K, 3]` for the first K joints.

    `poses` is `[T, 3 * J]` axis-angle (root orientation first), `trans` `[T, 3]` is added to
    every joint. K is the smallest of `num_joints`, the model's joints and the posed joints.
    """
    poses = np.asarray(poses, dtype=np.float64)
    count = min(num_joints, model.num_joints, poses.shape[-1] // 3)
    rest = model.rest_joints(betas)[:count]
    local = axis_angle_to_matrix(poses[:, : 3 * count].reshape(-1, count, 3))
    frames = poses.shape[0]
    rotations = np.empty((frames, count, 3, 3))
    positions = np.empty((frames, count, 3))
    for j in range(count):
        parent = int(model.parents[j])
        if parent < 0:
            rotations[:, j] = local[:, j]
            positions[:, j] = rest[j]
        else:
            rotations[:, j] = rotations[:, parent] @ local[:, j]
            bone = rest[j] - rest[parent]
            positions[:, j] = positions[:, parent] + rotations[:, parent] @ bone
    if trans is not None:
        positions += np.asarray(trans, dtype=np.float64)[:, None, :]
    return positions


def amass_frame_rate(data: dict[str, np.ndarray], source: str) -> float:
    """The capture frame rate from whichever key this AMASS release uses."""
    for key in FRAMERATE_KEYS:
        if key in data:
            fps = float(np.asarray(data[key]).reshape(-1)[0])
            if fps > 0:
                return fps
    raise StickGenError(f"{source}: no frame rate (expected one of {', '.join(FRAMERATE_KEYS)})")


def is_amass_motion(path: Path) -> bool:
    """True when an ``.npz`` holds a motion (``poses``), not only a shape (AMASS shape.npz)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return "poses" in data.files
    except (OSError, ValueError):
        return False


def load_amass(path: str | Path, model: BodyModel) -> tuple[np.ndarray, float]:
    """An AMASS ``.npz`` -> (joint positions `[T, 22, 3]` Z-up metres, frame rate).

    Captures at 100 fps and more are thinned to every n-th frame (at least MIN_FK_FPS) first:
    the clips are resampled to 25 fps anyway, and forward kinematics is the costly step.
    """
    path = Path(path)
    data = _load_npz(path, "AMASS motion")
    if "poses" not in data:
        raise StickGenError(f"{path}: no 'poses' array (not an AMASS motion file)")
    poses = np.asarray(data["poses"], dtype=np.float64)
    if poses.ndim != 2 or poses.shape[1] < 3 * BODY_JOINTS:
        raise StickGenError(
            f"{path}: poses has shape {poses.shape}, expected [T, >= {3 * BODY_JOINTS}]"
        )
    if model.num_joints < BODY_JOINTS:
        raise StickGenError(f"body model has {model.num_joints} joints, needs {BODY_JOINTS}")
    fps = amass_frame_rate(data, str(path))
    step = max(1, int(fps // MIN_FK_FPS))  # 120 fps -> every 2nd frame: ample for 25 fps clips
    poses, fps = poses[::step], fps / step
    trans = data.get("trans")
    trans = None if trans is None else trans[::step]
    if trans is not None and trans.shape != (poses.shape[0], 3):
        raise StickGenError(f"{path}: trans does not match poses ({trans.shape} vs {poses.shape})")
    joints = body_joint_positions(model, poses, trans, data.get("betas"))
    return joints, fps


def load_joint_positions(path: str | Path) -> np.ndarray:
    """A `[T, 22, 3]` joint-position ``.npy`` (HumanML3D form); more joints are cut to 22."""
    path = Path(path)
    try:
        joints = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise StickGenError(f"cannot read {path}: {exc}") from None
    if joints.ndim != 3 or joints.shape[1] < BODY_JOINTS or joints.shape[2] != 3:
        raise StickGenError(
            f"{path}: joint positions have shape {joints.shape}, expected [T, 22, 3]"
        )
    if not np.all(np.isfinite(joints)):
        raise StickGenError(f"{path}: joint positions contain NaN or infinity")
    return np.asarray(joints[:, :BODY_JOINTS], dtype=np.float64)
