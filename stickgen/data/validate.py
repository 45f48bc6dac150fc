"""Dataset validation: the plan's success criteria plus the checks that catch inconsistent data.

`validate_dataset` reads a dataset in bounded-memory blocks and returns a `ValidationReport`.
`full=True` checks every clip and the checksums; `full=False` (quick) checks a fixed random sample
of clips and skips the checksums.

Rare actions: an action below 0.5% of all frames is an *error* for a purely synthetic dataset of
at least `COVERAGE_MIN_SCENES` scenes (the generator controls the distribution, so a rare action
there means a broken sampler) and a *warning* otherwise: motion capture covers only some actions,
and a few hundred random scenes cannot be expected to show all 46 at 0.5%.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stickgen.data.augment import mentions_side
from stickgen.data.store import (
    AUGMENTATIONS,
    EMBEDDINGS,
    PER_SAMPLE_FIELDS,
    SPLITS,
    Dataset,
    checksums,
    iter_chunks,
    sha256_file,
)
from stickgen.errors import StickGenError
from stickgen.physics import physics_from_motion
from stickgen.progress import Progress, no_progress
from stickgen.schema import (
    CLIP_FRAMES,
    FPS,
    NUM_ACTIONS,
    EyeType,
    FacialExpression,
    MouthShape,
    action_vocabulary,
)
from stickgen.skeleton import lowest_point, segment_lengths

MIN_ACTION_SHARE = 0.005  # every action should cover at least this share of all frames
COVERAGE_MIN_SCENES = 1000  # smaller datasets only get a warning for rare actions
BONE_TOLERANCE = 0.01  # relative spread of a segment's length within one clip
GROUND_TOLERANCE = 1e-3  # metres below y = 0 still counted as on the ground
PHYSICS_SAMPLE = 256  # clips whose physics is recomputed
QUICK_SAMPLE = 2048  # clips read by a quick validation
BLOCK = 256  # clips checked at a time (bounds memory)
REQUIRED_KEYS = (
    "format",
    "version",
    "num_samples",
    "frames",
    "actions",
    "action_histogram",
    "unique_descriptions",
    "splits",
    "sources",
    "checksums",
)


@dataclass
class Check:
    """One validation check; a failed `warning` is reported but does not fail the dataset."""

    name: str
    passed: bool
    detail: str
    severity: str = "error"

    def __str__(self) -> str:
        mark = "ok" if self.passed else ("FAIL" if self.severity == "error" else "warn")
        return f"[{mark:>4}] {self.name}: {self.detail}"


@dataclass
class ValidationReport:
    """The outcome of `validate_dataset`: `ok` unless an error-level check failed."""

    path: Path
    full: bool
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks if c.severity == "error")

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed and c.severity == "error"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if not c.passed and c.severity != "error"]

    def check(self, name: str) -> Check:
        """The check called `name` (KeyError if it did not run)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "full": self.full,
            "ok": self.ok,
            "checks": [c.__dict__ for c in self.checks],
        }

    def __str__(self) -> str:
        verdict = "OK" if self.ok else "FAILED"
        mode = "full" if self.full else "quick"
        head = (
            f"{self.path}: {verdict} ({mode}; {len(self.checks)} checks, "
            f"{len(self.failures)} failed, {len(self.warnings)} warnings)"
        )
        return "\n".join([head, *(f"  {c}" for c in self.checks)])


def _open(path: Path) -> Dataset:
    try:
        return Dataset(path)
    except StickGenError:
        raise
    except (OSError, ValueError) as exc:  # unreadable manifest or array header
        raise StickGenError(f"{path} cannot be read as a dataset: {exc}") from exc


def _check_manifest(ds: Dataset) -> Check:
    missing = [k for k in REQUIRED_KEYS if k not in ds.manifest]
    if missing:
        return Check("manifest", False, f"missing keys {missing}")
    if ds.manifest["actions"] != action_vocabulary():
        return Check("manifest", False, "action vocabulary differs from this Stick-Gen's")
    return Check("manifest", True, f"format {ds.manifest['format']} v{ds.manifest['version']}")


def _check_shapes(ds: Dataset) -> Check:
    n, frames = len(ds), ds.frames
    problems = []
    if frames != CLIP_FRAMES:
        problems.append(f"{frames} frames per clip, expected {CLIP_FRAMES}")
    for name, (dtype, shape) in PER_SAMPLE_FIELDS.items():
        array = getattr(ds, name)
        expected = (n, *shape(frames))
        if array.shape != expected or array.dtype != dtype:
            problems.append(f"{name} {array.dtype}{list(array.shape)} != {dtype}{list(expected)}")
    if ds.embeddings is not None and ds.embeddings.shape[0] != len(ds.descriptions):
        problems.append(
            f"embeddings has {ds.embeddings.shape[0]} rows for {len(ds.descriptions)} descriptions"
        )
    if problems:
        return Check("shapes", False, "; ".join(problems))
    return Check(
        "shapes",
        True,
        f"{n} samples: motion [{frames},20], actions [{frames}], physics [{frames},6], "
        f"face [{frames},7]",
    )


def _check_counts(ds: Dataset, split: np.ndarray) -> Check:
    m = ds.manifest
    problems = []
    if m["unique_descriptions"] != len(ds.descriptions):
        problems.append(
            f"manifest says {m['unique_descriptions']} descriptions, file has "
            f"{len(ds.descriptions)}"
        )
    actual = {name: int(np.count_nonzero(split == k)) for k, name in enumerate(SPLITS)}
    if m["splits"] != actual:
        problems.append(f"split counts {actual} differ from the manifest's {m['splits']}")
    if sum(actual.values()) != len(ds):
        problems.append(f"{len(ds) - sum(actual.values())} samples in no split")
    if problems:
        return Check("counts", False, "; ".join(problems))
    return Check(
        "counts", True, f"{len(ds)} samples, {len(ds.descriptions)} descriptions, {actual}"
    )


def _check_split_hygiene(scene_id: np.ndarray, split: np.ndarray) -> Check:
    order = np.argsort(scene_id, kind="stable")
    scenes, splits = scene_id[order], split[order]
    straddle = (scenes[1:] == scenes[:-1]) & (splits[1:] != splits[:-1])
    if straddle.any():
        bad = np.unique(scenes[1:][straddle])
        return Check("split hygiene", False, f"{len(bad)} scenes in two splits, e.g. {bad[:5]}")
    return Check("split hygiene", True, f"{len(np.unique(scenes))} scenes, none in two splits")


def _check_descriptions(ds: Dataset, index: dict[str, np.ndarray]) -> Check:
    empty = [i for i, text in enumerate(ds.descriptions) if not text.strip()]
    if empty:
        return Check("descriptions", False, f"{len(empty)} empty descriptions (rows {empty[:5]})")
    is_mirror = index["augmentation"] == AUGMENTATIONS.index("mirror")
    mirrored = np.unique(index["description_index"][is_mirror])
    texts = ds.descriptions
    sided = [int(i) for i in mirrored if 0 <= i < len(texts) and mentions_side(texts[i])]
    if sided:
        return Check(
            "descriptions",
            False,
            f"{len(sided)} mirrored descriptions name a side, e.g. {ds.descriptions[sided[0]]!r}",
        )
    return Check("descriptions", True, f"{len(ds.descriptions)} unique, none empty")


class _DataStats:
    """Accumulates per-block statistics of the clip arrays."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.clips = 0
        self.nonfinite: dict[str, int] = {"motion": 0, "physics": 0, "face": 0}
        self.label_problems: list[str] = []
        self.worst_bone = (0.0, -1)
        self.lowest = (np.inf, -1)
        self.histogram = np.zeros(NUM_ACTIONS, dtype=np.int64)

    def add(self, first: np.ndarray, motion, actions, physics, face) -> None:
        """`first` are the sample indices of this block's clips."""
        self.clips += len(first)
        for name, block in (("motion", motion), ("physics", physics), ("face", face)):
            self.nonfinite[name] += int(np.count_nonzero(~np.isfinite(block).all(axis=(1, 2))))
        if actions.max(initial=0) >= NUM_ACTIONS:
            self.label_problems.append(f"action label {int(actions.max())} >= {NUM_ACTIONS}")
        self.histogram += np.bincount(
            np.minimum(actions, NUM_ACTIONS - 1).ravel(), minlength=NUM_ACTIONS
        )
        self.label_problems += _face_problems(face)

        with np.errstate(all="ignore"):  # NaN/inf clips are reported by the finite check
            lengths = segment_lengths(motion.astype(np.float64))  # [B, T, 5]
            spread = np.ptp(lengths, axis=1) / lengths.mean(axis=1)
            spread = np.where(np.isfinite(spread), spread, np.inf).max(axis=1)
            low = np.nan_to_num(lowest_point(motion.astype(np.float64)), nan=np.inf).min(axis=1)
        if len(spread) and spread.max() > self.worst_bone[0]:
            self.worst_bone = (float(spread.max()), int(first[spread.argmax()]))
        if len(low) and low.min() < self.lowest[0]:
            self.lowest = (float(low.min()), int(first[low.argmin()]))

    def checks(self, index_problems: list[str]) -> list[Check]:
        out = []
        bad = {k: v for k, v in self.nonfinite.items() if v}
        out.append(
            Check("finite", not bad, f"clips with NaN/inf: {bad}" if bad else "no NaN or inf")
        )
        problems = sorted(set(self.label_problems)) + index_problems
        out.append(
            Check("labels", not problems, "; ".join(problems) or "actions and face in range")
        )
        spread, clip = self.worst_bone
        out.append(
            Check(
                "bone lengths",
                spread <= BONE_TOLERANCE,
                f"largest within-clip spread {100 * spread:.3f}% (clip {clip}); "
                f"limit {100 * BONE_TOLERANCE:.0f}%",
            )
        )
        low, clip = self.lowest
        out.append(
            Check(
                "ground",
                low >= -GROUND_TOLERANCE,
                f"lowest point {low:+.4f} m (clip {clip}); limit {-GROUND_TOLERANCE} m",
            )
        )
        return out


def _face_problems(face: np.ndarray) -> list[str]:
    problems = []
    for column, name, size in (
        (0, "expression", len(FacialExpression)),
        (1, "eye type", len(EyeType)),
        (3, "mouth shape", len(MouthShape)),
        (5, "speaking", 2),
    ):
        values = face[..., column]
        finite = values[np.isfinite(values)]
        if ((finite < 0) | (finite >= size) | (finite != np.round(finite))).any():
            problems.append(f"face {name} outside 0..{size - 1}")
    openness = face[..., 4][np.isfinite(face[..., 4])]
    if ((openness < 0) | (openness > 1)).any():
        problems.append("face mouth openness outside 0..1")
    hz = face[..., 6][np.isfinite(face[..., 6])]
    if (hz < 0).any():
        problems.append("face speech Hz negative")
    return problems


def _check_index_fields(ds: Dataset, index: dict[str, np.ndarray]) -> list[str]:
    limits = {
        "description_index": len(ds.descriptions),
        "split": len(SPLITS),
        "augmentation": len(AUGMENTATIONS),
        "source": len(ds.manifest.get("sources", [])),
    }
    problems = []
    for name, limit in limits.items():
        values = index[name]
        if len(values) and (values.min() < 0 or values.max() >= limit):
            problems.append(f"{name} outside 0..{limit - 1}")
    if len(index["scene_id"]) and index["scene_id"].min() < 0:
        problems.append("negative scene_id")
    return problems


def _scan(ds: Dataset, full: bool, progress: Progress) -> tuple[_DataStats, int]:
    stats = _DataStats(ds)
    n = len(ds)
    if full:
        streams = [iter_chunks(ds.path / f"{f}.npy", n, BLOCK) for f in ("motion", "actions")]
        streams += [iter_chunks(ds.path / f"{f}.npy", n, BLOCK) for f in ("physics", "face")]
        for (lo, motion), (_, actions), (_, physics), (_, face) in zip(*streams, strict=True):
            stats.add(np.arange(lo, lo + len(motion)), motion, actions, physics, face)
            progress(lo + len(motion), n, "checking clips")
        return stats, n
    picks = _sample(n, QUICK_SAMPLE)
    for lo in range(0, len(picks), BLOCK):
        block = picks[lo : lo + BLOCK]
        stats.add(block, *(ds.rows(f, block) for f in ("motion", "actions", "physics", "face")))
    progress(len(picks), len(picks), "checked a sample of clips")
    return stats, len(picks)


def _sample(n: int, size: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size, replace=False))


def _check_physics(ds: Dataset) -> Check:
    picks = _sample(len(ds), PHYSICS_SAMPLE)
    stored = ds.rows("physics", picks).astype(np.float64)
    with np.errstate(all="ignore"):  # NaN/inf clips are reported by the finite check
        fresh = physics_from_motion(ds.rows("motion", picks), ds.manifest.get("fps") or FPS)
        close = np.isclose(stored, fresh, rtol=1e-3, atol=1e-3).all(axis=(1, 2))
    if not close.all():
        bad = picks[~close]
        return Check("physics", False, f"{len(bad)}/{len(picks)} clips disagree, e.g. {bad[:5]}")
    return Check("physics", True, f"matches physics_from_motion on {len(picks)} clips")


def _check_histogram(ds: Dataset, histogram: np.ndarray) -> Check:
    vocab = action_vocabulary()
    recorded = ds.manifest.get("action_histogram", {})
    actual = {vocab[i]: int(c) for i, c in enumerate(histogram)}
    if recorded != actual:
        diff = [k for k in vocab if recorded.get(k) != actual[k]]
        return Check("action histogram", False, f"manifest differs for {diff[:5]}")
    return Check("action histogram", True, "manifest matches the labels")


def _check_coverage(ds: Dataset, histogram: np.ndarray, scenes: int) -> Check:
    total = max(int(histogram.sum()), 1)
    share = histogram / total
    vocab = action_vocabulary()
    rare = [f"{vocab[i]} {100 * share[i]:.2f}%" for i in np.flatnonzero(share < MIN_ACTION_SHARE)]
    synthetic_only = set(ds.manifest.get("sources", [])) <= {"synthetic"}
    severity = "error" if synthetic_only and scenes >= COVERAGE_MIN_SCENES else "warning"
    if rare:
        return Check(
            "action coverage",
            False,
            f"{len(rare)} actions below {100 * MIN_ACTION_SHARE}% of frames: {', '.join(rare)}",
            severity,
        )
    return Check(
        "action coverage",
        True,
        f"all {NUM_ACTIONS} actions >= {100 * MIN_ACTION_SHARE}% of frames "
        f"(rarest {vocab[int(share.argmin())]} {100 * share.min():.2f}%)",
        severity,
    )


def _check_checksums(ds: Dataset) -> Check:
    recorded = ds.manifest.get("checksums", {})
    actual = checksums(ds.path)
    bad = sorted(k for k in set(recorded) | set(actual) if recorded.get(k) != actual.get(k))
    if bad:
        return Check("checksums", False, f"differ from the manifest: {bad}")
    return Check("checksums", True, f"{len(actual)} files match the manifest")


NORM_TOLERANCE = 1e-3
MAX_ABS_MEAN = 0.02
STD_RANGE = (0.5, 1.0 + 1e-3)  # per-vector std, in units of 1/sqrt(D)
_CHUNK = 8192  # rows per pass when scanning a memory-mapped table


def _row_stats(table: np.ndarray) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray]:
    """(all finite, per-row L2 norm, mean, std) of a possibly memory-mapped [U, D] table."""
    finite = True
    norms, means, stds = [], [], []
    for lo in range(0, table.shape[0], _CHUNK):
        block = np.asarray(table[lo : lo + _CHUNK], dtype=np.float64)
        finite = finite and bool(np.isfinite(block).all())
        norms.append(np.linalg.norm(block, axis=1))
        means.append(block.mean(axis=1))
        stds.append(block.std(axis=1))
    return finite, np.concatenate(norms), np.concatenate(means), np.concatenate(stds)


def embedding_checks(dataset: Dataset | str | Path) -> list[Check]:
    """Phase-2 checks of a dataset's embeddings."""
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    entry = ds.manifest.get("embedding")
    unique = len(ds.descriptions)
    if ds.embeddings is None or not entry:
        what = "no embeddings.npy" if ds.embeddings is None else "no manifest embedding entry"
        return [Check("embeddings present", False, f"{what}; run `stick-gen data embed {ds.path}`")]
    table = ds.embeddings
    dim = int(entry.get("dim", -1))
    checks = [
        Check(
            "embeddings present",
            True,
            f"model {entry.get('model')}, pooling {entry.get('pooling')}",
        )
    ]
    shape_ok = (
        table.ndim == 2
        and table.shape == (unique, dim)
        and entry.get("count") == unique
        and table.dtype == np.float32
        and entry.get("normalized") is True
    )
    checks.append(
        Check(
            "embedding shape",
            shape_ok,
            f"{table.dtype} {tuple(table.shape)}; manifest dim {dim}, count {entry.get('count')}, "
            f"normalized {entry.get('normalized')}; {unique} unique descriptions",
        )
    )
    index = np.asarray(ds.description_index)
    lo, hi = (int(index.min()), int(index.max())) if index.size else (0, -1)
    covered = index.size == 0 or (lo >= 0 and hi < table.shape[0])
    checks.append(
        Check(
            "every sample has an embedding",
            covered,
            f"{len(ds)} samples point at rows {lo}..{hi} of {table.shape[0]}",
        )
    )
    if table.ndim != 2 or table.shape[0] == 0:
        return checks
    finite, norms, means, stds = _row_stats(table)
    checks.append(
        Check("embeddings finite", finite, "no NaN or inf" if finite else "NaN or inf found")
    )
    norm_err = float(np.abs(norms - 1.0).max())
    checks.append(
        Check(
            "embedding L2 norm 1",
            norm_err < NORM_TOLERANCE,
            f"norms {norms.min():.6f}..{norms.max():.6f} (tolerance {NORM_TOLERANCE})",
        )
    )
    abs_mean = float(np.abs(means).max())
    checks.append(
        Check(
            "embedding per-vector mean ~ 0",
            abs_mean < MAX_ABS_MEAN,
            f"max |mean| {abs_mean:.5f}, average {means.mean():+.5f} (limit {MAX_ABS_MEAN})",
        )
    )
    scale = np.sqrt(table.shape[1])
    std_lo, std_hi = float(stds.min() * scale), float(stds.max() * scale)
    checks.append(
        Check(
            "embedding per-vector std",
            STD_RANGE[0] <= std_lo and std_hi <= STD_RANGE[1],
            f"std x sqrt(D) {std_lo:.4f}..{std_hi:.4f} "
            f"(expected {STD_RANGE[0]}..{STD_RANGE[1]:.3f})",
        )
    )
    expected = ds.manifest.get("checksums", {}).get(EMBEDDINGS)
    actual = sha256_file(ds.path / EMBEDDINGS)
    checks.append(
        Check(
            "embeddings checksum",
            expected == actual,
            "matches the manifest"
            if expected == actual
            else f"manifest {str(expected)[:12]}, file {actual[:12]}",
        )
    )
    return checks


def validate_dataset(
    path: str | Path, *, full: bool = True, progress: Progress = no_progress
) -> ValidationReport:
    """Check a dataset directory against the data contracts; see the module doc."""
    path = Path(path)
    ds = _open(path)
    report = ValidationReport(path, full)
    add: Callable[[Check], None] = report.checks.append
    add(_check_manifest(ds))
    shapes = _check_shapes(ds)
    add(shapes)
    if not report.ok:
        return report
    clip_fields = ("motion", "actions", "physics", "face")
    index = {n: np.load(path / f"{n}.npy") for n in PER_SAMPLE_FIELDS if n not in clip_fields}
    add(_check_counts(ds, index["split"]))
    stats, scanned = _scan(ds, full, progress)
    for c in stats.checks(_check_index_fields(ds, index)):
        c.detail += f" [{scanned} clips]"
        add(c)
    add(_check_physics(ds))
    histogram = stats.histogram
    if full:
        add(_check_histogram(ds, histogram))
    else:
        vocab = action_vocabulary()
        recorded = ds.manifest["action_histogram"]
        histogram = np.array([int(recorded.get(name, 0)) for name in vocab], dtype=np.int64)
    add(_check_coverage(ds, histogram, len(np.unique(index["scene_id"]))))
    add(_check_descriptions(ds, index))
    add(_check_split_hygiene(index["scene_id"], index["split"]))
    if full:
        progress(len(ds), len(ds), "checksums")
        add(_check_checksums(ds))
    if ds.manifest.get("embedding"):
        report.checks.extend(embedding_checks(ds))
    progress(len(ds), len(ds), "done")
    return report
