"""Distillation: a few-step sampler learnt from a trained model's many-step guided one.

The teacher (a trained checkpoint, the parent) samples one clip for each of some prompts and
plans of a dataset's train and val splits with its own sampler (20 DDIM steps, guidance 2): the
clip's starting noise x_1 and the teacher's final prediction E (normalised pose, root, velocity,
physics, and the argmax of its action logits). The student starts from the teacher's weights and
is trained with the ordinary loss on that coupling: the clip is E and its noise is its own x_1,
not a fresh draw, so from any point sqrt(a(t)) E + sqrt(1 - a(t)) x_1 of the path between them
it learns to predict E. A student that had learnt it exactly would predict E at every DDIM step,
so 1, 2 or 4 steps would all give the teacher's clip: one student serves every step count (at
t = 1 this is one-step distillation, Luhman & Luhman 2021; training a denoiser on its own
sampler's noise-clip pairs is reflow, Liu et al. 2022). The teacher's guidance is learnt into the
weights (Meng et al. 2023), so the student samples with one pass per step, unguided.

Why not the alternatives: progressive distillation (Salimans & Ho 2022) needs one training round
per halving of the steps (20 -> 10 -> 5, and 5 does not halve) and gives one student per step
count; consistency distillation (Song et al. 2023) learns from its own slowly moving target
network and needs many more optimizer steps than the few CPU minutes a distillation gets here.
Here the teacher's expensive sampling is done once, up front, and what is left is ordinary
supervised training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from stickgen import diffusion
from stickgen.data.store import Dataset
from stickgen.errors import StickGenError
from stickgen.model import MotionStats, StickGenModel, compose_motion, motion_features
from stickgen.progress import Progress, no_progress
from stickgen.train.batches import BatchReader, split_batches
from stickgen.train.checkpoint import load_checkpoint, model_from_checkpoint
from stickgen.train.losses import LossWeights, multitask_loss

DISTILL_SAMPLES = 1024  # teacher clips of the train split when the settings give no limit
DISTILL_VAL_SAMPLES = 64  # and of the val split
START_SHARE = 0.25  # share of training rows at t = 1: the first step every sampler takes
TEACHER_BATCH = 32
TARGETS = ("pose", "root", "velocity", "physics")


@dataclass
class Teacher:
    """The parent checkpoint: its model (eval mode), statistics and what a child records."""

    path: Path
    payload: dict[str, Any]
    model: StickGenModel
    stats: MotionStats

    @classmethod
    def load(cls, path: str | Path) -> Teacher:
        where = Path(path).expanduser().resolve()
        payload = load_checkpoint(where)
        if payload.get("parent"):
            raise StickGenError(
                f"{where} is itself distilled; distil the model it was distilled from"
            )
        model, stats = model_from_checkpoint(payload, where)
        return cls(where, payload, model, stats)

    @property
    def preset(self) -> str:
        return str(self.payload["config"]["train"]["preset"])

    def record(self) -> dict[str, Any]:
        """The child checkpoint's `parent` entry."""
        return {
            "path": str(self.path),
            "epoch": self.payload.get("epoch"),
            "step": self.payload.get("step"),
            "val_loss": self.payload.get("val_loss"),
            "sampler": self.model.sampler.to_dict(),
            "dataset_id": self.payload.get("dataset_id"),
        }


def _draw_seed(seed: int, index: int) -> int:
    state = np.random.SeedSequence([seed, 0xD157, int(index)]).generate_state(1, dtype=np.uint64)
    return int(state[0]) & ((1 << 63) - 1)


class TeacherSamples:
    """The teacher's clips for dataset samples `index` (rows 0..n-1), read like a dataset:
    `read(rows)` gives `text`, `plan` (the plan the teacher followed, "no plan" where dropped),
    `noise` (its x_1), the normalised targets of `TARGETS` and `actions` (argmax labels)."""

    def __init__(self, index: np.ndarray, arrays: dict[str, Tensor]) -> None:
        self.index = np.asarray(index, dtype=np.int64)
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.index)

    def read(self, rows: np.ndarray) -> dict[str, Tensor]:
        rows_t = torch.from_numpy(np.sort(np.asarray(rows, dtype=np.int64)))
        return {name: value[rows_t] for name, value in self.arrays.items()}

    @classmethod
    @torch.inference_mode()
    def sample(
        cls,
        teacher: Teacher,
        dataset: Dataset,
        index: np.ndarray,
        plan_dropout: float,
        seed: int,
        device: torch.device,
        progress: Progress = no_progress,
        batch_size: int = TEACHER_BATCH,
    ) -> TeacherSamples:
        """Sample the teacher (its own sampler, fp32) for the dataset samples `index`: each
        sample's noise and whether its plan is dropped (share `plan_dropout`) are drawn from
        (seed, its index) alone, so the same settings give the same clips."""
        index = np.sort(np.asarray(index, dtype=np.int64))
        reader = BatchReader(dataset)
        model = teacher.model.to(device)
        parts: dict[str, list[Tensor]] = {}
        for chunk in split_batches(index, batch_size):
            batch = reader.read(chunk)
            frames = batch["actions"].shape[1]
            noises, drops = [], []
            for sample in chunk.tolist():
                draw = torch.Generator().manual_seed(_draw_seed(seed, sample))
                drops.append(bool(torch.rand(1, generator=draw) < plan_dropout))
                noises.append(torch.randn(model.noise_shape(1, frames), generator=draw))
            noise = torch.cat(noises)
            plan = torch.where(torch.tensor(drops)[:, None], model.no_plan, batch["actions"])
            out = model.generate(batch["text"].to(device), plan.to(device), noise=noise.to(device))
            values = {
                "text": batch["text"],
                "plan": plan,
                "noise": noise,
                **{name: out[name].float().cpu() for name in TARGETS},
                "actions": out["actions"].argmax(dim=-1).cpu(),
            }
            for name, value in values.items():
                parts.setdefault(name, []).append(value)
            done = sum(len(v) for v in parts["text"])
            progress(done, len(index), f"teacher sampling {done}/{len(index)}")
        return cls(index, {name: torch.cat(values) for name, values in parts.items()})


def distillation_times(rows: int, generator: torch.Generator) -> Tensor:
    """Noise times `[rows]` of one training batch: uniform in [0, 1], and 1 on a share
    `START_SHARE` of the rows (every sampler's first step starts from x_1 alone)."""
    t = torch.rand(rows, generator=generator)
    start = torch.rand(rows, generator=generator) < START_SHARE
    return torch.where(start, torch.ones_like(t), t)


def _clip(batch: dict[str, Tensor], stats: MotionStats) -> tuple[dict[str, Tensor], dict]:
    """The teacher's clip as `multitask_loss` targets and as the batch it reads motion from."""
    tgt = {name: batch[name] for name in (*TARGETS, "actions")}
    motion = compose_motion(
        stats.denormalize("pose", tgt["pose"]), stats.denormalize("root", tgt["root"])
    )
    return tgt, {"motion": motion}


def distillation_loss(
    model: StickGenModel | torch.nn.Module,
    batch: dict[str, Tensor],
    stats: MotionStats,
    weights: LossWeights,
    t: Tensor,
) -> tuple[Tensor, dict[str, float]]:
    """The training loss on the teacher's coupling (see the module docstring): the teacher's
    clip noised to `t` `[B]` with its own noise, predicted from text and plan, scored with
    `multitask_loss` against that clip."""
    tgt, clip = _clip(batch, stats)
    noisy = diffusion.add_noise(motion_features(tgt), t, batch["noise"])
    outputs = model(noisy, t, batch["text"], batch["plan"])
    return multitask_loss(outputs, clip, stats, weights, tgt=tgt)


@torch.inference_mode()
def teacher_gap(
    model: StickGenModel,
    samples: TeacherSamples,
    rows: np.ndarray,
    stats: MotionStats,
    weights: LossWeights,
    batch_size: int,
    device: torch.device,
) -> float:
    """Mean `multitask_loss` of the student's clips (its own sampler, the teacher's noise)
    against the teacher's clips on `rows`: deterministic, 0 for a perfect student."""
    total, count = 0.0, 0
    for chunk in split_batches(np.sort(np.asarray(rows)), batch_size):
        batch = {k: v.to(device) for k, v in samples.read(chunk).items()}
        out = model.generate(batch["text"], batch["plan"], noise=batch["noise"])
        tgt, clip = _clip(batch, stats)
        loss, _ = multitask_loss(out, clip, stats, weights, tgt=tgt)
        total += float(loss) * len(chunk)
        count += len(chunk)
    return total / max(count, 1)
