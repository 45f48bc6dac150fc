"""Score systems with the protocol: every repeat regenerates the test set, then R-precision
(in random pools and in hard pools of look-alike prompts), MM-Dist, FID, diversity,
multimodality, action and physics metrics; mean and 95% interval over repeats.

Standing drift (defined before any model was scored on it): over the test prompts whose plan has
only actions without a travel speed (`TestSet.in_place`: standing, gestures, sports moves in
place), the mean of each clip's largest horizontal distance of the hip from where it started.
Such a figure should stay put, give or take a step (ground truth on `ds4000`: 0.05 m).

Hard R-precision (defined before any model was scored on it): each test prompt's pool holds
its own motion and the motions of the `pool_size - 1` other test prompts that look most like
it: first those whose plan starts with the same action, then by the Jaccard overlap of the two
plans' sets of actions, ties in random order, prompts with its very description last
(`metrics.look_alike_keys`, `metrics.look_alike_pools`). Every prompt is a query; chance is
k / pool_size as in the random pools. The negatives differ in order, timing, further actions or
manner, so ground truth does not saturate it as it saturates R@3 in random pools.

Each repeat r draws its random numbers from `SeedSequence([seed, r])`, one independent stream
per use (generation seeds, R-precision pools, diversity pairs, multimodality prompts, their
generation seeds, their pairs), and never from the system's name: two systems that produce the
same motion get the same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from stickgen.errors import Cancelled, StickGenError
from stickgen.evaluate import actions as action_metrics
from stickgen.evaluate import metrics as fm
from stickgen.evaluate import physical
from stickgen.evaluate.evaluator import Evaluator
from stickgen.evaluate.systems import System, TestSet
from stickgen.progress import Progress, no_progress
from stickgen.schema import MOTION_DIM, NUM_ACTIONS


@dataclass(frozen=True)
class Protocol:
    """Counts of the protocol (defaults: the reference protocol's)."""

    repeats: int = 20
    pool_size: int = 32
    diversity_pairs: int = 300
    mm_prompts: int = 100
    mm_generations: int = 30
    mm_pairs: int = 10
    mm_repeats: int | None = None  # repeats that also measure multimodality (None: all)
    seed: int = 0

    def check(self, test_size: int) -> None:
        if self.repeats < 1:
            raise StickGenError(f"repeats must be at least 1, got {self.repeats}")
        if test_size < self.pool_size:
            raise StickGenError(
                f"the test set has {test_size} prompts, fewer than one R-precision pool of "
                f"{self.pool_size}; use a larger dataset or a smaller pool"
            )
        if self.mm_generations < 2 or self.mm_prompts < 1 or self.mm_pairs < 1:
            raise StickGenError("multimodality needs >= 1 prompt, >= 2 generations, >= 1 pair")
        if self.diversity_pairs < 1:
            raise StickGenError("diversity needs at least one pair")

    def measures_multimodality(self, repeat: int) -> bool:
        return self.mm_repeats is None or repeat < self.mm_repeats


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    better: str  # "higher", "lower", or "ground truth" (closer to the ground-truth row)


METRICS: tuple[Metric, ...] = (
    Metric("r_precision_top1", "R@1", "higher"),
    Metric("r_precision_top2", "R@2", "higher"),
    Metric("r_precision_top3", "R@3", "higher"),
    Metric("hard_r_precision_top1", "Hard R@1", "higher"),
    Metric("hard_r_precision_top3", "Hard R@3", "higher"),
    Metric("mm_dist", "MM-Dist", "lower"),
    Metric("fid", "FID", "lower"),
    Metric("diversity", "Diversity", "ground truth"),
    Metric("multimodality", "MModality", "higher"),
    Metric("action_accuracy", "Action acc", "higher"),
    Metric("order_accuracy", "Order", "higher"),
    Metric("foot_skating", "Skating", "lower"),
    Metric("penetration_cm", "Penetration cm", "lower"),
    Metric("floating_cm", "Floating cm", "ground truth"),
    Metric("length_variation", "Seg-len var", "lower"),
    Metric("jerk_ratio", "Jerk / GT", "ground truth"),
    Metric("static_share", "Static", "ground truth"),
    Metric("standing_drift_m", "Drift m", "lower"),
)


@dataclass
class Reference:
    """What every system is compared against, computed once."""

    text: np.ndarray  # [N, D] evaluator text features of the test descriptions
    motion: np.ndarray  # [N, D] evaluator motion features of the ground truth
    jerk: float  # mean ground-truth jerk, m/s^3
    look_alike: np.ndarray  # [N, N] metrics.look_alike_keys of the test prompts

    @classmethod
    def build(cls, evaluator: Evaluator, test: TestSet) -> Reference:
        jerk = float(physical.mean_jerk(test.motion, test.fps).mean())
        _, description_ids = np.unique(test.descriptions, return_inverse=True)
        return cls(
            text=evaluator.encode_text(test.descriptions),
            motion=evaluator.encode_motion(test.motion),
            jerk=max(jerk, 1e-9),
            look_alike=fm.look_alike_keys(test.plan, description_ids),
        )


def _streams(seed: int, repeat: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence([seed, repeat]).spawn(7)


def _seeds(stream: np.random.SeedSequence, count: int) -> np.ndarray:
    return stream.generate_state(count, dtype=np.uint32).astype(np.int64)


def _generate(system: System, items: np.ndarray, seeds: np.ndarray, frames: int) -> np.ndarray:
    motion = np.asarray(system.generate(items, seeds), dtype=np.float32)
    if motion.shape != (len(items), frames, MOTION_DIM):
        raise StickGenError(
            f"{system.name} produced motion {motion.shape}, expected "
            f"{(len(items), frames, MOTION_DIM)}"
        )
    if not np.isfinite(motion).all():
        raise StickGenError(f"{system.name} produced non-finite motion")
    return motion


def _one_repeat(
    system: System,
    evaluator: Evaluator,
    test: TestSet,
    reference: Reference,
    protocol: Protocol,
    repeat: int,
    confusion: np.ndarray,
) -> tuple[dict[str, float | None], int]:
    """The repeat's figures (and multimodality prompts checked for order), adding its frame
    counts to `confusion`."""
    gen, pools, pairs, mm_pick, mm_gen, mm_pairs, hard = _streams(protocol.seed, repeat)
    n = len(test)
    motion = _generate(system, np.arange(n), _seeds(gen, n), test.frames)
    feats = evaluator.encode_motion(motion)
    top = fm.r_precision(
        reference.text, feats, np.random.default_rng(pools), protocol.pool_size, top_k=3
    )
    hard_pools = fm.look_alike_pools(
        reference.look_alike, protocol.pool_size, np.random.default_rng(hard)
    )
    hard_top = fm.pooled_r_precision(reference.text, feats, hard_pools, top_k=3)
    values: dict[str, float | None] = {
        "r_precision_top1": float(top[0]),
        "r_precision_top2": float(top[1]),
        "r_precision_top3": float(top[2]),
        "hard_r_precision_top1": float(hard_top[0]),
        "hard_r_precision_top3": float(hard_top[2]),
        "mm_dist": fm.matching_distance(reference.text, feats),
        "fid": fm.fid(reference.motion, feats),
        "diversity": fm.diversity(feats, np.random.default_rng(pairs), protocol.diversity_pairs),
        "multimodality": None,
    }
    if protocol.measures_multimodality(repeat):
        chosen = np.random.default_rng(mm_pick).choice(
            n, min(protocol.mm_prompts, n), replace=False
        )
        items = np.repeat(chosen, protocol.mm_generations)
        mm_motion = _generate(system, items, _seeds(mm_gen, len(items)), test.frames)
        mm_feats = evaluator.encode_motion(mm_motion).reshape(len(chosen), -1, feats.shape[1])
        values["multimodality"] = fm.multimodality(
            mm_feats, np.random.default_rng(mm_pairs), protocol.mm_pairs
        )
    predicted = evaluator.classify(motion)
    values["action_accuracy"] = action_metrics.frame_accuracy(predicted, test.plan)
    values["order_accuracy"], checked = action_metrics.order_accuracy(predicted, test.plan)
    confusion += action_metrics.confusion_matrix(predicted, test.plan)
    values["foot_skating"] = float(physical.foot_skating_ratio(motion, test.fps).mean())
    values["penetration_cm"] = 100 * float(physical.ground_penetration(motion).mean())
    values["floating_cm"] = 100 * float(physical.floating(motion).mean())
    values["length_variation"] = float(physical.segment_length_variation(motion).mean())
    values["jerk_ratio"] = float(physical.mean_jerk(motion, test.fps).mean()) / reference.jerk
    values["static_share"] = float(physical.is_static(motion, test.fps).mean())
    in_place = test.in_place
    values["standing_drift_m"] = (
        float(physical.hip_wander(motion[in_place]).mean()) if in_place.any() else None
    )
    return values, checked


def score_system(
    system: System,
    evaluator: Evaluator,
    test: TestSet,
    reference: Reference,
    protocol: Protocol,
    *,
    progress: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """One system's row: per metric {mean, ci} over the repeats (None where a metric had no
    value in any repeat), the summed confusion matrix and the repeats' raw values."""
    per_repeat: list[dict[str, float | None]] = []
    confusion = np.zeros((NUM_ACTIONS, NUM_ACTIONS), dtype=np.int64)
    checked = 0
    for repeat in range(protocol.repeats):
        if should_stop is not None and should_stop():
            raise Cancelled(f"evaluation stopped while scoring {system.name}")
        values, checked = _one_repeat(
            system, evaluator, test, reference, protocol, repeat, confusion
        )
        per_repeat.append(values)
        if progress is not None:
            progress(repeat + 1)
    summary: dict[str, dict[str, float] | None] = {}
    for metric in METRICS:
        series = [v[metric.key] for v in per_repeat if v[metric.key] is not None]
        summary[metric.key] = fm.mean_and_interval(series) if series else None
    return {
        "name": system.name,
        "kind": system.kind,
        "metrics": summary,
        "order_checked_prompts": checked,
        "confusion": confusion.tolist(),
        "repeats": per_repeat,
        "notes": list(system.notes),
        "warnings": list(system.warnings),
    }


def above_ground_truth(rows: dict[str, dict[str, Any]], reference: str) -> None:
    """Warn on every row whose R-precision mean (top-1, 2 or 3; hard top-1 or 3) lies above the
    ground truth's 95% interval: the evaluator then rewards something other than matching the
    text as real motion does (copying the input, retrieval from training data). Differences
    inside the ground truth's interval are ties, not flagged."""
    truth = rows[reference]["metrics"]
    keys = [m.key for m in METRICS if "r_precision" in m.key]
    for name, row in rows.items():
        if name == reference or any(truth[k] is None or row["metrics"][k] is None for k in keys):
            continue
        above = [k for k in keys if row["metrics"][k]["mean"] > truth[k]["mean"] + truth[k]["ci"]]
        if not above:
            continue
        labels = {m.key: m.label for m in METRICS}
        figures = ", ".join(
            f"{labels[k]} {row['metrics'][k]['mean']:.3f} vs {truth[k]['mean']:.3f} "
            f"± {truth[k]['ci']:.3f}"
            for k in above
        )
        row["warnings"].append(
            f"R-precision above ground truth's interval ({figures}): a warning, not a win"
        )


def score_systems(
    systems: list[System],
    evaluator: Evaluator,
    test: TestSet,
    protocol: Protocol,
    *,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, dict[str, Any]]:
    """Rows for `systems` (the first one is the reference, normally ground truth), by name."""
    protocol.check(len(test))
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        raise StickGenError(f"system names must be unique: {names}")
    reference = Reference.build(evaluator, test)
    total = len(systems) * protocol.repeats
    rows: dict[str, dict[str, Any]] = {}
    for k, system in enumerate(systems):

        def step(done: int, k: int = k, name: str = system.name) -> None:
            progress(k * protocol.repeats + done, total, f"{name}: repeat {done}")

        rows[system.name] = score_system(
            system,
            evaluator,
            test,
            reference,
            protocol,
            progress=step,
            should_stop=should_stop,
        )
    above_ground_truth(rows, systems[0].name)
    return rows


def classifier_ceiling(evaluator: Evaluator, test: TestSet) -> dict[str, Any]:
    """The action classifier on the ground truth against the dataset's own labels: the best
    action accuracy and order score any motion can get from this classifier."""
    predicted = evaluator.classify(test.motion)
    order, checked = action_metrics.order_accuracy(predicted, test.labels)
    return {
        "action_accuracy": action_metrics.frame_accuracy(predicted, test.labels),
        "order_accuracy": order,
        "order_checked_prompts": checked,
    }


def chance_levels(test: TestSet, protocol: Protocol) -> dict[str, float]:
    """R-precision of a random ranking (in random and in hard pools alike), and the action
    accuracy of always predicting the most frequent planned action."""
    counts = np.bincount(test.plan.ravel(), minlength=NUM_ACTIONS)
    return {
        **{f"r_precision_top{k}": k / protocol.pool_size for k in (1, 2, 3)},
        **{f"hard_r_precision_top{k}": k / protocol.pool_size for k in (1, 3)},
        "action_accuracy": float(counts.max() / counts.sum()),
    }


def hard_pool_makeup(test: TestSet, protocol: Protocol) -> dict[str, float]:
    """What the hard pools of repeat 0 hold: the share of their negatives whose plan starts
    with the prompt's first action, and the share of prompts whose negatives all do."""
    _, description_ids = np.unique(test.descriptions, return_inverse=True)
    hard = _streams(protocol.seed, 0)[6]
    pools = fm.look_alike_pools(
        fm.look_alike_keys(test.plan, description_ids),
        protocol.pool_size,
        np.random.default_rng(hard),
    )
    first = test.plan[:, 0]
    same = first[pools[:, 1:]] == first[pools[:, :1]]
    return {
        "negatives_sharing_first_action": float(same.mean()),
        "prompts_with_all_negatives_sharing": float(same.all(1).mean()),
    }
