"""The procedural motion engine: contracts, physical plausibility, transitions, style, and that
every one of the 46 actions moves in its own recognisable way."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickgen.errors import StickGenError
from stickgen.motion import synthesize, synthesize_batch
from stickgen.physics import physics_from_motion
from stickgen.schema import (
    ACTION_SPECS,
    MOTION_DIM,
    NUM_ACTIONS,
    ActionSegment,
    ActionType,
    Actor,
    Layer,
    Scene,
)
from stickgen.skeleton import (
    SEGMENT_LENGTHS,
    as_segments,
    lowest_point,
    mirror_motion,
    segment_lengths,
)

A = ActionType
FPS = 25
GRAVITY = 9.81
AIRBORNE = np.array([ACTION_SPECS[a].airborne for a in ActionType])
SETTLE_SECONDS = 1.2  # longest transition: after this long in a segment no fade is left
UPPER_ACTIONS = [a for a in ActionType if ACTION_SPECS[a].layer == Layer.UPPER]


def scene_of(*segments: ActionSegment, duration: float = 10.0, **actor) -> Scene:
    return Scene("test", [Actor(list(segments), **actor)], duration=duration)


def single(action: ActionType, seconds: float = 4.0, **segment) -> Scene:
    return scene_of(ActionSegment(action, 0.0, seconds, **segment), duration=seconds)


def joints(motion: np.ndarray) -> np.ndarray:
    """`[..., T, 20]` -> `[..., T, 10, 2]` segment endpoints."""
    return motion.reshape(*motion.shape[:-1], 10, 2)


def step_sizes(motion: np.ndarray) -> np.ndarray:
    """Largest joint displacement from each frame to the next, `[..., T-1]`."""
    return np.linalg.norm(np.diff(joints(motion), axis=-3), axis=-1).max(-1)


def hip(motion: np.ndarray) -> np.ndarray:
    return motion[..., 2:4]


@st.composite
def random_scenes(draw, min_share: float = 0.15):
    """Scenes of 1-4 back-to-back segments of random actions, some with an upper action."""
    duration = draw(st.sampled_from([4.0, 6.0]))
    count = draw(st.integers(1, 4))
    shares = np.array(draw(st.lists(st.floats(min_share, 1.0), min_size=count, max_size=count)))
    edges = np.concatenate([[0.0], np.cumsum(shares) / shares.sum() * duration])
    segments = [
        ActionSegment(
            draw(st.sampled_from(list(ActionType))),
            float(edges[i]),
            float(edges[i + 1]),
            upper=draw(st.none() | st.sampled_from(list(ActionType))),
        )
        for i in range(count)
    ]
    facing = draw(st.sampled_from([1, -1]))
    start_x = draw(st.floats(-5.0, 5.0))
    return scene_of(*segments, duration=duration, facing=facing, start_x=start_x)


def seconds_into_segment(scene: Scene, fps: int = FPS) -> np.ndarray:
    """Seconds since the segment covering each frame began (inf where none covers it)."""
    t = (np.arange(scene.num_frames(fps)) + 0.5) / fps
    out = np.full(t.shape, np.inf)
    for seg in scene.actors[0].segments:
        inside = (t >= seg.start) & (t < seg.end)
        out[inside] = t[inside] - seg.start
    return out


# --- contracts and physical rules over random scenes -------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(scene=random_scenes(), seed=st.none() | st.integers(0, 2**32 - 1))
def test_random_scenes_keep_the_figure_whole_and_on_the_ground(scene, seed):
    rng = None if seed is None else np.random.default_rng(seed)
    clip = synthesize(scene, rng=rng)
    frames = scene.num_frames(FPS)
    assert clip.motion.shape == (frames, MOTION_DIM) and clip.motion.dtype == np.float32
    assert clip.actions.shape == (frames,) and clip.actions.dtype == np.int64
    assert clip.physics.shape == (frames, 6) and clip.physics.dtype == np.float32
    assert np.isfinite(clip.motion).all() and np.isfinite(clip.physics).all()
    np.testing.assert_array_equal(clip.actions, scene.action_track(0, FPS))
    np.testing.assert_allclose(clip.physics, physics_from_motion(clip.motion, FPS), atol=1e-5)
    # limbs are rigid: every segment keeps its length
    assert np.abs(segment_lengths(clip.motion) / SEGMENT_LENGTHS - 1.0).max() < 0.01
    # nothing goes through the floor
    low = lowest_point(clip.motion)
    assert low.min() > -1e-3
    # once a transition has settled, every non-airborne action stands on the ground
    settled = ~AIRBORNE[clip.actions] & (seconds_into_segment(scene) >= SETTLE_SECONDS)
    assert np.abs(low[settled]).max(initial=0.0) < 1e-3
    # a scene with nothing airborne in it is on the ground on every frame, transitions included
    if not AIRBORNE[clip.actions].any():
        assert np.abs(low).max() < 1e-3


@PROPERTY_SETTINGS
@given(scene=random_scenes(min_share=0.3), seed=st.none() | st.integers(0, 2**32 - 1))
def test_segment_boundaries_do_not_jump(scene, seed):
    """At every boundary the figure moves no faster than it does around it, or than the action
    that ends would have moved had it gone on (a throw cut off mid-swing): no teleport."""

    def motion_of(s: Scene) -> np.ndarray:
        return synthesize(s, rng=None if seed is None else np.random.default_rng(seed)).motion

    motion = motion_of(scene)
    steps = step_sizes(motion)
    t = (np.arange(len(motion)) + 0.5) / FPS
    segments = scene.actors[0].segments
    for k, seg in enumerate(segments[1:], 1):
        first = int(np.searchsorted(t, seg.start))  # first frame of the new segment
        if not 1 <= first < len(motion):
            continue
        around = np.concatenate([steps[max(first - 16, 0) : first - 1], steps[first : first + 15]])
        if steps[first - 1] <= 1.5 * around.max(initial=0.0) + 0.05:
            continue
        ended = segments[k - 1]
        went_on = replace(ended, end=scene.duration)
        own = step_sizes(motion_of(scene_of(*segments[: k - 1], went_on, duration=scene.duration,
                                            facing=scene.actors[0].facing,
                                            start_x=scene.actors[0].start_x)))  # fmt: skip
        assert steps[first - 1] <= 1.2 * own[first - 1] + 0.05, seg


def test_calm_transitions_are_smooth_where_hard_cuts_would_jump():
    plan = [(A.IDLE, 0, 2), (A.SIT, 2, 4), (A.STAND, 4, 6), (A.LIE_DOWN, 6, 8), (A.STAND, 8, 10)]
    motion = synthesize(scene_of(*(ActionSegment(*p) for p in plan))).motion
    assert step_sizes(motion).max() < 0.2
    # the same actions cut together without transitions
    pieces = [
        synthesize(scene_of(ActionSegment(a, 0, end - start), duration=end - start)).motion
        for a, start, end in plan
    ]
    assert step_sizes(np.concatenate(pieces)).max() > 0.5


def test_uncovered_time_is_idle_and_labels_follow_the_plan():
    scene = scene_of(ActionSegment(A.WAVE, 1.0, 2.0), ActionSegment(A.RUN, 3.0, 5.0), duration=6.0)
    clip = synthesize(scene)
    np.testing.assert_array_equal(clip.actions, scene.action_track(0, FPS))
    assert set(clip.actions[:25]) == {A.IDLE} and set(clip.actions[125:]) == {A.IDLE}


# --- locomotion ---------------------------------------------------------------------------------


def test_a_five_second_walk_covers_about_seven_metres():
    motion = synthesize(single(A.WALK, 5.0)).motion
    travelled = hip(motion)[-1, 0] - hip(motion)[0, 0]
    assert travelled == pytest.approx(1.4 * 5.0, rel=0.02)
    # steadily, without teleporting
    assert np.diff(hip(motion)[:, 0]).min() > 0.0 and step_sizes(motion).max() < 0.25


def test_walking_plants_the_stance_foot():
    motion = synthesize(single(A.WALK, 5.0)).motion
    feet = joints(motion)[:, [7, 9]]  # left and right foot, [T, 2, 2]
    planted = (feet[1:, :, 1] < 2e-3) & (feet[:-1, :, 1] < 2e-3)
    slide = np.abs(np.diff(feet[:, :, 0], axis=0))[planted]
    assert planted.sum() > 100
    hip_step = 1.4 / FPS
    assert slide.max() < 0.1 * hip_step


def test_walk_bobs_and_alternates_legs():
    motion = synthesize(single(A.WALK, 4.0)).motion
    hip_y = hip(motion)[:, 1]
    assert 0.02 < hip_y.max() - hip_y.min() < 0.15
    reach = joints(motion)[:, [7, 9], 0] - hip(motion)[:, None, 0]  # feet ahead of the hip
    assert np.corrcoef(reach[:, 0], reach[:, 1])[0, 1] < -0.5


@pytest.mark.parametrize(
    ("action", "speed"), [(A.RUN, 3.5), (A.SPRINT, 6.5), (A.CRAWL, 0.4), (A.SWIM, 0.8)]
)
def test_travel_speed_matches_the_action(action, speed):
    motion = synthesize(single(action, 4.0)).motion
    travelled = hip(motion)[-1, 0] - hip(motion)[0, 0]
    assert travelled / (3.96) == pytest.approx(speed, rel=0.03)


def test_running_has_flight_phases_and_leans_forward():
    for action in (A.RUN, A.SPRINT):
        motion = synthesize(single(action, 4.0)).motion
        assert (lowest_point(motion) > 0.005).mean() > 0.1
        neck, hip_ = joints(motion)[:, 0], joints(motion)[:, 1]
        assert (neck[:, 0] - hip_[:, 0]).mean() > 0.08  # neck ahead of the hip


def test_a_jump_flies_ballistically():
    fps = 100
    motion = synthesize(single(A.JUMP, 1.5), fps=fps).motion
    low = lowest_point(motion)
    airborne = np.flatnonzero(low > 1e-3)
    assert len(airborne) and np.all(np.diff(airborne) == 1)  # one flight
    flight = len(airborne) / fps
    peak = low.max()
    assert 0.4 < flight < 0.7
    assert peak == pytest.approx(GRAVITY * flight**2 / 8, abs=0.03)
    # the legs are held still in the air, so the hip falls at g
    hip_y = hip(motion)[airborne[5:-5], 1].astype(np.float64)
    accel = np.diff(hip_y, 2) * fps**2
    assert np.abs(accel + GRAVITY).max() < 0.3


def test_climb_goes_up_the_ladder_and_comes_back_down():
    motion = synthesize(single(A.CLIMB, 10.0)).motion
    low = lowest_point(motion)
    assert low[len(low) // 2] > 1.2
    assert low[0] < 0.01 and low[-1] < 0.01
    hands_above_head = joints(motion)[:, [3, 5], 1].max(1) > joints(motion)[:, 0, 1] + 0.3
    assert hands_above_head.mean() > 0.9


def test_swimming_floats_flat_at_the_water_surface_and_flying_is_high():
    swim = synthesize(single(A.SWIM, 4.0)).motion
    assert np.abs(hip(swim)[:, 1] - 0.8).max() < 0.05
    flat = np.abs(joints(swim)[:, 0, 1] - joints(swim)[:, 1, 1]) < 0.1
    assert flat.all()
    fly = synthesize(single(A.FLY, 4.0)).motion
    assert hip(fly)[:, 1].min() > 1.3
    assert (joints(fly)[:, 3, 0] > joints(fly)[:, 0, 0] + 0.5).all()  # arms out in front


def test_crawling_puts_hands_and_feet_near_the_ground():
    motion = synthesize(single(A.CRAWL, 4.0)).motion
    ends = joints(motion)[:, [3, 5, 7, 9], 1]
    assert ends.max() < 0.15 and lowest_point(motion).max() < 1e-3
    torso = joints(motion)[:, 0] - joints(motion)[:, 1]
    assert (np.abs(torso[:, 0]) > 2 * np.abs(torso[:, 1])).all()  # near horizontal


# --- postures -----------------------------------------------------------------------------------


def test_sitting_lowers_the_hip_and_standing_gets_back_up():
    scene = scene_of(
        ActionSegment(A.IDLE, 0, 1),
        ActionSegment(A.SIT, 1, 4),
        ActionSegment(A.STAND, 4, 7),
        duration=7.0,
    )
    hip_y = hip(synthesize(scene).motion)[:, 1]
    assert hip_y[:20].min() > 0.85
    assert hip_y[2 * FPS : 4 * FPS].max() < 0.6
    assert hip_y[4 * FPS + 5] < 0.75  # rising takes a moment...
    assert hip_y[6 * FPS :].min() > 0.85  # ...and ends upright


def test_kneeling_and_lying_down():
    kneel = synthesize(single(A.KNEEL)).motion
    assert hip(kneel)[:, 1].max() < 0.6 and np.abs(lowest_point(kneel)).max() < 1e-3
    lie = synthesize(single(A.LIE_DOWN)).motion
    assert hip(lie)[:, 1].max() < 0.1
    assert joints(lie)[:, :, 1].max() < 0.25  # everything near the floor
    assert np.abs(lowest_point(lie)).max() < 1e-3


def test_bow_bends_forward_and_back():
    motion = synthesize(single(A.BOW, 3.2)).motion
    torso = joints(motion)[:, 0] - joints(motion)[:, 1]
    bend = np.degrees(np.arctan2(torso[:, 0], torso[:, 1]))
    assert 60 < bend.max() < 95 and bend[0] < 10 and bend[-1] < 10


# --- layering and facing ------------------------------------------------------------------------


def test_an_upper_action_drives_the_arms_while_the_legs_keep_walking():
    plain = synthesize(single(A.WALK, 4.0)).motion
    waving = synthesize(single(A.WALK, 4.0, upper=A.WAVE)).motion
    np.testing.assert_allclose(waving[:, 12:20], plain[:, 12:20], atol=1e-5)  # legs
    right_hand_y, neck_y = joints(waving)[:, 5, 1], joints(waving)[:, 0, 1]
    assert (right_hand_y[FPS:] > neck_y[FPS:] + 0.3).all()
    assert not (joints(plain)[:, 5, 1] > joints(plain)[:, 0, 1]).any()


def test_layered_and_plain_upper_actions_look_alike():
    plain = synthesize(single(A.CLAP)).motion
    layered = synthesize(single(A.IDLE, upper=A.CLAP)).motion
    arms = slice(4, 12)
    rel = lambda m: m[:, arms] - np.tile(m[:, 0:2], 4)  # noqa: E731
    assert np.abs(rel(plain) - rel(layered)).max() < 0.05


def test_facing_left_is_the_mirror_image():
    left_scene = scene_of(ActionSegment(A.WALK, 0, 3), duration=3.0, facing=-1, start_x=2.0)
    shifted = scene_of(ActionSegment(A.WALK, 0, 3), duration=3.0, start_x=2.0)
    left = synthesize(left_scene, rng=np.random.default_rng(3)).motion
    expected = mirror_motion(synthesize(shifted, rng=np.random.default_rng(3)).motion, 2.0)
    np.testing.assert_allclose(left, expected, atol=1e-5)
    assert hip(left)[0, 0] == pytest.approx(2.0) and hip(left)[-1, 0] < 2.0 - 2.5  # walks left


# --- batches, determinism and style --------------------------------------------------------------


def _mixed_scenes() -> list[Scene]:
    return [
        single(A.WALK, 6.0, upper=A.WAVE),
        scene_of(ActionSegment(A.JUMP, 0, 2), ActionSegment(A.SIT, 2, 6), duration=6.0),
        scene_of(ActionSegment(A.DANCE, 0, 6), duration=6.0, facing=-1, start_x=1.5),
        single(A.SWIM, 6.0),
    ]


def test_a_batch_equals_its_scenes_one_by_one():
    scenes = _mixed_scenes()
    motion, actions, physics = synthesize_batch(scenes, rng=np.random.default_rng(7))
    one_by_one = np.random.default_rng(7)
    for i, scene in enumerate(scenes):
        clip = synthesize(scene, rng=one_by_one)
        np.testing.assert_allclose(motion[i], clip.motion, atol=1e-5)
        np.testing.assert_array_equal(actions[i], clip.actions)
        np.testing.assert_allclose(physics[i], clip.physics, atol=1e-3)
    canonical, _, _ = synthesize_batch(scenes)
    np.testing.assert_array_equal(canonical[2], synthesize(scenes[2]).motion)


def test_the_same_seed_gives_the_same_motion_and_other_seeds_differ():
    scenes = _mixed_scenes()
    first = synthesize_batch(scenes, rng=np.random.default_rng(11))[0]
    again = synthesize_batch(scenes, rng=np.random.default_rng(11))[0]
    other = synthesize_batch(scenes, rng=np.random.default_rng(12))[0]
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(synthesize_batch(scenes)[0], synthesize_batch(scenes)[0])
    assert np.abs(first - other).max() > 0.05


def test_style_varies_speed_cadence_and_arm_swing():
    scenes = [single(A.WALK, 4.0) for _ in range(16)]
    motion, _, _ = synthesize_batch(scenes, rng=np.random.default_rng(0))
    speed = (hip(motion)[:, -1, 0] - hip(motion)[:, 0, 0]) / 3.96
    assert speed.std() / speed.mean() > 0.05 and speed.min() > 0.9 and speed.max() < 2.0
    left_foot = joints(motion)[:, :, 7, 0] - hip(motion)[..., 0]
    spectrum = np.abs(np.fft.rfft(left_foot - left_foot.mean(1, keepdims=True), axis=1))
    cadence = spectrum.argmax(1)
    assert len(set(cadence.tolist())) > 1
    hand_swing = (joints(motion)[:, :, 3, 0] - hip(motion)[..., 0]).std(1)
    assert hand_swing.std() / hand_swing.mean() > 0.05


# --- every action is its own motion --------------------------------------------------------------


def window_features(motion: np.ndarray, starts: np.ndarray, length: int = FPS) -> np.ndarray:
    """Per clip, over a 1-s window: mean and spread of the joints relative to the hip, mean
    joint speed relative to the hip, and the hip's own mean and spread of velocity."""
    window = np.stack([m[s : s + length] for m, s in zip(motion, starts, strict=True)])
    hips = window[..., 2:4]
    rel = (joints(window) - hips[..., None, :]).reshape(*window.shape[:2], -1)
    rel_speed = np.abs(np.diff(rel, axis=1)).mean(1) * FPS
    hip_velocity = np.diff(hips, axis=1) * FPS
    return np.concatenate(
        [rel.mean(1), rel.std(1), rel_speed, hip_velocity.mean(1), hip_velocity.std(1)], axis=1
    )


def action_clips(seed: int, per_action: int, seconds: float = 4.0):
    scenes = [single(a, seconds) for a in ActionType for _ in range(per_action)]
    motion, actions, _ = synthesize_batch(scenes, rng=np.random.default_rng(seed))
    starts = np.random.default_rng(seed + 1).integers(0, motion.shape[1] - FPS + 1, len(motion))
    return window_features(motion, starts), actions[:, 0]


def test_every_action_is_recognisable_by_a_nearest_centroid_classifier():
    train_x, train_y = action_clips(seed=100, per_action=12)
    test_x, test_y = action_clips(seed=200, per_action=6)
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    centroids = np.stack([train_x[train_y == a].mean(0) for a in range(NUM_ACTIONS)])
    guess = ((test_x[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    accuracy = (guess == test_y).mean()
    confusion = np.zeros((NUM_ACTIONS, NUM_ACTIONS), dtype=int)
    np.add.at(confusion, (test_y, guess), 1)
    np.fill_diagonal(confusion, 0)
    worst = np.argsort(confusion.ravel())[::-1][:5]
    pairs = [
        f"{A(i // NUM_ACTIONS).name}->{A(i % NUM_ACTIONS).name} x{confusion.flat[i]}"
        for i in worst
        if confusion.flat[i]
    ]
    print(f"nearest-centroid accuracy {accuracy:.3f} (chance {1 / NUM_ACTIONS:.3f}); {pairs}")
    assert accuracy >= 0.7, (accuracy, pairs)
    per_action = np.bincount(test_y[guess == test_y], minlength=NUM_ACTIONS)
    assert (per_action > 0).all(), [A(a).name for a in np.flatnonzero(per_action == 0)]


def test_no_two_actions_share_a_motion():
    motion, _, _ = synthesize_batch([single(a) for a in ActionType])
    rel = joints(motion) - hip(motion)[:, :, None, :]
    distance = np.abs(rel[:, None] - rel[None]).max(axis=(2, 3, 4))
    np.fill_diagonal(distance, np.inf)
    assert distance.min() > 0.1


def test_every_pose_is_five_segments_within_the_contract():
    motion, _, _ = synthesize_batch([single(a, 3.0) for a in ActionType])
    assert motion.shape == (NUM_ACTIONS, 75, MOTION_DIM)
    segments = as_segments(motion)
    np.testing.assert_allclose(segments[..., 0, 1, :], segments[..., 3, 0, :])  # hip shared
    np.testing.assert_allclose(segments[..., 0, 0, :], segments[..., 1, 0, :])  # neck shared


@pytest.mark.parametrize("upper", UPPER_ACTIONS[:4])
def test_upper_actions_ride_on_a_run(upper):
    clip = synthesize(single(A.RUN, 3.0, upper=upper))
    assert (clip.actions == A.RUN).all()
    assert np.abs(segment_lengths(clip.motion) / SEGMENT_LENGTHS - 1).max() < 0.01


# --- errors --------------------------------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    with pytest.raises(StickGenError, match="same duration"):
        synthesize_batch([single(A.WALK, 4.0), single(A.WALK, 5.0)])
    with pytest.raises(StickGenError, match="at least one"):
        synthesize_batch([])
    with pytest.raises(StickGenError, match="no actor"):
        synthesize(single(A.WALK), actor=1)
    with pytest.raises(StickGenError, match="facing"):
        synthesize(scene_of(ActionSegment(A.WALK, 0, 1), duration=1.0, facing=0))
    with pytest.raises(StickGenError, match="not an action"):
        synthesize(scene_of(ActionSegment(99, 0, 1), duration=1.0))
    with pytest.raises(StickGenError, match="no frames"):
        synthesize(scene_of(ActionSegment(A.WALK, 0, 1), duration=0.0))
    with pytest.raises(StickGenError, match="fps"):
        synthesize(single(A.WALK), fps=0)


def test_each_actor_of_a_scene_can_be_animated():
    scene = Scene(
        "two people",
        [Actor([ActionSegment(A.WAVE, 0, 3)]), Actor([ActionSegment(A.RUN, 0, 3)], start_x=4.0)],
        duration=3.0,
    )
    first, second = synthesize(scene, actor=0), synthesize(scene, actor=1)
    assert (first.actions == A.WAVE).all() and (second.actions == A.RUN).all()
    assert hip(second.motion)[0, 0] == pytest.approx(4.0, abs=0.01)
