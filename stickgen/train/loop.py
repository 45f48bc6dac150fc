"""`train()`: multi-task training with gradient accumulation, warmup + cosine learning rate,
validation each epoch, atomic checkpoints and exact resume; on the CPU or a GPU, in fp32 or bf16,
in one process or data-parallel over several (`stickgen.train.distributed`)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from stickgen.compute import (
    autocast,
    available_cores,
    resolve_device,
    resolve_precision,
    torch_threads,
)
from stickgen.data.store import Dataset
from stickgen.diffusion import UNGUIDED, Guidance, Sampler
from stickgen.errors import Cancelled, StickGenError
from stickgen.files import remove_temporaries
from stickgen.model import MotionStats, build_model, count_parameters, preset_config
from stickgen.progress import Progress, no_progress
from stickgen.schema import FPS
from stickgen.train.batches import (
    BatchReader,
    distinct_texts,
    epoch_order,
    prefetch,
    split_batches,
    subset,
    to_device,
    train_statistics,
)
from stickgen.train.checkpoint import (
    BEST,
    FORMAT,
    LAST,
    VERSION,
    epoch_checkpoint_name,
    load_checkpoint,
    load_weights,
    model_config,
    prune_epoch_checkpoints,
    save_checkpoint,
)
from stickgen.train.config import TrainConfig
from stickgen.train.curves import plot_loss_curve, write_metrics
from stickgen.train.distill import (
    DISTILL_SAMPLES,
    DISTILL_VAL_SAMPLES,
    Teacher,
    TeacherSamples,
    distillation_loss,
    distillation_times,
    teacher_gap,
)
from stickgen.train.distributed import (
    Ranks,
    Share,
    join_from_environment,
    launch,
    launch_spec,
    local_device,
)
from stickgen.train.guards import check_resume, embedding_record
from stickgen.train.losses import Draws, training_loss
from stickgen.train.metrics import validate_epoch
from stickgen.train.schedule import learning_rate

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

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainResult:
        paths = ("out_dir", "last_checkpoint", "best_checkpoint")
        return cls(**{k: Path(v) if k in paths and v else v for k, v in data.items()})


def _batch_seed(seed: int, epoch: int, batch: int) -> int:
    """RNG seed of one training batch's draws (`Draws`): its position only."""
    state = np.random.SeedSequence([seed, epoch, batch]).generate_state(1, dtype=np.uint64)[0]
    return int(state) & ((1 << 63) - 1)


@dataclass
class _Position:
    """Where a run stands: the next batch to train and what has been learnt so far."""

    epoch: int = 0  # next (or current) epoch, 0-based
    batch: int = 0  # next batch within that epoch
    step: int = 0  # optimizer steps taken
    loss_sum: float = 0.0  # this epoch's training loss so far (sum of batch means)
    loss_count: int = 0
    best_val_loss: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Trainer:
    """One training run in `out`: set up (fresh or from `last.pt`), then epochs until done."""

    def __init__(
        self,
        dataset: Dataset,
        out: Path,
        config: TrainConfig,
        embedding: dict[str, Any],
        resume: bool,
        device: torch.device,
        ranks: Ranks,
    ) -> None:
        self.dataset, self.out, self.embedding = dataset, out, embedding
        self.device, self.ranks = device, ranks
        self.last_path = out / LAST
        self.state = None
        if self.last_path.exists():
            if not resume:
                raise StickGenError(
                    f"{out} already holds a training run ({LAST}); resume it or use another "
                    "directory"
                )
            self.state = load_checkpoint(self.last_path)
        if ranks.main:
            remove_temporaries(out)  # what a writer killed mid-write left
        recorded = TrainConfig.from_dict(self.state["config"]["train"]) if self.state else None
        config = config.settled(recorded, resolve_precision("auto", device))
        self.teacher = Teacher.load(config.teacher) if config.teacher else None
        if self.teacher is not None:
            config = self._distillation_settings(config, self.teacher)
        if self.state is not None:
            check_resume(self.state, self.last_path, dataset, embedding, config)
            if source := (self.state.get("embedding") or {}).get("source"):
                embedding.setdefault("source", source)
        self.config = config
        self.train_idx = subset(
            dataset.split_indices("train"), config.max_train_samples, config.seed
        )
        self.val_idx = subset(dataset.split_indices("val"), config.max_val_samples, config.seed)
        if len(self.train_idx) == 0 or len(self.val_idx) == 0:
            raise StickGenError(
                f"dataset {dataset.path} needs samples in both the train and val splits "
                f"(has {len(self.train_idx)} train, {len(self.val_idx)} val)"
            )
        if config.batch_size < ranks.world:
            raise StickGenError(
                f"batch_size {config.batch_size} is smaller than the {ranks.world} processes"
            )
        self._build()
        # what the optimizer steps go over: the dataset's samples, or the teacher's clips of
        # them (sampled when the run starts, `_sample_teacher`)
        self.source: BatchReader | TeacherSamples = BatchReader(dataset)
        self.train_rows = self.train_idx
        if self.teacher is not None:
            if ranks.world > 1:
                raise StickGenError("a distillation runs in one process (nproc 1)")
            self.train_rows = np.arange(len(self.train_idx))
        batches = math.ceil(len(self.train_rows) / config.batch_size)
        self.steps_per_epoch = math.ceil(batches / config.accumulate)
        self.total_steps = config.epochs * self.steps_per_epoch
        self.warmup_steps = config.warmup * self.steps_per_epoch
        self.reader = BatchReader(dataset)

    def _distillation_settings(self, config: TrainConfig, teacher: Teacher) -> TrainConfig:
        """`config` with the teacher's preset and the distillation's sample limits, after
        checking that the dataset speaks the teacher's text model."""
        if self.embedding.get("model") != teacher.payload.get("embedding_model"):
            raise StickGenError(
                f"{self.dataset.path} was embedded with {self.embedding.get('model')!r}, the "
                f"teacher {teacher.path} with {teacher.payload.get('embedding_model')!r}"
            )
        if source := (teacher.payload.get("embedding") or {}).get("source"):
            self.embedding.setdefault("source", source)
        return replace(
            config,
            preset=teacher.preset,
            max_train_samples=config.max_train_samples or DISTILL_SAMPLES,
            max_val_samples=config.max_val_samples or DISTILL_VAL_SAMPLES,
        )

    def _build(self) -> None:
        """Model, statistics, optimizer and position: fresh, or exactly as saved in last.pt."""
        state, cfg = self.state, self.config
        if state is None and self.teacher is not None:
            self.model_config = self.teacher.model.config
            self.stats = self.teacher.stats
        elif state is None:
            self.model_config = preset_config(cfg.preset, self.embedding["dim"])
            self.stats = train_statistics(self.dataset, self.train_idx, cfg.seed)
        else:
            self.model_config = model_config(state, self.last_path)
            self.stats = MotionStats.from_dict(state["config"]["stats"])
        self.model = build_model(self.model_config, cfg.seed)
        guidance = UNGUIDED if self.teacher is not None else Guidance()
        self.model.sampler = Sampler(cfg.steps, guidance)
        if state is None and self.teacher is not None:
            self.model.load_state_dict(self.teacher.model.state_dict())
        elif state is None:
            self.model.set_text_statistics(distinct_texts(self.dataset, self.train_idx))
        else:
            load_weights(self.model, state["model"], self.last_path)
        self.model.to(self.device)
        self.stats = self.stats.to(self.device)
        params, decay = self.model.parameters(), cfg.weight_decay
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=decay, fused=True)
        self.position = _Position()
        if state is not None:
            self.optimizer.load_state_dict(state["optimizer"])
            self.position = _Position(**state["resume"])
        self.num_parameters = count_parameters(self.model)
        self.network: torch.nn.Module = self.model
        if self.ranks.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.network = DistributedDataParallel(self.model, device_ids=ids)

    # ---- running ---------------------------------------------------------------------------

    def run(
        self,
        progress: Progress,
        should_stop: Callable[[], bool] | None,
        on_checkpoint: Callable[[dict[str, Any]], None] | None,
    ) -> TrainResult:
        main = self.ranks.main
        self.progress = progress if main else no_progress
        self.should_stop = should_stop or (lambda: False)
        self.on_checkpoint = on_checkpoint if main else None
        self.progress(self.position.step, self.total_steps, "starting")
        if self.teacher is not None:
            self._sample_teacher()
        while self.position.epoch < self.config.epochs:
            started = time.perf_counter()
            self._train_epoch()
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
            preset=self.config.preset,
            history=self.position.history,
        )

    def _sample_teacher(self) -> None:
        """The teacher's clips for the train and val prompts (progress in clips)."""
        cfg, teacher = self.config, self.teacher
        assert teacher is not None
        self.source, self.val_samples = (
            TeacherSamples.sample(
                teacher, self.dataset, idx, cfg.plan_dropout, cfg.seed, self.device, progress
            )
            for idx, progress in ((self.train_idx, self.progress), (self.val_idx, no_progress))
        )
        teacher.model.cpu()  # the teacher's work is done
        self.progress(self.position.step, self.total_steps, "distilling")

    def _lr(self, step: int) -> float:
        total, warmup = self.total_steps, self.warmup_steps
        return learning_rate(step, base_lr=self.config.lr, warmup_steps=warmup, total_steps=total)

    def _shares(self, batches: list[np.ndarray]) -> Iterator[tuple[dict[str, Any], Share]]:
        """This rank's share of each global batch, read ahead in the background."""
        shares = (self.ranks.take(batch) for batch in batches)
        return prefetch((to_device(self.source.read(s.rows), self.device), s) for s in shares)

    def _train_epoch(self) -> None:
        """Train the rest of the current epoch, one optimizer step per `accumulate` batches."""
        pos, cfg, ranks = self.position, self.config, self.ranks
        batches = split_batches(epoch_order(self.train_rows, cfg.seed, pos.epoch), cfg.batch_size)
        self.network.train()
        self.optimizer.zero_grad(set_to_none=True)
        group_loss = 0.0
        for b, (batch, share) in enumerate(self._shares(batches[pos.batch :]), pos.batch):
            group_start = b - b % cfg.accumulate
            group_size = min(cfg.accumulate, len(batches) - group_start)
            generator = torch.Generator().manual_seed(_batch_seed(cfg.seed, pos.epoch, b))
            last_of_group = b + 1 - group_start == group_size
            sync = nullcontext() if last_of_group or ranks.world == 1 else self.network.no_sync()
            with sync:
                with autocast(self.device, cfg.precision):
                    loss = self._loss(batch, len(batches[b]), share, generator)
                (loss * share.weight / group_size).backward()
            group_loss += float(loss.detach()) * share.weight / ranks.world
            pos.batch = b + 1
            if not last_of_group:
                continue
            stop_now = float(self.should_stop())
            totals = ranks.sum(torch.tensor([group_loss, stop_now], dtype=torch.float64))
            pos.loss_sum += float(totals[0])
            pos.loss_count += group_size
            group_loss = 0.0
            for group in self.optimizer.param_groups:
                group["lr"] = self._lr(pos.step)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            pos.step += 1
            # the service reads the loss back from these messages (stickgen.progress.loss_in)
            message = f"epoch {pos.epoch + 1}/{cfg.epochs} loss {pos.loss_sum / pos.loss_count:.4f}"
            self.progress(pos.step, self.total_steps, message)
            if totals[1] > 0:
                self._save("last", self.last_path, pos.epoch, is_best=False)
                raise Cancelled(
                    f"training stopped at epoch {pos.epoch + 1}, step {pos.step}; "
                    f"{self.last_path} holds the state to resume from"
                )

    def _loss(
        self, batch: dict[str, Any], rows: int, share: Share, generator: torch.Generator
    ) -> torch.Tensor:
        """The loss of this rank's share of one global batch of `rows` rows, its draws taken
        from `generator`."""
        cfg = self.config
        if self.teacher is not None:
            t = distillation_times(rows, generator)[share.start : share.stop].to(self.device)
            return distillation_loss(self.network, batch, self.stats, cfg.loss_weights, t)[0]
        frames = batch["actions"].shape[1]
        draws = Draws.sample(rows, frames, cfg.plan_dropout, generator)
        draws = draws.rows(share.start, share.stop, self.device)
        return training_loss(self.network, batch, self.stats, cfg.loss_weights, draws)[0]

    def _end_epoch(self, seconds: float) -> None:
        """Validate, record the epoch, write the checkpoints and the curves."""
        pos, cfg, ranks = self.position, self.config, self.ranks
        epoch = pos.epoch + 1
        self.progress(pos.step, self.total_steps, f"epoch {epoch}/{cfg.epochs}: validating")
        start, stop = ranks.share(len(self.val_idx))
        with autocast(self.device, cfg.precision):
            metrics = validate_epoch(
                self.model,
                self.reader,
                self.val_idx[start:stop],
                self.stats,
                cfg.loss_weights,
                cfg.batch_size * cfg.accumulate,
                device=self.device,
                total=ranks.sum,
            )
            if self.teacher is not None:  # the student is judged against its teacher's clips
                metrics["val_denoising_loss"] = metrics["val_loss"]
                metrics["val_loss"] = teacher_gap(
                    self.model,
                    self.val_samples,
                    np.arange(len(self.val_samples)),
                    self.stats,
                    cfg.loss_weights,
                    cfg.batch_size * cfg.accumulate,
                    self.device,
                )
        row = {
            "epoch": epoch,
            "step": pos.step,
            "lr": self._lr(max(pos.step - 1, 0)),
            "train_loss": pos.loss_sum / max(pos.loss_count, 1),
            **metrics,
            "seconds": round(seconds, 3),
        }
        if ranks.world > 1:  # every rank must hold the same weights: 0 when they do
            checksum = sum(float(p.double().sum()) for p in self.model.parameters())
            row["weights_spread"] = ranks.spread(checksum)
        pos.history.append(row)
        is_best = pos.best_val_loss is None or metrics["val_loss"] < pos.best_val_loss
        if is_best:
            pos.best_val_loss = metrics["val_loss"]
        pos.epoch, pos.batch, pos.loss_sum, pos.loss_count = epoch, 0, 0.0, 0
        if epoch % cfg.checkpoint_every == 0 and cfg.keep_epoch_checkpoints != 0:
            self._save("epoch", self.out / epoch_checkpoint_name(epoch), epoch, is_best)
        if ranks.main:
            prune_epoch_checkpoints(self.out, cfg.keep_epoch_checkpoints)
        if is_best:
            self._save("best", self.out / BEST, epoch, True)
        self._save("last", self.last_path, epoch, is_best)
        if ranks.main:
            write_metrics(self.out, pos.history)
            if epoch % cfg.checkpoint_every == 0 or epoch == cfg.epochs:
                plot_loss_curve(self.out, pos.history)  # ~0.3 s: not after every short epoch
        self.progress(
            pos.step,
            self.total_steps,
            f"epoch {epoch}/{cfg.epochs} train {row['train_loss']:.4f} "
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
        """Rank 0 writes one checkpoint atomically, then tells `on_checkpoint` about it."""
        if not self.ranks.main:
            return
        payload = {
            "format": FORMAT,
            "version": VERSION,
            "model": self.model.state_dict(),
            "config": {
                "model": self.model_config.to_dict(),
                "stats": self.stats.to_dict(),
                "fps": FPS,
                "frames": self.dataset.frames,
                "train": self.config.to_dict(),
                "sampler": self.model.sampler.to_dict(),
            },
            "parent": self.teacher.record() if self.teacher is not None else None,
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
                    "preset": self.config.preset,
                    "num_parameters": self.num_parameters,
                }
            )


def train(
    dataset_dir: str | Path,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    device: str = "auto",
    nproc: int = 1,
    threads: int | None = None,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
    on_checkpoint: Callable[[dict[str, Any]], None] | None = None,
    expected_embedding_model: str | None = None,
    text_model: str | Path | None = None,
) -> TrainResult:
    """Train a text-to-motion model on `dataset_dir` as `config` says, into `out_dir`.

    One optimizer step = `accumulate` batches of `batch_size` (with several processes each takes
    its share of every batch); warmup then cosine decay, counted in steps; each epoch ends with
    validation on the `val` split (`stickgen.train.metrics`). Files: `last.pt` (every epoch and
    on stop), `best.pt` (lowest val_loss), `checkpoint_epoch_N.pt` every `checkpoint_every`
    epochs (the newest `keep_epoch_checkpoints` of them kept), `metrics.jsonl`,
    `loss_curve.png`; `on_checkpoint(info)` runs after each file is in place. `should_stop()`
    is polled after every step: when true, `last.pt` is saved and `Cancelled` raised.
    `resume=True` continues from `last.pt` (an existing one is refused without it) and reaches
    the same weights as an uninterrupted run in the same precision: every draw depends only on
    (seed, epoch, batch); `epochs` may change (the schedule stretches).

    `device` ("auto", "cpu", "cuda", "cuda:N") and `config.precision` say where and how to
    compute; `nproc` > 1 trains data-parallel in that many local processes (`stickgen.train.
    distributed`), `threads` torch threads each (default: a share of the cores); under a
    `torchrun`-style launcher this process joins its group. `text_model` (the dataset's
    embedding model, by hub name or directory) is recorded for inference.
    """
    config = config or TrainConfig()
    dataset = Dataset(dataset_dir)
    embedding = embedding_record(dataset, expected_embedding_model, text_model)
    chosen = resolve_device(device)
    if nproc < 1:
        raise StickGenError(f"nproc must be at least 1, got {nproc}")
    if nproc > 1:
        options = dict(resume=resume, device=device, threads=threads, text_model=text_model,
                       expected_embedding_model=expected_embedding_model)  # fmt: skip
        spec = launch_spec(dataset_dir, out_dir, config, nproc, **options)
        return TrainResult.from_dict(launch(spec, nproc, progress, should_stop, on_checkpoint))
    chosen = local_device(chosen)
    ranks = join_from_environment(chosen)
    local_ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))  # this machine's share
    with torch_threads(threads or available_cores() // local_ranks):
        trainer = _Trainer(dataset, Path(out_dir), config, embedding, resume, chosen, ranks)
        return trainer.run(progress, should_stop, on_checkpoint)
