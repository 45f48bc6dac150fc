import numpy as np

from stickgen.physics import physics_from_motion
from stickgen.schema import (
    ACTION_SPECS,
    NUM_ACTIONS,
    ActionSegment,
    ActionType,
    Actor,
    FaceFeatures,
    FacialExpression,
    MouthShape,
    Scene,
    action_vocabulary,
)
from stickgen.skeleton import MIRROR_PERMUTATION, SEGMENT_LENGTHS, mirror_motion, segment_lengths


def test_action_vocabulary_is_stable_and_complete():
    vocab = action_vocabulary()
    assert len(vocab) == NUM_ACTIONS >= 40
    assert vocab[:5] == ["idle", "walk", "run", "sprint", "jump"]
    assert set(ACTION_SPECS) == set(ActionType)


def test_face_vector_round_trip():
    face = FaceFeatures(FacialExpression.HAPPY, mouth_shape=MouthShape.SMILE, mouth_openness=0.5)
    assert FaceFeatures.from_vector(face.to_vector()) == face


def test_scene_tracks_follow_segments():
    scene = Scene(
        "walks then waves",
        [
            Actor(
                [
                    ActionSegment(ActionType.WALK, 0.0, 4.0, upper=ActionType.WAVE),
                    ActionSegment(ActionType.IDLE, 4.0, 10.0, upper=ActionType.WAVE),
                ]
            )
        ],
    )
    actions, upper = scene.action_track(), scene.upper_track()
    assert actions.shape == (250,) and actions.dtype == np.int64
    assert (actions[:100] == ActionType.WALK).all() and (actions[100:] == ActionType.WAVE).all()
    assert (upper == ActionType.WAVE).all()


def test_mirror_permutation_swaps_limbs_and_is_an_involution():
    assert (MIRROR_PERMUTATION[MIRROR_PERMUTATION] == np.arange(20)).all()
    assert list(MIRROR_PERMUTATION[4:8]) == [8, 9, 10, 11]


def test_physics_of_uniform_travel():
    t = np.arange(50) / 25.0
    neck, hip, hand, foot = [0, 1.45], [0, 0.9], [0, 0.75], [0, 0.0]
    frame = np.array([*neck, *hip, *neck, *hand, *neck, *hand, *hip, *foot, *hip, *foot])
    motion = np.tile(frame, (50, 1)).astype(np.float32)
    motion[:, 0::2] += 1.5 * t[:, None]
    phys = physics_from_motion(motion)
    assert np.allclose(phys[:, 0], 1.5, atol=1e-4) and np.allclose(phys[:, 1], 0, atol=1e-4)
    assert np.allclose(phys[:, 2:4], 0, atol=1e-3)
    assert np.allclose(phys[:, 4], 70 * 1.5, atol=1e-2)
    assert np.allclose(segment_lengths(motion), SEGMENT_LENGTHS, atol=1e-6)


def test_mirror_motion_is_an_involution_that_swaps_arms():
    rng = np.random.default_rng(0)
    motion = rng.normal(size=(10, 20)).astype(np.float32)
    once = mirror_motion(motion, about_x=0.5)
    assert np.allclose(mirror_motion(once, about_x=0.5), motion, atol=1e-6)
    assert np.allclose(once[:, 4 + 1], motion[:, 8 + 1])  # left-arm y <- right-arm y
    assert np.allclose(once[:, 4], 1.0 - motion[:, 8])  # x reflected about 0.5
