"""`train()`: multi-task training on CPU with gradient accumulation, warmup + cosine learning rate,
validation by generation each epoch, atomic checkpoints and exact resume."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stickgen.data.store import Dataset
from stickgen.errors import Cancelled, StickGenError
from stickgen.model import ModelConfig, MotionStats, build_model, count_parameters, preset_config
from stickgen.progress import Progress, no_progress
from stickgen.schema import FPS
from stickgen.train.batches import BatchReader, epoch_order, iterate_batches, split_batches, subset
from stickgen.train.checkpoint import (
    BEST,
    FORMAT,
    LAST,
    VERSION,
    epoch_checkpoint_name,
    load_checkpoint,
    load_weights,
    save_checkpoint,
)
from stickgen.train.curves import plot_loss_curve, write_metrics
from stickgen.train.guards import check_resume, check_settings, embedding_record
from stickgen.train.losses import LATENT_DROPOUT, PLAN_DROPOUT, LossWeights, training_loss
from stickgen.train.metrics import evaluate
from stickgen.train.schedule import learning_rate

STATS_SAMPLES = 10_000  # normalisation statistics use at most this many train samples
HEADLINE_METRICS = ("val_loss", "val_smoothness", "val_position", "val_action_accuracy")


@dataclass
class TrainResult:
    """What a finished `train()` leaves behind."""

    out_dir: Path
    last_checkpoint: Path
    best_checkpoint: Path | None
    epochs_completed: int
    steps: int
    best_val_loss: float | None
    num_parameters: int
    preset: str
    history: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, threads or len(os.sched_getaffinity(0))))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _batch_seed(seed: int, epoch: int, batch: int) -> int:
    """RNG seed of one training batch (plan dropping, latent noise, dropout): its position only."""
    state = np.random.SeedSequence([seed, epoch, batch]).generate_state(1, dtype=np.uint64)[0]
    return int(state) & ((1 << 63) - 1)


def _stats_from_train(dataset: Dataset, train_idx: np.ndarray, seed: int) -> MotionStats:
    chosen = subset(train_idx, STATS_SAMPLES, seed)
    chunks = (
        (dataset.motion[chosen[i : i + 256]], dataset.physics[chosen[i : i + 256]])
        for i in range(0, len(chosen), 256)
    )
    return MotionStats.from_chunks(chunks)


def _train_text(dataset: Dataset, train_idx: np.ndarray) -> torch.Tensor:
    """`[n, D]` embeddings of the distinct descriptions of the train split."""
    rows = np.unique(np.asarray(dataset.description_index[train_idx], dtype=np.int64))
    return torch.from_numpy(np.asarray(dataset.embeddings[rows], dtype=np.float32))


@dataclass
class _Position:
    """Where a run stands: the next batch to train and what has been learnt so far."""

    epoch: int = 0  # next (or current) epoch, 0-based
    batch: int = 0  # next batch within that epoch
    step: int = 0  # optimizer steps taken
    loss_sum: float = 0.0  # this epoch's training loss so far
    loss_count: int = 0
    best_val_loss: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Trainer:
    """One training run in `out`: set up (fresh or from `last.pt`), then epochs until done."""

    def __init__(
        self,
        dataset: Dataset,
        out: Path,
        preset: str,
        settings: dict[str, Any],
        embedding: dict[str, Any],
        weights: LossWeights,
        resume: bool,
    ) -> None:
        self.dataset, self.out, self.preset = dataset, out, preset
        self.settings, self.embedding, self.weights = settings, embedding, weights
        seed = settings["seed"]
        self.train_idx = subset(dataset.split_indices("train"), settings["max_train_samples"], seed)
        self.val_idx = subset(dataset.split_indices("val"), settings["max_val_samples"], seed)
        if len(self.train_idx) == 0 or len(self.val_idx) == 0:
            raise StickGenError(
                f"dataset {dataset.path} needs samples in both the train and val splits "
                f"(has {len(self.train_idx)} train, {len(self.val_idx)} val)"
            )
        out.mkdir(parents=True, exist_ok=True)
        self.last_path = out / LAST
        self.state: dict[str, Any] | None = None
        if self.last_path.exists():
            if not resume:
                raise StickGenError(
                    f"{out} already holds a training run ({LAST}); resume it or use another "
                    "directory"
                )
            self.state = load_checkpoint(self.last_path)
            check_resume(self.state, self.last_path, dataset, embedding, preset, settings)
            saved = LossWeights(**self.state["config"].get("loss_weights", {}))
            if saved != weights:
                raise StickGenError(
                    f"{self.last_path} was trained with loss weights {saved.to_dict()}, "
                    f"asked for {weights.to_dict()}"
                )
            recorded = (self.state.get("embedding") or {}).get("source")
            if "source" not in embedding and recorded:
                embedding["source"] = recorded
        self._build()
        batches = math.ceil(len(self.train_idx) / settings["batch_size"])
        self.steps_per_epoch = math.ceil(batches / settings["accumulate"])
        self.total_steps = settings["epochs"] * self.steps_per_epoch
        self.warmup_steps = settings["warmup_epochs"] * self.steps_per_epoch
        self.reader = BatchReader(dataset)

    def _build(self) -> None:
        """Model, statistics, optimizer and position: fresh, or exactly as saved in last.pt."""
        state, s = self.state, self.settings
        if state is None:
            self.config = preset_config(self.preset, self.embedding["dim"])
            self.stats = _stats_from_train(self.dataset, self.train_idx, s["seed"])
        else:
            self.config = ModelConfig.from_dict(dict(state["config"]["model"]))
            self.stats = MotionStats.from_dict(state["config"]["stats"])
        self.model = build_model(self.config, s["seed"])
        if state is None and self.config.standardize_text:
            self.model.set_text_statistics(_train_text(self.dataset, self.train_idx))
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=s["lr"], weight_decay=s["weight_decay"]
        )
        self.position = _Position()
        if state is not None:
            load_weights(self.model, state["model"], self.last_path)
            self.optimizer.load_state_dict(state["optimizer"])
            self.position = _Position(**state["resume"])
        self.num_parameters = count_parameters(self.model)

    # ---- running ---------------------------------------------------------------------------

    def run(
        self,
        progress: Progress,
        should_stop: Callable[[], bool] | None,
        on_checkpoint: Callable[[dict[str, Any]], None] | None,
        threads: int | None,
        workers: int,
    ) -> TrainResult:
        self.progress, self.should_stop, self.on_checkpoint = progress, should_stop, on_checkpoint
        progress(self.position.step, self.total_steps, "starting")
        with torch.random.fork_rng(devices=[]), _torch_threads(threads):
            if self.state is not None:
                torch.set_rng_state(self.state["rng"]["torch"])
            while self.position.epoch < self.settings["epochs"]:
                started = time.perf_counter()
                self._train_epoch(workers)
                self._end_epoch(time.perf_counter() - started)
        best = self.out / BEST
        return TrainResult(
            out_dir=self.out,
            last_checkpoint=self.last_path,
            best_checkpoint=best if best.exists() else None,
            epochs_completed=len(self.position.history),
            steps=self.position.step,
            best_val_loss=self.position.best_val_loss,
            num_parameters=self.num_parameters,
            preset=self.preset,
            history=self.position.history,
        )

    def _lr(self, step: int) -> float:
        return learning_rate(
            step,
            base_lr=self.settings["lr"],
            warmup_steps=self.warmup_steps,
            total_steps=self.total_steps,
        )

    def _train_epoch(self, workers: int) -> None:
        """Train the rest of the current epoch, one optimizer step per `accumulate` batches."""
        pos, s = self.position, self.settings
        epochs, accumulate = s["epochs"], s["accumulate"]
        batches = split_batches(epoch_order(self.train_idx, s["seed"], pos.epoch), s["batch_size"])
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        todo = batches[pos.batch :]
        for b, batch in enumerate(iterate_batches(self.reader, todo, workers), pos.batch):
            group_start = b - b % accumulate
            group_size = min(accumulate, len(batches) - group_start)
            torch.manual_seed(_batch_seed(s["seed"], pos.epoch, b))
            loss, _ = training_loss(
                self.model, batch, self.stats, self.weights, s["plan_dropout"], s["latent_dropout"]
            )
            (loss / group_size).backward()
            pos.loss_sum += float(loss.detach())
            pos.loss_count += 1
            pos.batch = b + 1
            if pos.batch - group_start < group_size:
                continue
            for group in self.optimizer.param_groups:
                group["lr"] = self._lr(pos.step)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), s["grad_clip"])
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            pos.step += 1
            message = f"epoch {pos.epoch + 1}/{epochs} loss {pos.loss_sum / pos.loss_count:.4f}"
            self.progress(pos.step, self.total_steps, message)
            if self.should_stop is not None and self.should_stop():
                self._save("last", self.last_path, pos.epoch, is_best=False)
                raise Cancelled(
                    f"training stopped at epoch {pos.epoch + 1}, step {pos.step}; "
                    f"{self.last_path} holds the state to resume from"
                )

    def _end_epoch(self, seconds: float) -> None:
        """Validate by generation, record the epoch, write the checkpoints and the curves."""
        pos, s = self.position, self.settings
        epoch = pos.epoch + 1
        self.progress(pos.step, self.total_steps, f"epoch {epoch}/{s['epochs']}: validating")
        metrics = evaluate(
            self.model,
            self.reader,
            self.val_idx,
            self.stats,
            self.weights,
            s["batch_size"] * s["accumulate"],
        )
        row = {
            "epoch": epoch,
            "step": pos.step,
            "lr": self._lr(max(pos.step - 1, 0)),
            "train_loss": pos.loss_sum / max(pos.loss_count, 1),
            **metrics,
            "seconds": round(seconds, 3),
        }
        pos.history.append(row)
        is_best = pos.best_val_loss is None or metrics["val_loss"] < pos.best_val_loss
        if is_best:
            pos.best_val_loss = metrics["val_loss"]
        pos.epoch, pos.batch, pos.loss_sum, pos.loss_count = epoch, 0, 0.0, 0
        if epoch % s["checkpoint_every"] == 0:
            self._save("epoch", self.out / epoch_checkpoint_name(epoch), epoch, is_best)
        if is_best:
            self._save("best", self.out / BEST, epoch, True)
        self._save("last", self.last_path, epoch, is_best)
        write_metrics(self.out, pos.history)
        if epoch % s["checkpoint_every"] == 0 or epoch == s["epochs"]:
            plot_loss_curve(self.out, pos.history)  # ~0.3 s: not after every short epoch
        self.progress(
            pos.step,
            self.total_steps,
            f"epoch {epoch}/{s['epochs']} train {row['train_loss']:.4f} "
            f"val {metrics['val_loss']:.4f}",
        )

    # ---- checkpoints -----------------------------------------------------------------------

    def _summary(self) -> dict[str, Any]:
        latest = self.position.history[-1] if self.position.history else {}
        return {
            "train_loss": latest.get("train_loss"),
            **{key: latest.get(key) for key in HEADLINE_METRICS},
            "metrics": dict(latest),
        }

    def _save(self, kind: str, path: Path, epochs_done: int, is_best: bool) -> None:
        """Write one checkpoint atomically, then tell `on_checkpoint` about it."""
        s = self.settings
        payload = {
            "format": FORMAT,
            "version": VERSION,
            "model": self.model.state_dict(),
            "config": {
                "preset": self.preset,
                "model": self.config.to_dict(),
                "stats": self.stats.to_dict(),
                "fps": FPS,
                "frames": self.dataset.frames,
                "loss_weights": self.weights.to_dict(),
                "plan_dropout": s["plan_dropout"],
                "latent_dropout": s["latent_dropout"],
                "train": s,
            },
            "epoch": epochs_done,
            "step": self.position.step,
            **self._summary(),
            "dataset_id": self.dataset.dataset_id,
            "dataset_path": str(self.dataset.path),
            "embedding_model": self.embedding.get("model"),
            "embedding": self.embedding,
            "num_parameters": self.num_parameters,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": {
                "step": self.position.step,
                "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps,
            },
            "rng": {"torch": torch.get_rng_state()},
            "resume": self.position.to_dict(),
        }
        save_checkpoint(path, payload)
        if self.on_checkpoint is not None:
            self.on_checkpoint(
                {
                    "kind": kind,
                    "path": str(path),
                    "epoch": epochs_done,
                    "step": self.position.step,
                    "is_best": is_best,
                    **self._summary(),
                    "dataset_id": self.dataset.dataset_id,
                    "embedding_model": self.embedding.get("model"),
                    "preset": self.preset,
                    "num_parameters": self.num_parameters,
                }
            )


def train(
    dataset_dir: str | Path,
    out_dir: str | Path,
    *,
    preset: str = "base",
    epochs: int = 50,
    batch_size: int = 16,
    accumulate: int = 4,
    lr: float = 3e-4,
    warmup_epochs: int = 10,
    checkpoint_every: int = 10,
    resume: bool = False,
    seed: int = 0,
    threads: int | None = None,
    max_train_samples: int | None = None,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
    on_checkpoint: Callable[[dict[str, Any]], None] | None = None,
    expected_embedding_model: str | None = None,
    text_model: str | Path | None = None,
    max_val_samples: int | None = None,
    weight_decay: float = 0.01,
    grad_clip: float = 1.0,
    plan_dropout: float = PLAN_DROPOUT,
    latent_dropout: float = LATENT_DROPOUT,
    loss_weights: LossWeights | None = None,
    workers: int = 0,
) -> TrainResult:
    """Train a text-to-motion model on `dataset_dir`, writing checkpoints into `out_dir`.

    One optimizer step = `accumulate` batches of `batch_size` (effective batch 64 by default).
    The learning rate warms up linearly over `warmup_epochs` then follows a cosine decay, both
    counted in optimizer steps. Each batch drops its action plan with probability `plan_dropout`
    so the model works with and without one (`stickgen.train.losses.training_loss`: a diffusion
    model learns to denoise; a CVAE's `latent_dropout` share of samples trains with a prior z
    instead of the motion encoder's). After every epoch the model *generates* the `val` split
    from text (+ plan, and text alone) and is scored (`stickgen.train.metrics`).

    Files in `out_dir`: `last.pt` (every epoch, and on stop), `best.pt` (lowest val_loss),
    `checkpoint_epoch_N.pt` every `checkpoint_every` epochs, `metrics.jsonl` (every epoch) and
    `loss_curve.png` (with each epoch checkpoint and at the end).
    `on_checkpoint(info)` runs after each file is in place. `should_stop()` is polled after every
    optimizer step: when true, `last.pt` is saved and `Cancelled` raised. `resume=True` continues
    from `last.pt` (starting fresh when there is none) and reaches the same weights as an
    uninterrupted run: the data order and every random draw depend only on (seed, epoch, batch).
    Without `resume`, an `out_dir` that already holds `last.pt` is refused.
    `epochs` may differ on resume (the cosine schedule is stretched to the new total).

    `text_model` (hub name or local directory of the dataset's embedding model) is recorded so
    that inference can load the same text model; it must have the dataset's model id. A hub-name
    model id is recorded by itself.
    """
    check_settings(
        epochs,
        batch_size,
        accumulate,
        lr,
        warmup_epochs,
        checkpoint_every,
        plan_dropout,
        latent_dropout,
    )
    dataset = Dataset(dataset_dir)
    embedding = embedding_record(dataset, expected_embedding_model, text_model)
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "accumulate": accumulate,
        "lr": lr,
        "warmup_epochs": warmup_epochs,
        "checkpoint_every": checkpoint_every,
        "seed": seed,
        "max_train_samples": max_train_samples,
        "max_val_samples": max_val_samples,
        "plan_dropout": plan_dropout,
        "latent_dropout": latent_dropout,
        "weight_decay": weight_decay,
        "grad_clip": grad_clip,
    }
    trainer = _Trainer(
        dataset, Path(out_dir), preset, settings, embedding, loss_weights or LossWeights(), resume
    )
    return trainer.run(progress, should_stop, on_checkpoint, threads, workers)
