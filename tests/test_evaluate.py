"""Evaluation: metric definitions on hand-made cases (hard pools included), the evaluator's own
text side and its artefact, the protocol's calibration (ground truth, halves, noise, shuffled
motion), checkpoints and the CLI."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from stickgen.cli import main
from stickgen.compute import torch_threads
from stickgen.data.generate import generate_dataset
from stickgen.data.store import Dataset
from stickgen.diffusion import GUIDANCE, Guidance
from stickgen.embed import embed_dataset
from stickgen.errors import StickGenError
from stickgen.evaluate import (
    Evaluator,
    EvaluatorConfig,
    EvaluatorTraining,
    Protocol,
    physical,
    score_systems,
    train_evaluator,
)
from stickgen.evaluate import actions as am
from stickgen.evaluate import metrics as fm
from stickgen.evaluate.evaluator import TEXT_MODEL_ID
from stickgen.evaluate.learned import CheckpointSystem
from stickgen.evaluate.protocol import above_ground_truth, hard_pool_makeup
from stickgen.evaluate.systems import GroundTruth, NoisyGroundTruth, System
from stickgen.evaluate.systems import TestSet as Prompts
from stickgen.evaluate.text import Vocabulary, tokenize
from stickgen.schema import ACTION_SPECS, FPS, ActionType
from stickgen.skeleton import ARM_LENGTH, BODY_HEIGHT, LEG_LENGTH, TORSO_LENGTH

SMALL = EvaluatorConfig(
    feature_dim=16,
    conv_channels=32,
    gru_hidden=32,
    word_dim=32,
    text_hidden=32,
    classifier_channels=32,
)
QUICK = dict(pool_size=32, diversity_pairs=100, mm_prompts=4, mm_generations=3, mm_pairs=3)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: the tests share a small machine."""
    with torch_threads(1):
        yield


# ---- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, text_model_path):
    """500 generated scenes without augmentation (the evaluator learns from distinct scenes),
    30% of them in the test split."""
    path = generate_dataset(
        tmp_path_factory.mktemp("eval") / "ds",
        500,
        augment=False,
        seed=3,
        workers=1,
        val_fraction=0.1,
        test_fraction=0.3,
    )
    embed_dataset(path, model=text_model_path, use_cache=False)
    return path


@pytest.fixture(scope="module")
def evaluator(dataset):
    settings = EvaluatorTraining(epochs=12, batch_size=16, lr=3e-3, seed=0)
    return train_evaluator(dataset, config=SMALL, settings=settings, threads=1)


@pytest.fixture(scope="module")
def test_set(dataset):
    return Prompts.from_dataset(Dataset(dataset))


# ---- metric definitions -----------------------------------------------------------------


def test_r_precision_with_hand_placed_features():
    text = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0], [30.0, 0.0]])
    motion = text.copy()
    rng = np.random.default_rng(0)
    assert fm.r_precision(text, motion, rng, pool_size=4).tolist() == [1.0, 1.0, 1.0]
    # text 0's own motion moves past motion 1: text 0 sees motion 1 at 10, its own at 10.5
    # (rank 2); texts 1-3 still find their own motion at distance 0 (rank 1)
    motion[0] = [10.5, 0.0]
    assert fm.r_precision(text, motion, rng, pool_size=4).tolist() == [0.75, 1.0, 1.0]
    motion[0] = [35.0, 0.0]  # now motions 1, 2 and 3 are all nearer to text 0: rank 4
    assert fm.r_precision(text, motion, rng, pool_size=4).tolist() == [0.75, 0.75, 0.75]
    # pools: 6 pairs in pools of 4 drop two pairs, whichever they are
    six = np.arange(6.0)[:, None] * np.array([[1.0, 0.0]])
    assert fm.r_precision(six, six, rng, pool_size=4).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError):
        fm.r_precision(six, six, rng, pool_size=8)


def test_identical_motions_score_exactly_chance():
    text = np.random.default_rng(1).normal(size=(64, 8))
    motion = np.zeros((64, 8))
    top = fm.r_precision(text, motion, np.random.default_rng(0), pool_size=32)
    assert top == pytest.approx([1 / 32, 2 / 32, 3 / 32])


def _plans(*sequences: tuple[int, ...], frames: int = 12) -> np.ndarray:
    """`[N, frames]` plans: each sequence's actions in equal stretches."""
    return np.stack([np.repeat(seq, frames // len(seq)) for seq in sequences])


def test_hard_pools_hold_the_look_alike_prompts():
    # prompt 0 opens with action 1; prompts 1-3 too (3 shares 1 and 2 with it), 4 ends with 1
    plan = _plans((1, 2), (1,), (1, 3), (1, 2, 3), (2, 1), (5,), (6,), (7, 1))
    ids = np.array([0, 1, 2, 3, 4, 5, 6, 0])  # prompt 7 has prompt 0's description
    keys = fm.look_alike_keys(plan, ids)
    assert keys[0, 3] == pytest.approx(2 + 2 / 3) and keys[0, 4] == pytest.approx(1.0)
    assert keys[0, 1] == pytest.approx(2.5) and keys[0, 5] == 0.0
    assert keys[0, 7] == -1.0 and np.isneginf(np.diagonal(keys)).all()
    pools = fm.look_alike_pools(keys, 4, np.random.default_rng(0))
    assert pools.shape == (8, 4) and (pools[:, 0] == np.arange(8)).all()
    assert sorted(pools[0, 1:]) == [1, 2, 3]  # all three share its first action
    assert 7 not in pools[0] and 0 not in pools[7, 1:]  # its own description comes last
    assert 7 in fm.look_alike_pools(keys, 8, np.random.default_rng(0))[0]  # unless needed
    # prompt 5 looks like none: its one negative in a pool of 2 is drawn at random
    draws = {tuple(sorted(fm.look_alike_pools(keys, 2, np.random.default_rng(s))[5, 1:]))
             for s in range(30)}  # fmt: skip
    assert len(draws) > 3
    with pytest.raises(ValueError, match="hard pool"):
        fm.look_alike_pools(keys, 9, np.random.default_rng(0))


def test_pooled_r_precision_with_hand_placed_features():
    text = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
    motion = np.array([[1.0, 0.0], [0.5, 0.0], [20.0, 0.0]])
    pools = np.array([[0, 1, 2], [1, 0, 2], [2, 0, 1]])
    # text 0: motion 1 (0.5) is nearer than its own (1.0): rank 2; text 1: own at 9.5, motion 0
    # at 9.0: rank 2; text 2: own at 0: rank 1
    assert fm.pooled_r_precision(text, motion, pools, top_k=2).tolist() == [1 / 3, 1.0]
    assert fm.pooled_r_precision(text, np.zeros((3, 2)), pools, 3) == pytest.approx(
        [1 / 3, 2 / 3, 1]
    )


def test_matching_distance_diversity_and_multimodality_of_known_points():
    text = np.zeros((3, 2))
    motion = np.array([[3.0, 4.0], [0.0, 1.0], [0.0, 2.0]])
    assert fm.matching_distance(text, motion) == pytest.approx((5 + 1 + 2) / 3)
    # 10 corners of a simplex: every pair of distinct points is 2.5 * sqrt(2) apart
    corners = 2.5 * np.eye(10)
    assert fm.diversity(corners, np.random.default_rng(0), 300) == pytest.approx(2.5 * 2**0.5)
    two = np.array([[0.0, 0.0], [0.0, 7.0]])
    assert fm.diversity(two, np.random.default_rng(5), 50) == pytest.approx(7.0)
    # prompt p's 5 generations are a simplex of scale s_p: multimodality is the mean spacing
    scales = np.array([1.0, 2.0, 4.0])
    gens = scales[:, None, None] * np.eye(5)[None]
    value = fm.multimodality(gens, np.random.default_rng(0), pairs=10)
    assert value == pytest.approx(scales.mean() * 2**0.5)
    first, second = fm.random_pairs(4, 1000, np.random.default_rng(0))
    assert (first != second).all() and set(first) == set(second) == {0, 1, 2, 3}


def test_frechet_distance_of_identical_and_shifted_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 6))
    sigma = a @ a.T + np.eye(6)
    mu = rng.normal(size=6)
    shift = np.array([1.0, -2.0, 0.5, 0.0, 0.0, 3.0])
    assert fm.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)
    assert fm.frechet_distance(mu, sigma, mu + shift, sigma) == pytest.approx(shift @ shift)
    # different spreads: 1-d closed form (s1 - s2)^2 for variances s1^2, s2^2
    assert fm.frechet_distance([0.0], [[4.0]], [0.0], [[9.0]]) == pytest.approx(1.0)
    samples = rng.normal(size=(500, 4))
    assert fm.fid(samples, samples) == pytest.approx(0.0, abs=1e-8)
    assert fm.fid(samples, samples + np.array([3.0, 0, 0, 4.0])) == pytest.approx(25.0)


def test_mean_and_interval_over_repeats():
    values = [1.0, 2.0, 3.0, 4.0]
    summary = fm.mean_and_interval(values)
    assert summary["mean"] == pytest.approx(2.5)
    assert summary["ci"] == pytest.approx(1.96 * np.std(values) / 2)
    constant = fm.mean_and_interval([0.7] * 20)
    assert constant["mean"] == pytest.approx(0.7) and constant["ci"] == pytest.approx(0.0)


# ---- physics metrics on hand-made motion -------------------------------------------------


def standing(frames: int, x0: float = 0.0) -> np.ndarray:
    """`[frames, 20]` motion of a figure standing with straight legs, feet on the ground."""
    hip = np.array([x0, LEG_LENGTH])
    neck = hip + np.array([0.0, TORSO_LENGTH])
    hand = neck - np.array([0.0, ARM_LENGTH])
    row = np.concatenate([neck, hip, neck, hand, neck, hand, hip, [x0, 0.0], hip, [x0, 0.0]])
    return np.tile(row, (frames, 1)).astype(np.float64)


def _move_left_foot(motion: np.ndarray, speed: float, frames: int, lift: float = 0.0):
    """Slide the left foot forward at `speed` m/s over the first `frames` frames."""
    t = np.arange(len(motion)) / FPS
    travel = speed * np.minimum(t, frames / FPS)
    motion[:, 14] += travel
    motion[:, 15] += lift
    return motion


def test_foot_skating_on_a_hand_made_sliding_foot():
    still = standing(101)
    assert physical.foot_skating_ratio(still[None])[0] == 0.0
    slide = _move_left_foot(standing(101), speed=1.0, frames=50)  # 50 of 100 frame pairs
    assert physical.foot_skating_ratio(slide[None])[0] == pytest.approx(0.5)
    slow = _move_left_foot(standing(101), speed=0.2, frames=50)  # below 0.3 body heights/s
    assert physical.foot_skating_ratio(slow[None])[0] == 0.0
    lifted = _move_left_foot(standing(101), speed=1.0, frames=50, lift=0.10)  # in the air
    assert physical.foot_skating_ratio(lifted[None])[0] == 0.0
    # the threshold scales with the body: a half-size figure skates at 0.4 m/s
    small = _move_left_foot(standing(101) * 0.5, speed=0.4, frames=100)
    assert physical.foot_skating_ratio(small[None])[0] == pytest.approx(1.0)
    assert physical.body_height(standing(5)[None])[0] == pytest.approx(BODY_HEIGHT)


def test_penetration_floating_length_variation_and_static():
    base = standing(50)
    sunk, lifted = base.copy(), base.copy()
    sunk[:, 1::2] -= 0.03
    lifted[:, 1::2] += 0.15
    clips = np.stack([base, sunk, lifted])
    assert physical.ground_penetration(clips) == pytest.approx([0.0, 0.03, 0.0])
    assert physical.floating(clips) == pytest.approx([0.0, 0.0, 0.10])
    half = base.copy()
    half[25:, 1::2] += 0.25  # airborne for half the clip, 0.20 m above the contact band
    assert physical.floating(half[None])[0] == pytest.approx(0.10)
    assert physical.segment_length_variation(clips) == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    stretched = base.copy()
    stretched[::2, 6:8] = stretched[::2, 4:6] - [0.0, 2 * ARM_LENGTH]  # left arm 1x / 2x
    # left arm lengths alternate 0.7 / 1.4: std/mean = 0.35 / 1.05; one of 5 segments
    assert physical.segment_length_variation(stretched[None])[0] == pytest.approx(1 / 15)
    walking = base.copy()
    walking[:, 0::2] += 1.4 * np.arange(50)[:, None] / FPS
    assert physical.is_static(np.stack([base, walking])).tolist() == [True, False]


def test_hip_wander_is_the_hips_farthest_horizontal_distance_from_its_start():
    still = standing(50)
    there_and_back = standing(50)
    there_and_back[:, 0::2] += (0.3 * np.sin(np.linspace(0, np.pi, 50)))[:, None]
    jumping = standing(50)
    jumping[:, 1::2] += 0.4  # up is not away
    wander = physical.hip_wander(np.stack([still, there_and_back, jumping]))
    assert wander == pytest.approx([0.0, 0.3, 0.0], abs=1e-3)


def test_in_place_prompts_are_those_whose_plan_never_travels(test_set):
    speed = {action: spec.speed for action, spec in ACTION_SPECS.items()}
    for plan, in_place in zip(test_set.plan, test_set.in_place, strict=True):
        assert in_place == all(speed[ActionType(int(a))] == 0 for a in np.unique(plan))
    assert 0 < test_set.in_place.sum() < len(test_set)


def test_jerk_of_a_cubic_trajectory():
    t = np.arange(40) / FPS
    a = 6.0  # x = a t^3 / 6 has jerk a everywhere (third differences of a cubic are exact)
    moving = standing(40)
    moving[:, 0::2] += (a * t**3 / 6)[:, None]
    assert physical.mean_jerk(moving[None])[0] == pytest.approx(a)
    assert physical.mean_jerk(standing(40)[None])[0] == 0.0


# ---- action metrics ---------------------------------------------------------------------


def test_action_accuracy_confusion_and_order_checks():
    walk, wave, sit = int(ActionType.WALK), int(ActionType.WAVE), int(ActionType.SIT)
    plan = np.array([walk] * 10 + [wave] * 10)
    assert am.planned_sequence(plan) == [walk, wave]
    assert am.frame_accuracy(plan, plan) == 1.0
    late = np.array([walk] * 15 + [wave] * 5)
    assert am.frame_accuracy(late, plan) == 0.75
    matrix = am.confusion_matrix(late, plan)
    assert matrix[walk, walk] == 10 and matrix[wave, walk] == 5 and matrix[wave, wave] == 5
    assert matrix.sum() == 20
    assert am.order_correct(late, plan) is True
    assert am.order_correct(late[::-1], plan) is False  # wave first, then walk
    assert am.order_correct(np.full(20, walk), plan) is False  # wave never performed
    assert am.order_correct(plan, np.full(20, walk)) is None  # one action: nothing to order
    repeated = np.array([walk] * 5 + [sit] * 5 + [walk] * 5)
    assert am.order_correct(repeated, repeated) is None
    share, checked = am.order_accuracy(np.stack([late, late[::-1]]), np.stack([plan, plan]))
    assert (share, checked) == (0.5, 2)


# ---- the evaluator ----------------------------------------------------------------------


def test_evaluator_training_is_deterministic_and_the_artefact_round_trips(dataset, tmp_path):
    settings = EvaluatorTraining(epochs=1, batch_size=32, max_train_samples=96, seed=7)
    kw = dict(config=SMALL, settings=settings, threads=1)
    first = train_evaluator(dataset, out_path=tmp_path / "a.pt", **kw)
    second = train_evaluator(dataset, **kw)
    other = train_evaluator(
        dataset, **{**kw, "settings": EvaluatorTraining(**{**settings.__dict__, "seed": 8})}
    )
    for name in ("motion_encoder", "text_encoder", "classifier"):
        a, b = getattr(first, name).state_dict(), getattr(second, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    c = other.motion_encoder.state_dict()
    assert any(not torch.equal(first.motion_encoder.state_dict()[k], c[k]) for k in c)
    assert first.info["history"] == second.info["history"]
    # frozen, and the file records what it was trained on
    assert not any(p.requires_grad for p in first.motion_encoder.parameters())
    loaded = Evaluator.load(tmp_path / "a.pt")
    assert loaded.dataset_id == Dataset(dataset).dataset_id
    assert loaded.text_model_id == TEXT_MODEL_ID
    assert loaded.vocabulary == first.vocabulary
    assert loaded.config.vocabulary_size == len(first.vocabulary) == first.info["vocabulary_size"]
    clips = np.asarray(Dataset(dataset).motion[:4])
    assert np.array_equal(loaded.encode_motion(clips), first.encode_motion(clips))
    texts = ["A man walks, then waves.", "zorblax quuxes"]  # unknown words read as <unk>
    assert np.array_equal(loaded.encode_text(texts), first.encode_text(texts))
    assert np.array_equal(loaded.classify(clips), first.classify(clips))
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temp file
    # strict keys: a missing weight is refused, not silently left random
    payload = torch.load(tmp_path / "a.pt", weights_only=True)
    del payload["motion_encoder"]["gru.weight_hh_l0"]
    torch.save(payload, tmp_path / "broken.pt")
    with pytest.raises(StickGenError, match="motion_encoder weights do not match"):
        Evaluator.load(tmp_path / "broken.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a file")
    with pytest.raises(StickGenError):
        Evaluator.load(tmp_path / "junk.pt")


def test_the_evaluators_own_text_encoder_learns_to_retrieve(evaluator, dataset, test_set):
    """Trained from scratch on 300 clips, its words find their motion on the unseen test split
    well above chance (1/32); an untrained one does not."""

    def test_top1(scorer: Evaluator) -> float:
        text = scorer.encode_text(test_set.descriptions)
        motion = scorer.encode_motion(test_set.motion)
        draws = [fm.r_precision(text, motion, np.random.default_rng(s), 32)[0] for s in range(20)]
        return float(np.mean(draws))

    untrained = train_evaluator(
        dataset,
        config=SMALL,
        settings=EvaluatorTraining(epochs=1, batch_size=32, lr=1e-9, max_train_samples=32),
        threads=1,
    )
    trained = test_top1(evaluator)
    assert trained > 2 / 32 and trained > test_top1(untrained) + 0.03
    # its own figures on the val split (45 clips: one pool, so only their form is checked)
    assert evaluator.info["val_pool_size"] == 32
    for key in ("val_r_precision", "val_hard_r_precision"):
        top1, top2, top3 = evaluator.info[key]
        assert 0 <= top1 <= top2 <= top3 <= 1


def test_tokens_and_vocabulary():
    assert tokenize("A Man waves, for 2.4 secs!") == [
        "a", "man", "waves", ",", "for", "2", ".", "4", "secs", "!"
    ]  # fmt: skip
    vocabulary = Vocabulary.build(["a man walks", "a man runs", "a dog"], min_count=2)
    assert vocabulary.words == ("<pad>", "<unk>", "a", "man")
    assert vocabulary.ids("A man flies") == [2, 3, 1] and vocabulary.ids("") == [1]
    ids, lengths = vocabulary.encode(["a man", "a"])
    assert ids.tolist() == [[2, 3], [2, 0]] and lengths.tolist() == [2, 1]
    words = vocabulary.bag_of_words(ids)
    np.testing.assert_allclose(words @ words.T, [[1.0, 0.5**0.5], [0.5**0.5, 1.0]], rtol=1e-6)
    with pytest.raises(ValueError):
        Vocabulary(("a", "b"))


# ---- the protocol -----------------------------------------------------------------------


class Replay(System):
    """Ground truth handed back as if a model had generated it."""

    def __init__(self, test: Prompts) -> None:
        super().__init__("replayed ground truth", "checkpoint")
        self.test = test

    def generate(self, items, seeds):
        return np.array(self.test.motion[items], copy=True)


class Shuffled(System):
    """Every prompt gets another prompt's real motion (a new permutation each repeat)."""

    def __init__(self, test: Prompts) -> None:
        super().__init__("shuffled", "baseline")
        self.test = test

    def generate(self, items, seeds):
        order = np.random.default_rng(int(seeds[0])).permutation(len(self.test))
        return self.test.motion[order[np.asarray(items)]]


def test_ground_truth_through_the_generated_path_reproduces_its_row(evaluator, test_set):
    protocol = Protocol(repeats=2, **QUICK)
    rows = score_systems([GroundTruth(test_set), Replay(test_set)], evaluator, test_set, protocol)
    truth, replay = rows["ground truth"], rows["replayed ground truth"]
    assert replay["metrics"] == truth["metrics"]
    assert replay["repeats"] == truth["repeats"]
    assert replay["confusion"] == truth["confusion"]
    assert truth["metrics"]["fid"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert truth["metrics"]["jerk_ratio"]["mean"] == pytest.approx(1.0)


def test_fid_of_halves_is_small_and_grows_with_noise(evaluator, test_set):
    truth = evaluator.encode_motion(test_set.motion)
    order = np.random.default_rng(0).permutation(len(truth))
    halves = fm.fid(truth[order[::2]], truth[order[1::2]])
    levels = (0.005, 0.01, 0.02, 0.05)
    systems = [GroundTruth(test_set), *(NoisyGroundTruth(test_set, f) for f in levels)]
    rows = score_systems(systems, evaluator, test_set, Protocol(repeats=2, **QUICK))
    fids = [rows[s.name]["metrics"]["fid"]["mean"] for s in systems[1:]]
    assert all(a < b for a, b in itertools.pairwise(fids)), fids
    assert halves < 0.5 * fids[-1], (halves, fids)
    drift = [rows[s.name]["metrics"]["length_variation"]["mean"] for s in systems]
    assert drift[0] == pytest.approx(0.0, abs=1e-6) and drift == sorted(drift)


def test_shuffled_motion_scores_r_precision_near_chance(evaluator, test_set):
    protocol = Protocol(repeats=20, **{**QUICK, "mm_prompts": 1, "mm_generations": 2})
    rows = score_systems([GroundTruth(test_set), Shuffled(test_set)], evaluator, test_set, protocol)
    shuffled = rows["shuffled"]["metrics"]
    chance = np.array([1, 2, 3]) / 32
    got = np.array([shuffled[f"r_precision_top{k}"]["mean"] for k in (1, 2, 3)])
    assert np.abs(got - chance).max() < 0.03, got
    assert rows["ground truth"]["metrics"]["r_precision_top1"]["mean"] > 2 * chance[0]
    assert not rows["shuffled"]["warnings"]


def test_rows_above_ground_truth_are_flagged_not_celebrated():
    def row(top3: float, hard3: float | None = None) -> dict:
        metrics = {f"r_precision_top{k}": {"mean": top3 * k / 3, "ci": 0.01} for k in (1, 2, 3)}
        hard3 = top3 / 2 if hard3 is None else hard3
        metrics |= {f"hard_r_precision_top{k}": {"mean": hard3 * k / 3, "ci": 0.01} for k in (1, 3)}
        return {"metrics": metrics, "warnings": []}

    rows = {"ground truth": row(0.60), "copycat": row(0.90), "tie": row(0.605), "low": row(0.3)}
    rows["hard copycat"] = row(0.60, hard3=0.45)
    above_ground_truth(rows, "ground truth")
    (warning,) = rows["copycat"]["warnings"]
    assert "R@1 0.300 vs 0.200" in warning and "R@3 0.900 vs 0.600" in warning
    assert "Hard R@3 0.450 vs 0.300" in warning and "not a win" in warning
    (warning,) = rows["hard copycat"]["warnings"]
    assert "Hard R@1 0.150 vs 0.100" in warning and "R@2" not in warning
    assert rows["tie"]["warnings"] == []  # inside the ground truth's interval
    assert rows["low"]["warnings"] == [] and rows["ground truth"]["warnings"] == []


# ---- checkpoints, files and the CLI -----------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(dataset, text_model_path, tmp_path_factory):
    from stickgen.train import TrainConfig, train

    out = tmp_path_factory.mktemp("ckpt")
    config = TrainConfig(
        preset="tiny",
        epochs=1,
        batch_size=8,
        accumulate=1,
        lr=3e-3,
        warmup_epochs=0,
        max_train_samples=16,
        max_val_samples=4,
        precision="fp32",
    )
    result = train(dataset, out, config, threads=1, text_model=text_model_path)
    return result.last_checkpoint


def test_batched_checkpoint_generation_equals_the_generator(checkpoint, test_set):
    system = CheckpointSystem(checkpoint, test_set)
    items, seeds = np.array([0, 3, 3]), np.array([11, 11, 12])
    batched = system.generate(items, seeds)
    for clip, i, s in zip(batched, items, seeds, strict=True):
        single = system.generator.generate(test_set.scenes[i], seed=int(s)).motion
        # a batch of 3 and a batch of 1 run different matmul kernels; 20 guided steps amplify
        # their rounding to about 1e-5 m (it once reached 1.2e-5): 0.1 mm is still exact here
        np.testing.assert_allclose(clip, single, atol=1e-4)
    assert not np.allclose(batched[1], batched[2])  # another seed, another noise


def test_checkpoint_guidance_is_named_and_used(checkpoint, test_set):
    items, seeds = np.array([0, 1]), np.array([5, 6])
    default = CheckpointSystem(checkpoint, test_set)
    same = CheckpointSystem(checkpoint, test_set, guidance=Guidance.of(GUIDANCE))
    plan_heavy = CheckpointSystem(checkpoint, test_set, guidance=Guidance(text=1.0, plan=3.0))
    assert plan_heavy.name == f"{default.name} (guidance text 1, plan 3)"
    np.testing.assert_allclose(same.generate(items, seeds), default.generate(items, seeds))
    assert not np.allclose(plan_heavy.generate(items, seeds), default.generate(items, seeds))


def test_a_checkpoint_from_text_alone_samples_without_the_plan(checkpoint, test_set):
    items, seeds = np.array([0, 1]), np.array([5, 6])
    planned = CheckpointSystem(checkpoint, test_set)
    alone = CheckpointSystem(checkpoint, test_set, text_alone=True)
    assert alone.name == f"{planned.name} (text alone)"
    motion, _ = planned.generator.generate_batch(
        planned.embeddings[items], None, [int(s) for s in seeds], frames=test_set.frames
    )
    np.testing.assert_allclose(alone.generate(items, seeds), motion, atol=1e-5)
    assert not np.allclose(alone.generate(items, seeds), planned.generate(items, seeds))


def test_a_checkpoint_sampled_in_bf16_is_named_and_stays_near_fp32(checkpoint, test_set):
    items, seeds = np.array([0, 1, 2]), np.array([5, 6, 7])
    fp32 = CheckpointSystem(checkpoint, test_set)
    bf16 = CheckpointSystem(checkpoint, test_set, precision="bf16")
    assert bf16.name == f"{fp32.name} (bf16)" and bf16.generator.precision == "bf16"
    exact, rounded = fp32.generate(items, seeds), bf16.generate(items, seeds)
    assert not np.array_equal(exact, rounded)  # it did sample in bf16
    gap = np.abs(rounded - exact).mean()
    print(f"bf16 against fp32: mean {gap * 1000:.2f} mm, clips move {np.abs(exact).mean():.2f} m")
    # bf16 keeps 8 bits of mantissa: about 1 cm at 2.5 m, through 20 guided steps
    assert gap < 0.02 * np.abs(exact).mean()


def test_hard_pools_of_the_test_split_share_the_first_action(test_set):
    makeup = hard_pool_makeup(test_set, Protocol(**QUICK))
    first = test_set.plan[:, 0]
    counts = np.bincount(first)
    # every prompt's negatives share its first action as far as the test split allows
    possible = np.minimum(counts[first] - 1, 31).mean() / 31
    assert makeup["negatives_sharing_first_action"] >= possible - 0.02
    assert (
        0
        <= makeup["prompts_with_all_negatives_sharing"]
        <= makeup["negatives_sharing_first_action"]
    )


def test_cli_writes_json_and_markdown_with_every_baseline(dataset, evaluator, tmp_path, capsys):
    evaluator.save(tmp_path / "evaluator.pt")
    out = tmp_path / "report"
    args = [
        "evaluate",
        "--dataset",
        str(dataset),
        "--evaluator",
        str(tmp_path / "evaluator.pt"),
        "--out",
        str(out),
        "--repeats",
        "2",
        "--mm-prompts",
        "3",
        "--mm-generations",
        "2",
        "--threads",
        "1",
    ]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    result = json.loads((out / "evaluation.json").read_text())
    names = list(result["systems"])
    assert names[:5] == [
        "ground truth",
        "procedural engine",
        "nearest training motion",
        "random training motion",
        "static mean pose",
    ]
    assert [n for n in names if "noise" in n] == [
        f"ground truth + {p}% noise" for p in ("0.5", "1", "2", "5")
    ]
    static = result["systems"]["static mean pose"]["metrics"]
    assert static["diversity"]["mean"] == 0.0 and static["static_share"]["mean"] == 1.0
    assert static["standing_drift_m"]["mean"] == 0.0  # a held pose never leaves its place
    truth = result["systems"]["ground truth"]["metrics"]["standing_drift_m"]["mean"]
    assert 0 < truth < 0.15
    assert static["r_precision_top1"]["mean"] == pytest.approx(1 / 32)  # ties score chance
    assert result["chance"]["r_precision_top3"] == pytest.approx(3 / 32)
    assert result["evaluator"]["same_dataset"] is True
    assert 0 < result["ceiling"]["action_accuracy"] <= 1
    page = (out / "evaluation.md").read_text()
    assert page.count("\n| ") == 1 + len(names)  # header row + one row per system
    assert "Chance: R@1 0.031" in page
    assert "| static mean pose |" in capsys.readouterr().out


def test_cli_user_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--dataset", str(tmp_path / "nothing"), "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "no dataset" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--dataset", str(tmp_path), "--guidance", "strong"])
    assert exc.value.code == 2
    assert "guidance must be W or TEXT,PLAN" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--dataset", str(tmp_path), "--precision", "half"])
    assert exc.value.code == 2
    assert "unknown precision 'half'" in capsys.readouterr().err
