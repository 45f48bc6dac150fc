"""Joint-name tables: which joints of a capture skeleton drive the stick figure.

A *role* is a point the stick figure needs. Each naming scheme lists, per role, the joint names
that can play it, best first. Names are compared after `normalize_name` (namespace prefix such
as ``mixamorig:`` dropped, lower case, only letters and digits), so ``mixamorig:LeftHand``,
``LeftHand`` and ``left_hand`` match the same entry.

Hands fall back to wrists, feet are ankles (the joint where the shin ends), the neck falls back
to the top of the spine. Hips and knees are used for the facing direction and the body scale.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stickgen.errors import StickGenError

ROLES = (
    "pelvis",
    "neck",
    "left_hand",
    "right_hand",
    "left_foot",
    "right_foot",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
)
OPTIONAL_ROLES = frozenset({"left_knee", "right_knee"})
(
    PELVIS,
    NECK,
    LEFT_HAND,
    RIGHT_HAND,
    LEFT_FOOT,
    RIGHT_FOOT,
    LEFT_HIP,
    RIGHT_HIP,
    LEFT_KNEE,
    RIGHT_KNEE,
) = range(len(ROLES))

# CMU capture as converted to BVH (Hips, LHipJoint, LeftUpLeg, LeftLeg, LeftFoot, Neck, Neck1...).
CMU: dict[str, tuple[str, ...]] = {
    "pelvis": ("hips",),
    "neck": ("neck", "neck1", "spine1"),
    "left_hand": ("lefthand",),
    "right_hand": ("righthand",),
    "left_foot": ("leftfoot",),
    "right_foot": ("rightfoot",),
    "left_hip": ("leftupleg",),
    "right_hip": ("rightupleg",),
    "left_knee": ("leftleg",),
    "right_knee": ("rightleg",),
}

# CMU capture in the older "friendly" naming (hip, abdomen, chest, lThigh, lShin, lFoot...).
CMU_FRIENDLY: dict[str, tuple[str, ...]] = {
    "pelvis": ("hip", "hips"),
    "neck": ("neck", "chest"),
    "left_hand": ("lhand",),
    "right_hand": ("rhand",),
    "left_foot": ("lfoot",),
    "right_foot": ("rfoot",),
    "left_hip": ("lthigh",),
    "right_hip": ("rthigh",),
    "left_knee": ("lshin",),
    "right_knee": ("rshin",),
}

# Mixamo rigs: `mixamorig:` prefix (dropped by normalize_name), Spine/Spine1/Spine2, UpLeg/Leg.
MIXAMO: dict[str, tuple[str, ...]] = {
    "pelvis": ("hips",),
    "neck": ("neck", "spine2"),
    "left_hand": ("lefthand",),
    "right_hand": ("righthand",),
    "left_foot": ("leftfoot",),
    "right_foot": ("rightfoot",),
    "left_hip": ("leftupleg",),
    "right_hip": ("rightupleg",),
    "left_knee": ("leftleg",),
    "right_knee": ("rightleg",),
}

# Common synonyms from other exporters (LeftHip/LeftKnee/LeftAnkle/LeftWrist, l_wrist, pelvis).
GENERIC: dict[str, tuple[str, ...]] = {
    "pelvis": ("hips", "hip", "pelvis", "root", "waist"),
    "neck": ("neck", "neck1", "neckbase", "upperchest", "chest2", "spine3", "spine2", "chest"),
    "left_hand": ("lefthand", "leftwrist", "lhand", "lwrist", "handl", "wristl"),
    "right_hand": ("righthand", "rightwrist", "rhand", "rwrist", "handr", "wristr"),
    "left_foot": ("leftankle", "leftfoot", "lankle", "lfoot", "anklel", "footl"),
    "right_foot": ("rightankle", "rightfoot", "rankle", "rfoot", "ankler", "footr"),
    "left_hip": ("lefthip", "leftupleg", "leftthigh", "lhip", "lthigh", "thighl", "hipl"),
    "right_hip": ("righthip", "rightupleg", "rightthigh", "rhip", "rthigh", "thighr", "hipr"),
    "left_knee": ("leftknee", "leftleg", "leftshin", "lknee", "lshin", "kneel", "shinl"),
    "right_knee": ("rightknee", "rightleg", "rightshin", "rknee", "rshin", "kneer", "shinr"),
}

BVH_SCHEMES: dict[str, dict[str, tuple[str, ...]]] = {
    "cmu": CMU,
    "mixamo": MIXAMO,
    "cmu_friendly": CMU_FRIENDLY,
    "generic": GENERIC,
}

# SMPL / SMPL-H / SMPL-X body joints 0..21 (the HumanML3D `[T, 22, 3]` order).
SMPL_JOINT_NAMES = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
)
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
SMPL22: dict[str, int] = {
    "pelvis": 0,
    "neck": 12,
    "left_hand": 20,
    "right_hand": 21,
    "left_foot": 7,
    "right_foot": 8,
    "left_hip": 1,
    "right_hip": 2,
    "left_knee": 4,
    "right_knee": 5,
}

# DeepMimic humanoid (the JSON motions shipped with pybullet): its link names.
DEEPMIMIC: dict[str, tuple[str, ...]] = {
    "pelvis": ("root",),
    "neck": ("neck",),
    "left_hand": ("leftwrist", "leftelbowend"),
    "right_hand": ("rightwrist", "rightelbowend"),
    "left_foot": ("leftankle",),
    "right_foot": ("rightankle",),
    "left_hip": ("lefthip",),
    "right_hip": ("righthip",),
    "left_knee": ("leftknee",),
    "right_knee": ("rightknee",),
}


def normalize_name(name: str) -> str:
    """``mixamorig:LeftHand`` -> ``lefthand``: drop namespaces, keep lower-case letters/digits."""
    base = re.split(r"[:|]", name)[-1]
    return re.sub(r"[^a-z0-9]", "", base.lower())


def _resolve(names: Sequence[str], table: dict[str, tuple[str, ...]]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(normalize_name(name), i)
    found = {}
    for role in ROLES:
        for candidate in table[role]:
            if candidate in index:
                found[role] = index[candidate]
                break
    return found


def map_joints(names: Sequence[str], source: str = "skeleton") -> tuple[str, dict[str, int]]:
    """Pick the naming scheme that maps every required role; returns (scheme, role -> index).

    Raises StickGenError naming the roles (and the joint names looked for) that no scheme found.
    """
    best: tuple[str, dict[str, int]] | None = None
    order = list(BVH_SCHEMES)
    if any(name.lower().startswith("mixamo") for name in names):
        order.insert(0, order.pop(order.index("mixamo")))
    for scheme in order:
        table = BVH_SCHEMES[scheme]
        found = _resolve(names, table)
        if all(role in found for role in ROLES if role not in OPTIONAL_ROLES):
            return scheme, found
        if best is None or len(found) > len(best[1]):
            best = (scheme, found)
    assert best is not None
    missing = [r for r in ROLES if r not in best[1] and r not in OPTIONAL_ROLES]
    wanted = "; ".join(f"{r} (one of {', '.join(GENERIC[r][:4])})" for r in missing)
    raise StickGenError(
        f"{source}: cannot map the skeleton to a stick figure, missing joints for {wanted}. "
        f"Joints present: {', '.join(names[:40])}"
    )
