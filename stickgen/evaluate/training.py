"""Train the evaluator on the *train* split of a dataset: a symmetric contrastive loss between
text and motion features (near-duplicate captions are not negatives) plus per-frame action
cross-entropy for the classifier; then measure its own figures on the val split and freeze it."""

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
from stickgen.evaluate.evaluator import Evaluator, default_text_model
from stickgen.evaluate.features import frame_features
from stickgen.evaluate.metrics import matching_distance, r_precision
from stickgen.evaluate.networks import (
    ActionClassifierNet,
    EvaluatorConfig,
    MotionEncoder,
    TextEncoder,
    contrastive_loss,
)
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
    duplicate_threshold: float = 0.9  # text-model cosine at or above which captions are twins
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


def description_embeddings(dataset: Dataset, rows: np.ndarray, embedder: Any) -> np.ndarray:
    """float32 `[len(rows), text_dim]` embeddings of the dataset's description rows `rows` from
    `embedder`'s model: read from the dataset when it was embedded with that model, else
    encoded now."""
    entry = dataset.manifest.get("embedding") or {}
    if dataset.embeddings is not None and entry.get("model") == embedder.model_id:
        return np.asarray(dataset.embeddings[np.asarray(rows)], dtype=np.float32)
    return embedder.encode([dataset.descriptions[int(r)] for r in rows])


class _Data:
    """The train/val samples, their text embeddings and the feature statistics."""

    def __init__(self, dataset: Dataset, settings: EvaluatorTraining, embedder: Any) -> None:
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
        index = np.asarray(dataset.description_index)
        rows = np.unique(index[np.concatenate([self.train, self.val])])
        table = description_embeddings(dataset, rows, embedder)
        self.text = np.zeros((int(rows.max()) + 1, table.shape[1]), dtype=np.float32)
        self.text[rows] = table
        self.text_index = index
        chosen = _subset(self.train, STATS_CLIPS, rng)
        features = frame_features(dataset.motion[chosen]).reshape(-1, 22).astype(np.float64)
        self.mean = features.mean(axis=0).astype(np.float32)
        self.std = (features.std(axis=0) + 1e-3).astype(np.float32)

    def batch(
        self, samples: np.ndarray, rng: np.random.Generator, jitter: float, share: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(normalised frame features, text embeddings, per-frame labels) of `samples`; a
        `share` of the clips get Gaussian noise of std up to `jitter` body heights, so that
        the features describe what the figure does rather than how smooth its trace is."""
        samples = np.sort(samples)
        motion = np.asarray(self.dataset.motion[samples], dtype=np.float64)
        sigma = rng.uniform(0.0, jitter * BODY_HEIGHT, len(samples)) * (
            rng.random(len(samples)) < share
        )
        motion = motion + rng.standard_normal(motion.shape) * sigma[:, None, None]
        features = (frame_features(motion) - self.mean) / self.std
        text = self.text[self.text_index[samples]]
        labels = np.asarray(self.dataset.actions[samples], dtype=np.int64)
        return torch.from_numpy(features), torch.from_numpy(text), torch.from_numpy(labels)


def _own_figures(evaluator: Evaluator, data: _Data, seed: int) -> dict[str, Any]:
    """R-precision, MM-Dist and per-frame classifier accuracy on the val split."""
    ds = data.dataset
    motion = np.asarray(ds.motion[data.val])
    text = evaluator.encode_text(data.text[data.text_index[data.val]])
    feats = evaluator.encode_motion(motion)
    pool = min(32, len(data.val))
    top = r_precision(text, feats, np.random.default_rng(seed), pool_size=pool)
    predicted = evaluator.classify(motion)
    labels = np.asarray(ds.actions[data.val], dtype=np.int64)
    return {
        "val_samples": len(data.val),
        "val_pool_size": pool,
        "val_r_precision": [round(float(v), 4) for v in top],
        "val_mm_dist": round(matching_distance(text, feats), 4),
        "val_action_accuracy": round(float((predicted == labels).mean()), 4),
    }


def train_evaluator(
    dataset_dir: str | Path,
    *,
    out_path: str | Path | None = None,
    text_model: str | Path | None = None,
    config: EvaluatorConfig | None = None,
    settings: EvaluatorTraining | None = None,
    threads: int | None = None,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
) -> Evaluator:
    """Train, freeze and (with `out_path`) save an evaluator on `dataset_dir`'s train split.

    `text_model` is a sentence-transformers directory (default: the packaged all-MiniLM-L6-v2).
    Deterministic for a given `settings.seed` and thread count. `should_stop` is polled after
    every step; when true, `Cancelled` is raised and nothing is saved.
    """
    from stickgen.embed import Embedder

    settings = settings or EvaluatorTraining()
    settings.check()
    started = time.perf_counter()
    dataset = Dataset(dataset_dir)
    threads = threads or available_cores()
    embedder = Embedder(text_model or default_text_model(), threads=threads)
    config = config or EvaluatorConfig()
    if config.text_dim != embedder.dim:
        config = EvaluatorConfig(**{**config.to_dict(), "text_dim": embedder.dim})
    with torch.random.fork_rng(devices=[]), torch_threads(threads):
        data = _Data(dataset, settings, embedder)
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
                features, text, labels = data.batch(
                    order[b * settings.batch_size : (b + 1) * settings.batch_size],
                    rng,
                    settings.jitter,
                    settings.jitter_share,
                )
                twins = text @ text.T >= settings.duplicate_threshold
                contrast = contrastive_loss(
                    nets[1](text), nets[0](features), twins, settings.temperature
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
            text_model={
                "id": embedder.model_id,
                "source": str(embedder.local_dir or embedder.source),
                "dim": embedder.dim,
            },
            dataset_id=dataset.dataset_id,
            fps=int(dataset.manifest.get("fps", FPS)),
        )
        evaluator.info = {
            "dataset_path": str(dataset.path),
            "train_samples": len(data.train),
            "training": asdict(settings),
            "history": history,
            **_own_figures(evaluator, data, settings.seed),
            "seconds": round(time.perf_counter() - started, 1),
        }
    if out_path is not None:
        evaluator.save(out_path)
    return evaluator
