"""Feature-space metrics of the text-to-motion protocol (Guo et al., CVPR 2022).

Every function takes features from the evaluator (`[N, D]` float arrays) and, where it samples,
a numpy `Generator`, so a repeat is a pure function of its inputs and its seed. Distances are
Euclidean throughout.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

CI_Z = 1.96  # two-sided 95% normal quantile
TIE = 1e-6  # distances closer than this count as equal (float32 features, batched encoders)


def euclidean_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`[N, M]` Euclidean distances between the rows of `a` `[N, D]` and `b` `[M, D]`."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


def _hit_probability(distances: np.ndarray, own: np.ndarray, top_k: int) -> np.ndarray:
    """`[N, top_k]`: probability that row i's own candidate, at distance `own[i]`, is among
    the k nearest of the row's candidates `distances[i]` (its own included), for k = 1..top_k,
    with ties broken uniformly at random (so identical motions score chance, not 0 or 1)."""
    own = np.asarray(own)[:, None]
    closer = (distances < own - TIE).sum(axis=1)[:, None]
    tied = (np.abs(distances - own) <= TIE).sum(axis=1)[:, None]  # includes the own column
    ks = np.arange(1, top_k + 1)[None, :]
    return np.clip((ks - closer) / tied, 0.0, 1.0)


def r_precision(
    text: np.ndarray,
    motion: np.ndarray,
    rng: np.random.Generator,
    pool_size: int = 32,
    top_k: int = 3,
) -> np.ndarray:
    """R-precision top-1..top-k, `[top_k]`.

    Definition: the N (text, motion) pairs are shuffled with `rng` and cut into pools of
    `pool_size` (an incomplete last pool is dropped). Within a pool each text ranks the pool's
    motions (its own and `pool_size - 1` others) by Euclidean distance; top-k is the share of
    texts whose own motion is among the k nearest, averaged over all texts of all pools. Ties
    count as the expected value of a random tie-break. Chance level: k / pool_size.
    """
    n = len(text)
    if len(motion) != n:
        raise ValueError(f"{n} texts but {len(motion)} motions")
    if n < pool_size:
        raise ValueError(f"R-precision needs at least {pool_size} pairs, got {n}")
    order = rng.permutation(n)
    pools = order[: n - n % pool_size].reshape(-1, pool_size)
    hits = np.zeros(top_k)
    for pool in pools:
        distances = euclidean_distances(text[pool], motion[pool])
        hits += _hit_probability(distances, np.diagonal(distances), top_k).sum(0)
    return hits / pools.size


def look_alike_keys(plan: np.ndarray, description_ids: np.ndarray) -> np.ndarray:
    """float32 `[N, N]`: how much prompt j looks like prompt i, for the hard pools: 2 when
    j's plan starts with i's first action, plus the Jaccard overlap of the two plans' sets of
    actions (0..1); -1 for every other prompt with i's description (a pool takes them only
    when nothing else fills it), -inf for i itself.

    `plan` is the per-frame action plan `[N, T]` of each prompt, `description_ids` `[N]` says
    which prompts have the same description."""
    plan = np.asarray(plan)
    first = plan[:, 0]
    actions = np.zeros((len(plan), int(plan.max()) + 1), dtype=np.float32)
    np.put_along_axis(actions, plan, 1.0, axis=1)
    shared = actions @ actions.T
    sizes = actions.sum(1)
    keys = 2.0 * (first[:, None] == first[None, :]) + shared / (sizes[:, None] + sizes - shared)
    ids = np.asarray(description_ids)
    keys[ids[:, None] == ids[None, :]] = -1.0
    np.fill_diagonal(keys, -np.inf)
    return keys.astype(np.float32)


def look_alike_pools(keys: np.ndarray, pool_size: int, rng: np.random.Generator) -> np.ndarray:
    """int64 `[N, pool_size]` hard pools: prompt i (column 0) and the `pool_size - 1` other
    prompts that look most like it by `look_alike_keys` `[N, N]`, equal keys in random order."""
    keys = np.asarray(keys, dtype=np.float64)
    others = pool_size - 1
    if (np.isfinite(keys).sum(1) < others).any():
        raise ValueError(f"a hard pool of {pool_size} needs {pool_size} prompts")
    jittered = keys + rng.uniform(0.0, 1e-4, keys.shape)  # keys differ by >= 1/90 or not at all
    chosen = np.argpartition(-jittered, others - 1, axis=1)[:, :others]
    return np.concatenate([np.arange(len(keys))[:, None], chosen], axis=1)


def pooled_r_precision(
    text: np.ndarray, motion: np.ndarray, pools: np.ndarray, top_k: int = 3
) -> np.ndarray:
    """R-precision top-1..top-k `[top_k]` in given pools `[P, K]`: text `pools[p, 0]` ranks the
    motions of its pool (its own is `motion[pools[p, 0]]`) by Euclidean distance; top-k is the
    share of pools whose own motion is among the k nearest (ties: a random tie-break's
    expected value). Chance level: k / K."""
    text = np.asarray(text, dtype=np.float64)
    motion = np.asarray(motion, dtype=np.float64)
    pools = np.asarray(pools)
    distances = np.linalg.norm(text[pools[:, :1]] - motion[pools], axis=-1)  # [P, K]
    return _hit_probability(distances, distances[:, 0], top_k).mean(0)


def matching_distance(text: np.ndarray, motion: np.ndarray) -> float:
    """MM-Dist: mean Euclidean distance between each text's features and its own motion's."""
    diff = np.asarray(text, dtype=np.float64) - np.asarray(motion, dtype=np.float64)
    return float(np.linalg.norm(diff, axis=1).mean())


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean `[D]` and covariance `[D, D]` (unbiased, rows are samples) of `[N, D]` features."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2):
    `|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))`.

    When the product's square root is singular or not finite, `eps * I` is added to both
    covariances; a vanishing imaginary part from round-off is dropped."""
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    sigma1 = np.asarray(sigma1, np.float64)
    sigma2 = np.asarray(sigma2, np.float64)
    with warnings.catch_warnings():  # singular products are expected (e.g. a static system)
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            offset = np.eye(sigma1.shape[0]) * eps
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def fid(real: np.ndarray, generated: np.ndarray) -> float:
    """FID: the Fréchet distance between Gaussians fitted (mean, covariance) to real and
    generated motion features."""
    return frechet_distance(*feature_statistics(real), *feature_statistics(generated))


def random_pairs(n: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` index pairs (i, j), i uniform over 0..n-1 and j uniform over the other n - 1."""
    if n < 2:
        raise ValueError(f"pairs need at least 2 items, got {n}")
    first = rng.integers(0, n, size=count)
    second = (first + rng.integers(1, n, size=count)) % n
    return first, second


def diversity(features: np.ndarray, rng: np.random.Generator, pairs: int = 300) -> float:
    """Diversity: mean Euclidean distance between the features of `pairs` random pairs of
    distinct motions (drawn with `random_pairs`)."""
    first, second = random_pairs(len(features), pairs, rng)
    return float(np.linalg.norm(features[first] - features[second], axis=1).mean())


def multimodality(features: np.ndarray, rng: np.random.Generator, pairs: int = 10) -> float:
    """Multimodality of `[P, G, D]` features (G generations for each of P prompts): for every
    prompt, the mean distance between `pairs` random pairs of two distinct generations of it;
    then the mean over prompts."""
    features = np.asarray(features, dtype=np.float64)
    per_prompt = []
    for generations in features:
        first, second = random_pairs(len(generations), pairs, rng)
        distances = np.linalg.norm(generations[first] - generations[second], axis=1)
        per_prompt.append(distances.mean())
    return float(np.mean(per_prompt))


def mean_and_interval(values: np.ndarray | list[float]) -> dict[str, float]:
    """Mean over repeats and the 95% confidence half-width `1.96 * std / sqrt(repeats)`
    (population std, as in the reference protocol)."""
    values = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(values.mean()),
        "ci": float(CI_Z * values.std() / np.sqrt(len(values))),
    }
