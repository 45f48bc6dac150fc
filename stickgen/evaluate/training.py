"""Train the evaluator on the *train* split of a dataset: its vocabulary from the split's
descriptions, then a symmetric contrastive loss between its own text encoder's and the motion
encoder's features (near-duplicate captions are not negatives) plus per-frame action
cross-entropy for the classifier, all from scratch; then measure its own figures on the val
split and freeze it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from stickgen.compute import available_cores, torch_threads
from stickgen.data.store import Dataset
from stickgen.errors import Cancelled, StickGenError
from stickgen.evaluate.evaluator import Evaluator
from stickgen.evaluate.features import frame_features
from stickgen.evaluate.metrics import (
    look_alike_keys,
    look_alike_pools,
    matching_distance,
    pooled_r_precision,
    r_precision,
)
from stickgen.evaluate.networks import (
    ActionClassifierNet,
    EvaluatorConfig,
    MotionEncoder,
    TextEncoder,
    contrastive_loss,
)
from stickgen.evaluate.protocol import Protocol
from stickgen.evaluate.text import Vocabulary
from stickgen.progress import Progress, no_progress
from stickgen.schema import FPS
from stickgen.skeleton import BODY_HEIGHT

STATS_CLIPS = 2000  # training clips used for the feature mean/std


@dataclass(frozen=True)
class EvaluatorTraining:
    """How the evaluator is trained (recorded in the artefact)."""

    epochs: int = 12
    batch_size: int = 128
    lr: float = 1e-3
    temperature: float = 0.1
    duplicate_threshold: float = 0.9  # bag-of-words cosine at or above which captions are twins
    min_word_count: int = 2  # rarer words of the train split are <unk>
    word_dropout: float = 0.05  # share of training tokens replaced by <unk>
    classifier_weight: float = 1.0
    jitter: float = 0.01  # max std of the noise added to training clips, in body heights
    jitter_share: float = 0.5  # share of training clips that get noise
    max_train_samples: int | None = 20_000
    max_val_samples: int = 1000
    seed: int = 0

    def check(self) -> None:
        if self.epochs < 1 or self.batch_size < 2:
            raise StickGenError("evaluator training needs epochs >= 1 and batch_size >= 2")
        if not self.lr > 0 or not self.temperature > 0:
            raise StickGenError("evaluator learning rate and temperature must be positive")


def _subset(indices: np.ndarray, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is not None and len(indices) > limit:
        indices = rng.choice(indices, size=limit, replace=False)
    return np.sort(indices)


class _Data:
    """The train/val samples, the vocabulary, every description's token ids and the feature
    statistics."""

    def __init__(self, dataset: Dataset, settings: EvaluatorTraining) -> None:
        rng = np.random.default_rng(settings.seed)
        self.dataset = dataset
        self.train = _subset(dataset.split_indices("train"), settings.max_train_samples, rng)
        val = dataset.split_indices("val")
        val = val[np.asarray(dataset.augmentation)[val] == 0]
        self.val = _subset(val, settings.max_val_samples, rng)
        if len(self.train) < settings.batch_size or len(self.val) < 2:
            raise StickGenError(
                f"dataset {dataset.path} is too small to train an evaluator "
                f"({len(self.train)} train samples, batch {settings.batch_size}; "
                f"{len(self.val)} val samples)"
            )
        self.text_index = np.asarray(dataset.description_index)
        train_rows = np.unique(self.text_index[self.train])
        self.vocabulary = Vocabulary.build(
            (dataset.descriptions[int(r)] for r in train_rows), settings.min_word_count
        )
        self.word_dropout = settings.word_dropout
        chosen = _subset(self.train, STATS_CLIPS, rng)
        features = frame_features(dataset.motion[chosen]).reshape(-1, 22).astype(np.float64)
        self.mean = features.mean(axis=0).astype(np.float32)
        self.std = (features.std(axis=0) + 1e-3).astype(np.float32)

    def texts(self, samples: np.ndarray) -> list[str]:
        return [self.dataset.descriptions[int(r)] for r in self.text_index[samples]]

    def batch(
        self, samples: np.ndarray, rng: np.random.Generator, jitter: float, share: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(normalised frame features, token ids, text lengths, twins, per-frame labels) of
        `samples`. A `share` of the clips get Gaussian noise of std up to `jitter` body heights,
        so that the features describe what the figure does rather than how smooth its trace
        is; `word_dropout` of the tokens become <unk>. Twins (bool `[B, B]`) are the pairs
        whose bag-of-words cosine reaches the duplicate threshold (see `train_evaluator`)."""
        samples = np.sort(samples)
        motion = np.asarray(self.dataset.motion[samples], dtype=np.float64)
        sigma = rng.uniform(0.0, jitter * BODY_HEIGHT, len(samples)) * (
            rng.random(len(samples)) < share
        )
        motion = motion + rng.standard_normal(motion.shape) * sigma[:, None, None]
        features = (frame_features(motion) - self.mean) / self.std
        ids, lengths = self.vocabulary.encode(self.texts(samples))
        words = self.vocabulary.bag_of_words(ids)
        dropped = torch.from_numpy(rng.random(tuple(ids.shape)) < self.word_dropout) & (ids > 0)
        labels = np.asarray(self.dataset.actions[samples], dtype=np.int64)
        return (
            torch.from_numpy(features),
            ids.masked_fill(dropped, 1),
            lengths,
            words @ words.T,
            torch.from_numpy(labels),
        )


def _own_figures(evaluator: Evaluator, data: _Data, pool_size: int, seed: int) -> dict[str, Any]:
    """R-precision (random and hard pools, the hard ones by the dataset's own labels),
    MM-Dist and per-frame classifier accuracy on the val split."""
    ds = data.dataset
    motion = np.asarray(ds.motion[data.val])
    text = evaluator.encode_text(data.texts(data.val))
    feats = evaluator.encode_motion(motion)
    pool = min(pool_size, len(data.val))
    labels = np.asarray(ds.actions[data.val], dtype=np.int64)
    rng = np.random.default_rng(seed)
    top = r_precision(text, feats, rng, pool_size=pool)
    keys = look_alike_keys(labels, data.text_index[data.val])
    hard = pooled_r_precision(text, feats, look_alike_pools(keys, pool, rng))
    predicted = evaluator.classify(motion)
    return {
        "val_samples": len(data.val),
        "val_pool_size": pool,
        "val_r_precision": [round(float(v), 4) for v in top],
        "val_hard_r_precision": [round(float(v), 4) for v in hard],
        "val_mm_dist": round(matching_distance(text, feats), 4),
        "val_action_accuracy": round(float((predicted == labels).mean()), 4),
    }


def train_evaluator(
    dataset_dir: str | Path,
    *,
    out_path: str | Path | None = None,
    config: EvaluatorConfig | None = None,
    settings: EvaluatorTraining | None = None,
    threads: int | None = None,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
) -> Evaluator:
    """Train, freeze and (with `out_path`) save an evaluator on `dataset_dir`'s train split.

    Its vocabulary comes from the split's descriptions (`config.vocabulary_size` is set from
    it). Deterministic for a given `settings.seed` and thread count. `should_stop` is polled
    after every step; when true, `Cancelled` is raised and nothing is saved.
    """
    settings = settings or EvaluatorTraining()
    settings.check()
    started = time.perf_counter()
    dataset = Dataset(dataset_dir)
    threads = threads or available_cores()
    with torch.random.fork_rng(devices=[]), torch_threads(threads):
        data = _Data(dataset, settings)
        config = EvaluatorConfig(
            **{**(config or EvaluatorConfig()).to_dict(), "vocabulary_size": len(data.vocabulary)}
        )
        torch.manual_seed(settings.seed)
        nets = (MotionEncoder(config), TextEncoder(config), ActionClassifierNet(config))
        params = [p for net in nets for p in net.parameters()]
        optimizer = torch.optim.Adam(params, lr=settings.lr)
        rng = np.random.default_rng([settings.seed, 1])
        per_epoch = len(data.train) // settings.batch_size
        total = settings.epochs * per_epoch
        history = []
        step = 0
        for epoch in range(settings.epochs):
            order = rng.permutation(data.train)
            sums = np.zeros(2)
            for b in range(per_epoch):
                features, ids, lengths, overlap, labels = data.batch(
                    order[b * settings.batch_size : (b + 1) * settings.batch_size],
                    rng,
                    settings.jitter,
                    settings.jitter_share,
                )
                twins = overlap >= settings.duplicate_threshold
                contrast = contrastive_loss(
                    nets[1](ids, lengths), nets[0](features), twins, settings.temperature
                )
                logits = nets[2](features)
                action = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
                loss = contrast + settings.classifier_weight * action
                for group in optimizer.param_groups:
                    group["lr"] = settings.lr * 0.5 * (1 + math.cos(math.pi * step / total))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                sums += (float(contrast.detach()), float(action.detach()))
                progress(step, total, f"evaluator epoch {epoch + 1}/{settings.epochs}")
                if should_stop is not None and should_stop():
                    raise Cancelled(f"evaluator training stopped at step {step}")
            history.append(
                {
                    "epoch": epoch + 1,
                    "contrastive_loss": round(float(sums[0] / per_epoch), 5),
                    "action_loss": round(float(sums[1] / per_epoch), 5),
                }
            )
        evaluator = Evaluator(
            config=config,
            motion_encoder=nets[0],
            text_encoder=nets[1],
            classifier=nets[2],
            feature_mean=data.mean,
            feature_std=data.std,
            vocabulary=data.vocabulary,
            dataset_id=dataset.dataset_id,
            fps=int(dataset.manifest.get("fps", FPS)),
        )
        evaluator.info = {
            "dataset_path": str(dataset.path),
            "train_samples": len(data.train),
            "vocabulary_size": len(data.vocabulary),
            "training": asdict(settings),
            "history": history,
            **_own_figures(evaluator, data, Protocol().pool_size, settings.seed),
            "seconds": round(time.perf_counter() - started, 1),
        }
    if out_path is not None:
        evaluator.save(out_path)
    return evaluator
