"""Learned inference: a trained checkpoint turns a planned `Scene` into a `MotionClip`.

    scene.description --Embedder (the checkpoint's text model)--> embedding
    scene.action_track() (actor 0) ---------------------------------> plan
    model.generate(embedding, plan, noise) -> pose + root -> motion [T, 20]
                                           -> action logits -> actions [T]

T comes from `scene.duration`. The motion is made rigid with `constant_segment_lengths`, so it
keeps the 5-segment contract, and a figure doing an action that does not travel keeps its hip
where it is (`hold_in_place`); physics is recomputed from that final motion with
`physics_from_motion` (so it always agrees with what is drawn; the model's physics head is an
auxiliary training target only).

What the text and plan leave open (phase, tempo, style of the motion; see `stickgen.model`) comes
from the diffusion model's starting noise, a standard normal draw seeded with `seed`;
`seed=None` gives the typical clip (`StickGenModel.generate`). The same scene and seed always give
the same clip. `LearnedGenerator.generate_batch` serves inference and the evaluation alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stickgen.compute import autocast, resolve_device, resolve_precision, torch_threads
from stickgen.diffusion import Guidance
from stickgen.errors import NotFoundError, StickGenError
from stickgen.export import is_export, read_export
from stickgen.model import TYPICAL_NOISE_SEED, MotionStats, StickGenModel, predicted_motion
from stickgen.physics import physics_from_motion
from stickgen.schema import FPS, TRAVELS, MotionClip, Scene, checked_duration
from stickgen.skeleton import TORSO, as_segments, segment_lengths
from stickgen.train.checkpoint import load_checkpoint, model_from_checkpoint

# One clip (the CLI, /v1/animate) samples on one CPU thread: intra-op threads cost more than they
# give for batch-1 sampling on a small machine shared with other work (measured on the 2-core
# development machine under load: `base`, 250 frames, 0.95 s on 1 thread against 10-25 s on 2;
# `small` 0.29 s against 2.8-3.4 s). Batches (the evaluation) keep the caller's threads.
CLIP_THREADS = 1


def constant_segment_lengths(motion: np.ndarray) -> np.ndarray:
    """Rebuild `[T, 20]` motion as a rigid, connected figure.

    Each segment keeps its predicted direction per frame but gets one length for the whole clip,
    the median of its predicted lengths. Joints are chained from the hip (the root): neck =
    hip + torso; arms start at the neck, legs at the hip. A degenerate direction (zero length)
    falls back to straight up for the torso and straight down for the limbs.
    """
    motion = np.asarray(motion, dtype=np.float64)
    seg = as_segments(motion)
    lengths = np.median(segment_lengths(motion), axis=0)  # [5]

    def direction(k: int, fallback: tuple[float, float]) -> np.ndarray:
        vec = seg[:, k, 1] - seg[:, k, 0]
        norm = np.linalg.norm(vec, axis=-1, keepdims=True)
        return np.where(norm > 1e-6, vec / np.maximum(norm, 1e-6), np.array(fallback))

    hip = seg[:, 0, 1]
    neck = hip - lengths[0] * direction(0, (0.0, -1.0))  # torso runs neck -> hip
    out = np.empty_like(seg)
    out[:, 0, 0], out[:, 0, 1] = neck, hip
    for k, start in ((1, neck), (2, neck), (3, hip), (4, hip)):
        out[:, k, 0] = start
        out[:, k, 1] = start + lengths[k] * direction(k, (0.0, -1.0))
    return out.reshape(-1, 20).astype(np.float32)


HOLD_SMOOTHING = 9  # frames: the correction is averaged over this window


def hold_in_place(motion: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """`[T, 20]` motion whose hip does not travel while `actions` `[T]` do not.

    The story engine keeps the hip where it is during an action without a travel speed (the feet
    move instead, as when the figure sits or lies down); a model's hip drifts there. Each such
    frame's horizontal hip step is undone by shifting the whole figure along x; the shifts add up
    and are averaged over `HOLD_SMOOTHING` frames, so nothing jumps where travel starts or stops.
    Travelling frames keep the model's own root motion.
    """
    motion = np.asarray(motion, dtype=np.float32)
    if len(motion) < 2:
        return motion
    still = ~TRAVELS[np.asarray(actions)]
    hip_x = as_segments(motion)[:, TORSO, 1, 0]  # the torso's far end
    shift = np.concatenate([[0.0], -np.cumsum(np.where(still[1:], np.diff(hip_x), 0.0))])
    half = HOLD_SMOOTHING // 2
    shift = np.convolve(np.pad(shift, half, mode="edge"), np.ones(HOLD_SMOOTHING), "valid")
    out = motion.copy()
    out[:, 0::2] += (shift / HOLD_SMOOTHING)[:, None].astype(np.float32)
    return out


@lru_cache(maxsize=2)
def _embedder(source: str, device: str, revision: str | None) -> Any:
    from stickgen.embed import Embedder

    # prompts come one at a time: one thread, and no sentence-transformers import where the
    # text model is a local plain BERT (`stickgen.embed.bert`)
    return Embedder(source, device=device, threads=CLIP_THREADS, light=True, revision=revision)


def _usable(source: str | None) -> bool:
    """A hub name, or a path that exists on this machine."""
    if not source:
        return False
    looks_like_path = source.startswith((".", "/", "~")) or source.count("/") > 1
    return not looks_like_path or Path(source).expanduser().exists()


def _text_model_source(payload: dict[str, Any], override: str | Path | None, where: Path) -> str:
    """Where to load the checkpoint's text model from: the caller's choice, the source recorded
    at training, or the model id itself when it is a hub name."""
    if override:
        return str(override)
    record = payload.get("embedding") or {}
    model_id = payload.get("embedding_model")
    if _usable(record.get("source")):
        return str(record["source"])
    if model_id and "@" not in model_id:  # a hub name loads by itself
        return str(model_id)
    raise StickGenError(
        f"{where} was trained with the local text model {model_id!r} and its directory is not "
        "known here; name it (text model option)"
    )


@dataclass
class LearnedGenerator:
    """A trained model, its normalisation statistics and its text model, ready to generate."""

    model: StickGenModel
    stats: MotionStats
    embedder: Any
    checkpoint: Path
    fps: int = FPS
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    precision: str = "fp32"

    @property
    def text_dim(self) -> int:
        return self.model.config.text_dim

    def embed(self, texts: list[str]) -> torch.Tensor:
        """`[B, D]` embeddings of `texts` with the checkpoint's text model."""
        vectors = np.asarray(self.embedder.encode(list(texts)), dtype=np.float32)
        if vectors.shape != (len(texts), self.text_dim):
            raise StickGenError(
                f"text model gives {vectors.shape[-1]}-d embeddings, {self.checkpoint} expects "
                f"{self.text_dim}-d"
            )
        return torch.from_numpy(vectors)

    def noise(self, seed: int | None, frames: int) -> torch.Tensor:
        """The standard normal draw `[1, frames, F]` behind a clip for `seed` (None: the draw of
        the typical clip, see `StickGenModel.generate`)."""
        seed = TYPICAL_NOISE_SEED if seed is None else int(seed)
        size = self.model.noise_shape(1, frames)
        return torch.randn(size, generator=torch.Generator().manual_seed(seed))

    @torch.inference_mode()
    def generate_batch(
        self,
        text: torch.Tensor,
        plan: torch.Tensor | None,
        seeds: Sequence[int | None],
        frames: int | None = None,
        guidance: float | Guidance | None = None,
        steps: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rigid motion `[B, T, 20]` and per-frame actions `[B, T]` for text embeddings
        `[B, D]`, a plan `[B, T]` (None: text alone, `frames` long) and one seed per row,
        sampled with `steps` and `guidance` (None: the checkpoint's sampler)."""
        frames = plan.shape[1] if plan is not None else frames
        if frames is None:
            raise StickGenError("give an action plan or a number of frames")
        noise = torch.cat([self.noise(seed, frames) for seed in seeds]).to(self.device)
        plan = plan.to(self.device) if plan is not None else None
        with autocast(self.device, self.precision):
            outputs = self.model.generate(
                text.to(self.device), plan, noise=noise, steps=steps, guidance=guidance
            )
        motion = predicted_motion(outputs, self.stats).float().cpu().numpy()
        actions = outputs["actions"].argmax(dim=-1).cpu().numpy().astype(np.int64)
        rigid = [constant_segment_lengths(clip) for clip in motion]
        return np.stack([hold_in_place(m, a) for m, a in zip(rigid, actions, strict=True)]), actions

    def request(self, scene: Scene) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        """What `generate_batch` needs for actor 0 of `scene`: its text embedding `[1, D]`, its
        plan `[1, T]` (None without actors) and its number of frames."""
        if not scene.description.strip():
            raise StickGenError("the scene has no description to generate from")
        checked_duration(scene.duration)
        frames = scene.num_frames(self.fps)
        if frames < 1:
            raise StickGenError(f"a {scene.duration} s scene has no frames at {self.fps} fps")
        plan = torch.from_numpy(scene.action_track(0, self.fps))[None] if scene.actors else None
        return self.embed([scene.description]), plan, frames

    def clip(self, motion: np.ndarray, actions: np.ndarray) -> MotionClip:
        """One row of `generate_batch` as a `MotionClip` (physics from the final motion)."""
        return MotionClip(motion, actions, physics_from_motion(motion, self.fps), self.fps)

    def generate(self, scene: Scene, seed: int | None = None) -> MotionClip:
        """Actor 0 of `scene` as a `MotionClip` (see the module docstring)."""
        text, plan, frames = self.request(scene)
        threads = torch_threads(CLIP_THREADS) if self.device.type == "cpu" else nullcontext()
        with threads:
            motion, actions = self.generate_batch(text, plan, [seed], frames=frames)
        return self.clip(motion[0], actions[0])


def checkpoint_file(checkpoint: str | Path) -> Path:
    """The absolute path of an existing checkpoint file or export folder (`stickgen.export`);
    NotFoundError otherwise."""
    path = Path(checkpoint).expanduser().resolve()
    if not (path.is_file() or is_export(path)):
        raise NotFoundError(f"no checkpoint or export at {checkpoint}")
    return path


def read_generator(
    checkpoint: str | Path,
    text_model: str | Path | None = None,
    device: str = "auto",
    precision: str = "fp32",
) -> LearnedGenerator:
    """Load a checkpoint for inference, uncached (see `load_generator`)."""
    where = checkpoint_file(checkpoint)
    payload = read_export(where) if where.is_dir() else load_checkpoint(where)
    model, stats = model_from_checkpoint(payload, where)
    source = _text_model_source(payload, str(text_model) if text_model else None, where)
    chosen = resolve_device(device)
    # a hub model loads at the commit it was trained with (a local folder's id has its hash)
    revision = (payload.get("embedding") or {}).get("revision")
    embedder = _embedder(source, str(chosen), revision)
    expected = payload.get("embedding_model")
    if embedder.model_id != expected:
        raise StickGenError(
            f"{where} was trained with text model {expected!r} but {source!r} is "
            f"{embedder.model_id!r}; embeddings from different models are not comparable"
        )
    if embedder.dim != model.config.text_dim:
        raise StickGenError(
            f"{where} expects {model.config.text_dim}-d text embeddings, "
            f"{embedder.model_id} gives {embedder.dim}-d"
        )
    fps = int(payload.get("config", {}).get("fps", FPS))
    model.to(chosen)
    return LearnedGenerator(
        model, stats.to(chosen), embedder, where, fps, chosen, resolve_precision(precision, chosen)
    )


@lru_cache(maxsize=4)
def _load_cached(
    path: str, mtime_ns: int, text_model: str | None, device: str, precision: str
) -> LearnedGenerator:
    return read_generator(path, text_model, device, precision)


def load_generator(
    checkpoint: str | Path,
    text_model: str | Path | None = None,
    device: str = "auto",
    precision: str = "fp32",
) -> LearnedGenerator:
    """Load a checkpoint (or an export folder) for inference (strict weights) on `device`,
    cached per path and modification time.

    The text model is the one the checkpoint records; `text_model` names where to load it from
    when the checkpoint has no loadable reference, and must be the same model (same id) either
    way. `precision` "bf16" (or "auto" where native) samples under bfloat16 autocast.
    """
    path = checkpoint_file(checkpoint)
    return _load_cached(
        str(path),
        path.stat().st_mtime_ns,
        str(text_model) if text_model else None,
        device,
        precision,
    )
