"""Motion-capture import: BVH and AMASS forward kinematics, projection, time handling, dataset."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from stickgen.data.mocap import amass, bvh, clips, describe, importer, project, skeletons
from stickgen.data.mocap.importer import import_mocap
from stickgen.data.mocap.labels import ActionClassifier, window_features
from stickgen.data.store import Dataset
from stickgen.errors import StickGenError
from stickgen.schema import ActionType
from stickgen.skeleton import LEG_LENGTH, SEGMENT_LENGTHS, as_segments, segment_lengths

FPS = 25

# ---------------------------------------------------------------- synthetic capture helpers

# SMPL-like rest pose (Y-up, facing +Z, left = +X), metres; thigh 0.45 + shin 0.45 = 0.9.
REST = np.zeros((22, 3))
REST[0] = (0.0, 1.0, 0.0)  # pelvis
REST[1], REST[2] = (0.1, 0.95, 0.0), (-0.1, 0.95, 0.0)  # hips
REST[3], REST[6], REST[9] = (0, 1.1, 0), (0, 1.25, 0), (0, 1.4, 0)  # spine
REST[4], REST[5] = (0.1, 0.5, 0.0), (-0.1, 0.5, 0.0)  # knees
REST[7], REST[8] = (0.1, 0.05, 0.0), (-0.1, 0.05, 0.0)  # ankles
REST[10], REST[11] = (0.1, 0.0, 0.12), (-0.1, 0.0, 0.12)  # toes
REST[12], REST[15] = (0.0, 1.5, 0.0), (0.0, 1.65, 0.0)  # neck, head
REST[13], REST[14] = (0.08, 1.45, 0.0), (-0.08, 1.45, 0.0)  # collars
REST[16], REST[17] = (0.18, 1.45, 0.0), (-0.18, 1.45, 0.0)  # shoulders
REST[18], REST[19] = (0.18, 1.17, 0.0), (-0.18, 1.17, 0.0)  # elbows (arms hang down)
REST[20], REST[21] = (0.18, 0.9, 0.0), (-0.18, 0.9, 0.0)  # wrists


def body_model_file(path: Path, rest: np.ndarray = REST, parents=skeletons.SMPL_PARENTS) -> Path:
    """A body model whose template vertices are its joints (identity regressor)."""
    k = rest.shape[0]
    shapedirs = np.zeros((k, 3, 10))
    shapedirs[:, 1, 0] = rest[:, 1] * 0.1  # beta 0 makes the body 10% taller per unit
    kintree = np.stack([np.array(parents, dtype=np.int64), np.arange(k)])
    kintree[0, 0] = 4294967295  # SMPL files mark the root's parent like this
    np.savez(
        path, J_regressor=np.eye(k), v_template=rest, shapedirs=shapedirs, kintree_table=kintree
    )
    return path


def walking_poses(frames: int, fps: float, speed: float = 1.2, stride_hz: float = 0.9):
    """SMPL poses [T, 156] and trans [T, 3] of a walk, in AMASS's Z-up world (facing -Y)."""
    t = np.arange(frames) / fps
    swing = 0.35 * np.sin(2 * np.pi * stride_hz * t)
    poses = np.zeros((frames, 156))
    poses[:, 0] = np.pi / 2  # root: body Y-up -> world Z-up (body +Z faces world -Y)
    poses[:, 3 * 1] = -swing  # left hip about body x: negative angle swings the leg forward
    poses[:, 3 * 2] = swing
    poses[:, 3 * 16 + 0] = swing  # shoulders swing opposite to the legs
    poses[:, 3 * 17 + 0] = -swing
    trans = np.stack([np.zeros(frames), -speed * t, np.zeros(frames)], axis=-1)
    return poses, trans


def walker_joints(frames: int, fps: float, speed: float = 1.2) -> np.ndarray:
    """`[T, 22, 3]` Y-up joint positions of the same walk (HumanML3D form)."""
    model = amass.load_body_model(body_model_file(Path(_tmp()) / "m.npz"))
    poses, trans = walking_poses(frames, fps, speed)
    poses[:, 0] = 0.0  # stay Y-up, face +Z
    trans = np.stack([np.zeros(frames), np.zeros(frames), speed * np.arange(frames) / fps], -1)
    return amass.body_joint_positions(model, poses, trans)


_TMP: list[str] = []


def _tmp() -> str:
    import tempfile

    if not _TMP:
        _TMP.append(tempfile.mkdtemp(prefix="stickgen-mocap-"))
    return _TMP[0]


def run_import(sources, out: Path, **kwargs) -> Dataset:
    kwargs.setdefault("classifier", _idle_classifier())
    return Dataset(import_mocap([Path(s) for s in sources], out, **kwargs))


@functools.cache
def _idle_classifier() -> ActionClassifier:
    """A tiny fitted classifier for tests that do not look at labels (fast, no engine)."""
    rng = np.random.default_rng(0)
    motion = np.tile(
        np.array(
            [
                0,
                1.45,
                0,
                0.9,
                0,
                1.45,
                0.3,
                0.9,
                0,
                1.45,
                -0.3,
                0.9,
                0,
                0.9,
                0.2,
                0,
                0,
                0.9,
                -0.2,
                0,
            ],
            np.float32,
        ),
        (4, 50, 1),
    )
    motion += rng.normal(0, 0.01, motion.shape).astype(np.float32)
    actions = np.full((4, 50), int(ActionType.STAND))
    return ActionClassifier.fit(motion, actions, steps=5)


# ---------------------------------------------------------------- BVH


SIMPLE_BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation
  JOINT Arm
  {
    OFFSET 10 0 0
    CHANNELS 3 Zrotation Yrotation Xrotation
    End Site
    {
      OFFSET 0 -20 0
    }
  }
}
MOTION
Frames: 3
Frame Time: 0.5
1 2 3 0 0 0 0 0 0
0 0 0 90 0 0 0 0 0
0 0 0 0 0 0 90 0 0
"""


def test_bvh_forward_kinematics_known_positions():
    data = bvh.parse_bvh(SIMPLE_BVH)
    assert data.names == ["Hips", "Arm", "Arm_End"]
    assert data.fps == pytest.approx(2.0)
    p = data.world_positions()
    # frame 0: translated root, no rotation
    np.testing.assert_allclose(p[0], [[1, 2, 3], [11, 2, 3], [11, -18, 3]], atol=1e-9)
    # frame 1: root yaw +90 deg about Y sends +X to -Z
    np.testing.assert_allclose(p[1, 1], [0, 0, -10], atol=1e-9)
    np.testing.assert_allclose(p[1, 2], [0, -20, -10], atol=1e-9)
    # frame 2: the arm rolls +90 deg about Z: its -Y bone points to +X
    np.testing.assert_allclose(p[2, 2], [30, 0, 0], atol=1e-9)


def test_bvh_rotation_order_follows_channel_order():
    text = SIMPLE_BVH.replace("Zrotation Yrotation Xrotation", "Xrotation Yrotation Zrotation")
    zyx = bvh.parse_bvh(SIMPLE_BVH.replace("0 0 0 0 0 0 90 0 0", "0 0 0 0 0 0 90 90 0"))
    xyz = bvh.parse_bvh(text.replace("0 0 0 0 0 0 90 0 0", "0 0 0 0 0 0 90 90 0"))
    # the same two angles applied in a different order give a different end point
    a, b = zyx.world_positions()[2, 2], xyz.world_positions()[2, 2]
    assert np.linalg.norm(a - b) > 1.0
    expected_zyx = np.array([10, 0, 0]) + bvh.axis_rotation(2, np.array(90.0)) @ (
        bvh.axis_rotation(1, np.array(90.0)) @ np.array([0, -20, 0])
    )
    np.testing.assert_allclose(a, expected_zyx, atol=1e-9)


def test_bvh_joints_named_like_a_section_are_joints():
    """A joint called RootMotion (or HeadMotion) is a joint, not the start of the MOTION part."""
    text = SIMPLE_BVH.replace("JOINT Arm", "JOINT RootMotion")
    data = bvh.parse_bvh(text)
    assert data.names == ["Hips", "RootMotion", "RootMotion_End"]
    np.testing.assert_allclose(data.world_positions(), bvh.parse_bvh(SIMPLE_BVH).world_positions())


def test_bvh_errors_are_user_errors():
    with pytest.raises(StickGenError, match="HIERARCHY"):
        bvh.parse_bvh("nothing here")
    with pytest.raises(StickGenError, match="expected 4 frames x 9 channels"):
        bvh.parse_bvh(
            SIMPLE_BVH.replace("Frames: 3", "Frames: 4").replace("0 0 0 0 0 0 90 0 0\n", "")
        )


def test_skeleton_mapping_tables_and_missing_joints():
    cmu = [
        "Hips",
        "LHipJoint",
        "LeftUpLeg",
        "LeftLeg",
        "LeftFoot",
        "RHipJoint",
        "RightUpLeg",
        "RightLeg",
        "RightFoot",
        "LowerBack",
        "Spine",
        "Spine1",
        "Neck",
        "Neck1",
        "Head",
        "LeftShoulder",
        "LeftArm",
        "LeftForeArm",
        "LeftHand",
        "RightShoulder",
        "RightArm",
        "RightForeArm",
        "RightHand",
    ]
    scheme, index = skeletons.map_joints(cmu)
    assert scheme == "cmu"
    assert cmu[index["neck"]] == "Neck" and cmu[index["left_hip"]] == "LeftUpLeg"
    mixamo = ["mixamorig:" + n for n in cmu]
    scheme, index = skeletons.map_joints(mixamo)
    assert scheme == "mixamo" and mixamo[index["right_hand"]] == "mixamorig:RightHand"
    generic = [
        "pelvis",
        "l_hip",
        "l_knee",
        "l_ankle",
        "r_hip",
        "r_knee",
        "r_ankle",
        "neck",
        "l_wrist",
        "r_wrist",
    ]
    scheme, index = skeletons.map_joints(generic)
    assert generic[index["left_foot"]] == "l_ankle" and generic[index["left_hand"]] == "l_wrist"
    with pytest.raises(StickGenError, match=r"left_hand.*right_hand") as info:
        skeletons.map_joints([n for n in cmu if "Hand" not in n], "robot.bvh")
    assert "robot.bvh" in str(info.value)


# ---------------------------------------------------------------- AMASS


def test_body_model_forward_kinematics_rotating_a_shoulder(tmp_path):
    rest = np.array([[0, 0, 0], [0.2, 0.5, 0], [0.5, 0.5, 0]], dtype=float)  # root, shoulder, hand
    model = amass.load_body_model(body_model_file(tmp_path / "m.npz", rest, (-1, 0, 1)))
    poses = np.zeros((2, 9))
    poses[1, 3:6] = (0, 0, np.pi / 2)  # shoulder +90 deg about z: the arm turns from +x to +y
    trans = np.array([[0, 0, 0], [1, 0, 0]], dtype=float)
    p = amass.body_joint_positions(model, poses, trans)
    np.testing.assert_allclose(p[0], rest, atol=1e-9)
    np.testing.assert_allclose(p[1], [[1, 0, 0], [1.2, 0.5, 0], [1.2, 0.8, 0]], atol=1e-9)
    # the root's rotation carries the whole chain
    poses[1] = 0
    poses[1, 0:3] = (0, np.pi, 0)
    p = amass.body_joint_positions(model, poses, trans)
    np.testing.assert_allclose(p[1, 2], [1 - 0.5, 0.5, 0], atol=1e-9)
    # betas go through shapedirs: beta 0 = +10% height per unit
    np.testing.assert_allclose(model.rest_joints(np.array([1.0]))[1], [0.2, 0.55, 0], atol=1e-9)


def test_body_model_errors(tmp_path):
    np.savez(tmp_path / "bad.npz", v_template=np.zeros((3, 3)))
    with pytest.raises(StickGenError, match="J_regressor"):
        amass.load_body_model(tmp_path / "bad.npz")


@pytest.mark.parametrize("key", ["mocap_framerate", "mocap_frame_rate"])
def test_amass_import_is_upright_and_travels_forward(tmp_path, key):
    model = body_model_file(tmp_path / "smplh.npz")
    poses, trans = walking_poses(180, 60.0)
    np.savez(tmp_path / "walk.npz", poses=poses, trans=trans, betas=np.zeros(16), **{key: 60.0})
    data = run_import([tmp_path / "walk.npz"], tmp_path / "ds", body_model=model)
    assert len(data) == 1
    origin = data.manifest["origins"][0]
    assert origin["real_frames"] == 75 and origin["source_fps"] == 60.0
    motion = data[0]["motion"][:75]
    seg = as_segments(motion)
    assert np.all(seg[:, 0, 0, 1] > seg[:, 0, 1, 1] + 0.5)  # neck well above the hip: side view
    np.testing.assert_allclose(
        segment_lengths(motion), np.broadcast_to(SEGMENT_LENGTHS, (75, 5)), atol=1e-5
    )
    hip_x = seg[:, 0, 1, 0]
    # 1.2 m/s for 2.96 s; template legs are 0.9 m so the scale is 1
    assert hip_x[-1] - hip_x[0] == pytest.approx(1.2 * 74 / 25, rel=0.02)


def test_amass_without_body_model_or_frame_rate_is_a_user_error(tmp_path):
    poses, trans = walking_poses(10, 60.0)
    np.savez(tmp_path / "walk.npz", poses=poses, trans=trans, mocap_framerate=60.0)
    with pytest.raises(StickGenError, match="body-model"):
        import_mocap([tmp_path / "walk.npz"], tmp_path / "ds")
    np.savez(tmp_path / "nofps.npz", poses=poses, trans=trans)
    with pytest.raises(StickGenError, match="mocap_frame"):
        import_mocap(
            [tmp_path / "nofps.npz"],
            tmp_path / "ds",
            body_model=body_model_file(tmp_path / "m.npz"),
        )


def test_joint_position_form_matches_the_amass_path(tmp_path):
    """The same walk as [T,22,3] Y-up joints at 20 fps and as AMASS Z-up parameters at 60 fps
    gives the same stick figure."""
    joints = walker_joints(180, 60.0)
    np.save(tmp_path / "000001.npy", joints[::3].astype(np.float32))  # 20 fps, as HumanML3D
    poses, trans = walking_poses(180, 60.0)
    np.savez(tmp_path / "walk.npz", poses=poses, trans=trans, mocap_frame_rate=60.0)
    a = run_import([tmp_path / "000001.npy"], tmp_path / "a")
    b = run_import(
        [tmp_path / "walk.npz"], tmp_path / "b", body_model=body_model_file(tmp_path / "m.npz")
    )
    assert a.manifest["origins"][0]["real_frames"] == b.manifest["origins"][0]["real_frames"] == 75
    np.testing.assert_allclose(a[0]["motion"][:74], b[0]["motion"][:74], atol=0.02)


def test_joint_positions_shape_is_checked(tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((10, 5, 3)))
    with pytest.raises(StickGenError, match=r"\[T, 22, 3\]"):
        import_mocap([tmp_path / "bad.npy"], tmp_path / "ds")


# ---------------------------------------------------------------- time handling


def test_resampling_by_frame_rate_and_padding(tmp_path):
    assert clips.resample(np.zeros((90, 2)), 30, 25).shape == (75, 2)
    ramp = np.arange(90, dtype=float)[:, None]  # value = source frame index
    out = clips.resample(ramp, 30, 25)
    np.testing.assert_allclose(out[:, 0], np.arange(75) * 30 / 25)  # sampled by time
    joints = walker_joints(90, 30.0)  # a 3-s recording at 30 fps
    np.save(tmp_path / "walk.npy", joints)
    data = run_import([tmp_path / "walk.npy"], tmp_path / "ds", fps_in=30)
    assert data.frames == 250 and len(data) == 1
    assert data.manifest["origins"][0]["real_frames"] == 75
    motion = data[0]["motion"]
    assert np.ptp(motion[:75, 2]) > 0.5  # the hip travels during the real frames
    np.testing.assert_array_equal(motion[75:], np.broadcast_to(motion[74], (175, 20)))  # held
    assert np.all(data[0]["actions"][75:] == ActionType.IDLE)
    assert np.allclose(data[0]["physics"][76:, :2], 0.0)  # a held pose does not move


def test_a_25_second_recording_becomes_three_clips(tmp_path):
    np.save(tmp_path / "long.npy", walker_joints(500, 20.0))  # 25 s at 20 fps
    data = run_import([tmp_path / "long.npy"], tmp_path / "ds")
    origins = data.manifest["origins"]
    assert [o["start_seconds"] for o in origins] == [0.0, 10.0, 20.0]
    assert [o["real_frames"] for o in origins] == [250, 250, 125]
    assert len(set(np.asarray(data.split).tolist())) == 1  # one recording, one split
    assert data.manifest["sources"] == ["mocap"] and data.manifest["labels_inferred"] is True
    assert clips.clip_windows(260, 250, min_frames=50) == [(0, 250)]  # short tails are dropped


def test_splits_follow_recordings_and_are_stable(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(12):
        np.save(src / f"walk_{i:02d}.npy", walker_joints(440, 20.0))  # 22 s: 3 clips each
    data = run_import([src], tmp_path / "ds", seed=3)
    files = [o["file"] for o in data.manifest["origins"]]
    split = np.asarray(data.split)
    for name in set(files):
        assert len({int(split[i]) for i, f in enumerate(files) if f == name}) == 1
    assert all(importer.split_of(f, 3) == split[i] for i, f in enumerate(files))
    assert len(set(np.asarray(data.scene_id).tolist())) == 12


# ---------------------------------------------------------------- descriptions


def test_descriptions_from_captions_names_and_actions(tmp_path):
    (tmp_path / "joints").mkdir()
    (tmp_path / "texts").mkdir()
    np.save(tmp_path / "joints" / "000007.npy", walker_joints(100, 20.0))
    (tmp_path / "texts" / "000007.txt").write_text(
        "a person walks forward slowly.#a/DET person/NOUN#0.0#0.0\n"
    )
    np.save(tmp_path / "walk_run_01.npy", walker_joints(100, 20.0))
    data = run_import(
        [tmp_path / "joints" / "000007.npy", tmp_path / "walk_run_01.npy"], tmp_path / "ds"
    )
    assert data.description(0) == "a person walks forward slowly."
    assert data.description(1) == "a person walks and runs"
    assert [o["description_from"] for o in data.manifest["origins"]] == ["caption", "file name"]
    assert describe.description_from_name(Path("x/test_01.bvh")) is None
    labels = np.array([ActionType.WALK] * 50 + [ActionType.SIT] * 50)
    assert describe.description_from_actions(labels) == "a person walks, then sits"


def test_timed_captions_pick_the_clip_they_cover():
    captions = [describe.Caption("a person waves", 12.0, 14.0), describe.Caption("a person stands")]
    rng = np.random.default_rng(0)
    assert describe.choose_caption(captions, 10.0, 20.0, rng) == "a person waves"
    assert describe.choose_caption(captions, 0.0, 10.0, rng) == "a person stands"


# ---------------------------------------------------------------- projection


def test_up_axis_and_facing_detection():
    joints = walker_joints(50, 25.0)
    roles = joints[:, [skeletons.SMPL22[r] for r in skeletons.ROLES]]
    np.testing.assert_allclose(project.detect_up(roles), [0, 1, 0])
    np.testing.assert_allclose(
        project.facing_axis(roles, np.array([0, 1.0, 0]), 25), [0, 0, 1], atol=1e-6
    )
    z_up = roles[..., [0, 2, 1]] * np.array([1, -1, 1])  # rotate the world: Y-up -> Z-up
    np.testing.assert_allclose(project.detect_up(z_up, hint=1), [0, 0, 1])  # data overrides
    facing = project.facing_axis(z_up, np.array([0, 0, 1.0]), 25)
    np.testing.assert_allclose(facing, [0, -1, 0], atol=1e-6)
    # a person who turns around keeps one axis, facing +x at the start
    back = roles.copy()
    back[25:, :, [0, 2]] *= -1
    np.testing.assert_allclose(
        project.facing_axis(back, np.array([0, 1.0, 0]), 25), [0, 0, 1], atol=1e-6
    )


def test_a_crouch_lowers_the_hip_and_keeps_feet_on_the_ground():
    joints = walker_joints(50, 25.0, speed=0.0)
    roles = joints[:, [skeletons.SMPL22[r] for r in skeletons.ROLES]].copy()
    reach = project.leg_reach(roles)
    crouch = roles.copy()
    for side in (
        (skeletons.LEFT_KNEE, skeletons.LEFT_HIP),
        (skeletons.RIGHT_KNEE, skeletons.RIGHT_HIP),
    ):
        crouch[:, side[0], 2] += 0.35  # knees forward
    crouch[
        :,
        [
            skeletons.PELVIS,
            skeletons.LEFT_HIP,
            skeletons.RIGHT_HIP,
            skeletons.NECK,
            skeletons.LEFT_HAND,
            skeletons.RIGHT_HAND,
        ],
        1,
    ] -= 0.4  # the body sinks 0.4 m
    standing, _ = project.project_clip(roles, np.array([0, 1.0, 0]), 1.0, 25, reach)
    crouched, _ = project.project_clip(crouch, np.array([0, 1.0, 0]), 1.0, 25, reach)
    hip_stand = as_segments(standing)[:, 0, 1, 1]
    hip_crouch = as_segments(crouched)[:, 0, 1, 1]
    assert np.all(hip_stand - hip_crouch > 0.3)
    feet = as_segments(crouched)[:, 3:, 1, 1]
    assert feet.min() >= -1e-6 and feet.max() < 0.05
    np.testing.assert_allclose(
        segment_lengths(crouched), np.broadcast_to(SEGMENT_LENGTHS, (50, 5)), atol=1e-5
    )


def test_classifier_roundtrip_and_features(tmp_path):
    clf = _idle_classifier()
    motion = np.zeros((30, 20), np.float32)
    assert window_features(motion).shape == (30, 58)
    clf.save(tmp_path / "c.npz")
    again = ActionClassifier.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(clf.predict(motion), again.predict(motion))
    with pytest.raises(StickGenError):
        ActionClassifier.load(tmp_path / "missing.npz")


# ---------------------------------------------------------------- synthetic plus capture


def _two_recordings(folder: Path) -> Path:
    folder.mkdir()
    np.save(folder / "walk_a.npy", walker_joints(25 * 20, 20.0))  # 25 s: three clips
    np.save(folder / "walk_b.npy", walker_joints(12 * 20, 20.0, speed=0.8))  # 12 s: two
    return folder


def test_merge_with_mocap_tags_sources_and_keeps_recording_splits(tmp_path):
    from stickgen.data.generate import generate_dataset
    from stickgen.data.mocap.mix import merge_with_mocap

    synthetic = Dataset(generate_dataset(tmp_path / "syn", 12, augment=False, seed=2, workers=1))
    capture = _two_recordings(tmp_path / "capture")
    alone = run_import([capture], tmp_path / "alone", seed=2)
    seen: list[tuple[int, int]] = []
    merged = Dataset(
        merge_with_mocap(
            [synthetic.path],
            [capture],
            tmp_path / "mixed",
            seed=2,
            classifier=_idle_classifier(),
            progress=lambda done, total, message: seen.append((done, total)),
        )
    )
    n_syn, n_cap = len(synthetic), len(alone)
    assert (n_syn, n_cap) == (12, 5)
    assert merged.manifest["sources"] == ["synthetic", "mocap"]
    assert merged.manifest["source_counts"] == {"synthetic": n_syn, "mocap": n_cap}
    assert list(merged.source) == [0] * n_syn + [1] * n_cap
    for i in range(n_syn):
        np.testing.assert_array_equal(merged.motion[i], synthetic.motion[i])
        assert merged.description(i) == synthetic.description(i)
    for j in range(n_cap):  # the capture part is exactly what a plain import gives
        np.testing.assert_array_equal(merged.motion[n_syn + j], alone.motion[j])
        np.testing.assert_array_equal(merged.actions[n_syn + j], alone.actions[j])
    assert list(merged.split) == list(synthetic.split) + list(alone.split)
    capture_scenes = merged.scene_id[n_syn:]
    assert set(capture_scenes).isdisjoint(merged.scene_id[:n_syn])
    for scene in np.unique(capture_scenes):  # one recording, one scene id, one split
        assert len(set(merged.split[n_syn:][capture_scenes == scene])) == 1
    assert len(np.unique(capture_scenes)) == 2
    imported = merged.manifest["merged_from"][-1]
    assert [o["file"] for o in imported["origins"]] == ["capture/walk_a.npy"] * 3 + [
        "capture/walk_b.npy"
    ] * 2
    assert imported["labels_inferred"] is True
    assert merged.manifest["merged_from"][0]["generator"]["num_base"] == 12
    assert not list(tmp_path.glob(".mixed*"))  # the scratch import is gone
    fractions = [done / total for done, total in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    from stickgen.data.validate import validate_dataset

    assert validate_dataset(merged.path).ok


def test_merge_with_mocap_refusals_and_cancel(tmp_path):
    from stickgen.data.generate import generate_dataset
    from stickgen.data.mocap.mix import merge_with_mocap
    from stickgen.errors import Cancelled

    synthetic = generate_dataset(tmp_path / "syn", 4, augment=False, workers=1)
    capture = _two_recordings(tmp_path / "capture")
    clf = _idle_classifier()
    with pytest.raises(StickGenError, match="already exists"):
        merge_with_mocap([synthetic], [capture], synthetic, classifier=clf)
    with pytest.raises(StickGenError, match="motion-capture file"):
        merge_with_mocap([synthetic], [], tmp_path / "out", classifier=clf)
    with pytest.raises(StickGenError, match="does not exist"):
        merge_with_mocap([synthetic], [tmp_path / "nope.bvh"], tmp_path / "out", classifier=clf)
    with pytest.raises(Cancelled):
        merge_with_mocap(
            [synthetic], [capture], tmp_path / "out", classifier=clf, should_stop=lambda: True
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["capture", "syn"]  # nothing left over


# ---------------------------------------------------------------- real motion capture


def test_real_capture_is_a_grounded_constant_length_side_view(bvhtoolbox_files, tmp_path):
    data = run_import([bvhtoolbox_files], tmp_path / "ds")
    origins = data.manifest["origins"]
    assert {o["file"].split("/")[-1] for o in origins} == {"test_freebvh.bvh", "test_mocapbank.bvh"}
    assert {o["skeleton"] for o in origins} == {"mixamo", "generic"}
    for i, origin in enumerate(origins):
        real = origin["real_frames"]
        motion = data[i]["motion"][:real]
        np.testing.assert_allclose(
            segment_lengths(motion), np.broadcast_to(SEGMENT_LENGTHS, (real, 5)), atol=1e-4
        )
        seg = as_segments(motion)
        feet = seg[:, 3:, 1, :]  # [T, 2, xy]
        assert feet[..., 1].min() >= -1e-5  # never below the ground
        speed = np.linalg.norm(np.gradient(feet, axis=0), axis=-1) * FPS
        low = feet[..., 1].argmin(axis=1)
        upright = seg[:, 0, 1, 1] > 0.8 * LEG_LENGTH  # not kneeling (the knee is not drawn)
        stance = (speed[np.arange(real), low] < 0.3) & upright
        assert stance.mean() > 0.3
        assert np.abs(feet[np.arange(real), low, 1][stance]).max() < 0.05  # stance feet touch
        assert np.all(seg[:, 0, 0, 1] > seg[:, 0, 1, 1])  # upright: neck above hip
    from stickgen.data.validate import validate_dataset

    report = validate_dataset(data.path)  # bone lengths, ground, physics, splits, checksums
    assert report.ok, str(report)


def test_real_walk_travel_matches_the_root_travel(bvhtoolbox_files, tmp_path):
    """The Mixamo walk goes ~0.93 m forward, turns and comes back. The stick hip's x must follow
    the capture root's travel along the facing axis times the proportion scale (LEG_LENGTH over
    thigh + shin from the file's offsets); tolerance 3% for the time resampling and for the
    facing axis not being exactly the walking line."""
    path = bvhtoolbox_files / "test_freebvh.bvh"
    data = bvh.load_bvh(path)
    offsets = {j.name: np.linalg.norm(j.offset) for j in data.joints}
    scale = LEG_LENGTH / (offsets["mixamorig:LeftLeg"] + offsets["mixamorig:LeftFoot"])
    root = data.motion[:, :3]  # raw Xposition Yposition Zposition channels of the root
    forward = np.linalg.norm(root[:, [0, 2]] - root[0, [0, 2]], axis=1).max()
    ds = run_import([path], tmp_path / "ds")
    real = ds.manifest["origins"][0]["real_frames"]
    hip_x = as_segments(ds[0]["motion"][:real])[:, 0, 1, 0]
    assert np.ptp(hip_x) == pytest.approx(scale * forward, rel=0.03)
    assert hip_x[real // 3] > 0.3  # walks toward +x first (it faces +x at the start)
    assert abs(hip_x[-1] - hip_x[0]) < 0.15  # and comes back


def test_classifier_trained_on_synthetic_clips_labels_the_real_walk(bvhtoolbox_files, tmp_path):
    try:
        from stickgen.motion import synthesize_batch  # noqa: F401
    except ImportError:
        pytest.skip("the procedural motion engine (stickgen.motion) is not available")
    from stickgen.data.mocap.labels import train_on_synthetic

    clf = train_on_synthetic(num_scenes=96, seed=0)
    data = Dataset(
        import_mocap([bvhtoolbox_files / "test_freebvh.bvh"], tmp_path / "ds", classifier=clf)
    )
    real = data.manifest["origins"][0]["real_frames"]
    labels = data[0]["actions"][:real]
    assert np.mean(labels == ActionType.WALK) > 0.5, np.bincount(labels)
    assert data.manifest["label_method"].startswith("classifier")


def test_render_real_walk(bvhtoolbox_files, tmp_path):
    render = pytest.importorskip("stickgen.render")
    data = run_import([bvhtoolbox_files / "test_freebvh.bvh"], tmp_path / "ds")
    sample = data[0]
    out = render.write_video(tmp_path / "walk.mp4", sample["motion"][:75], sample["face"][:75])
    assert out.exists() and out.stat().st_size > 1000


def test_cli_import_mocap(tmp_path):
    from stickgen.cli import main

    np.save(tmp_path / "jump.npy", walker_joints(60, 20.0))
    classifier = _idle_classifier().save(tmp_path / "classifier.npz")
    args = ["--out", str(tmp_path / "ds"), "--classifier", str(classifier)]
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "import-mocap", str(tmp_path / "jump.npy"), *args])
    assert exit_info.value.code in (0, None)
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["num_samples"] == 1 and manifest["origins"][0]["file"] == "jump.npy"
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "import-mocap", str(tmp_path / "missing.bvh"), "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2


def test_cli_generate_with_mocap(tmp_path, capsys):
    from stickgen.cli import main

    capture = _two_recordings(tmp_path / "capture")
    out = tmp_path / "mixed"
    args = ["data", "generate", "--out", str(out), "--num-base", "6", "--no-augment"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--workers", "1", "--seed", "1", "--mocap", str(capture / "walk_b.npy")])
    assert exit_info.value.code in (0, None)
    merged = Dataset(out)
    assert merged.manifest["source_counts"] == {"synthetic": 6, "mocap": 2}
    assert list(merged.source) == [0] * 6 + [1] * 2
    printed = " ".join(capsys.readouterr().err.split())  # the console writes to stderr
    assert "sources {'mocap': 2, 'synthetic': 6}" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["capture", "mixed"]  # no scratch left
    for extra, words in [
        (["--mocap", str(tmp_path / "missing.bvh"), "--overwrite"], "does not exist"),
        (["--mocap", str(capture), "--shard", "0/2", "--overwrite"], "do not mix"),
        (["--mocap", str(capture)], "already exists"),  # out exists and no --overwrite
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main([*args, *extra])
        assert exit_info.value.code == 2
        assert words in " ".join(capsys.readouterr().err.split())
    assert Dataset(out).dataset_id == merged.dataset_id  # refusals touched nothing
