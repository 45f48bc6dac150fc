"""The text-to-motion model: a diffusion denoiser over whole clips, conditioned on a sentence
embedding and an optional per-frame action plan.

Training noises a clip's normalised features x0 to a random time t (`stickgen.diffusion`) and the
network predicts the clean clip, scored by the multi-task loss; generation runs DDIM from noise,
so each draw commits to one phase and tempo of a cyclic motion (a deterministic regressor
averages them into a stiff, sliding figure). A learned "no text" condition and a "no plan" token
allow classifier-free guidance over both.

Layout (frames T, patch P, tokens N = ceil(T / P)); `condition` computes what stays the same
across denoising steps, `denoise` runs once per step:

    condition:  plan [B, T] --embedding + timing within each action--> --strided conv (P)-->
                    plan tokens [B, N, d] (+ sinusoidal positions of frame time)
                text [B, D] --standardise--MLP--> text condition [B, d] ("no text" where dropped)
    denoise:    cond = text condition + MLP(t)
                tokens = FiLM(cond)(plan tokens + strided conv of x_t [B, T, 24]) + cond
                [cond ; tokens] --transformer encoder--> --linear unpatchify--> [B, T, C]
                    + plan skip + x_t skip + segment-clock waves * gain(cond) --conv blocks-->
                heads: pose [T, 20], root [T, 2], velocity [T, 2], action logits [T, A]
                    (+ the plan's action bias), physics [T, 6]

`SegmentClock` oscillators restart with every planned action at rates set by plan, condition and
the action's length, so a stride has a clock to lock onto. The text is standardised with training
statistics (`set_text_statistics`) so that similar prompts still differ. Frames without a plan
carry the "no plan" token (id `num_actions`). Positions are sinusoids of the frame index, so clips
of other durations work at inference.

Every regression head predicts targets normalised with train-split statistics (`MotionStats`).
The motion representation (`split_motion` / `compose_motion`): root = hip (end of the torso
segment), pose = the 20 coordinates minus the root, final motion = root + pose, where the
generated root takes its height from the position head and its travel from the integrated
velocity head (`predicted_root`). `stickgen.infer` then makes the segment lengths constant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from stickgen import diffusion
from stickgen.diffusion import Guidance, Sampler
from stickgen.errors import StickGenError, refuse_unknown_keys
from stickgen.schema import FPS, MOTION_DIM, NUM_ACTIONS, PHYSICS_DIM

NO_PLAN = NUM_ACTIONS  # id of the learned "no plan" token for this Stick-Gen's actions
ROOT_COLUMNS = (2, 3)  # hip = end point of the torso segment
TYPICAL_NOISE_SEED = 0  # diffusion's starting noise when a caller gives none
T_SCALE = 1000.0  # diffusion time t in [0, 1] is embedded as the position t * T_SCALE
PLAN_BIAS_GAIN = 10.0  # scale of the plan's action-logit bias (Adam moves its weights ~lr/step)
RHYTHM_HZ = (0.2, 5.0)  # frequency range of the segment clock (gaits, waves, hops)
OSCILLATORS = 16


@dataclass(frozen=True)
class ModelConfig:
    """Architecture hyper-parameters; `text_dim` comes from the dataset's embedding model."""

    text_dim: int
    d_model: int
    layers: int
    heads: int
    ff_dim: int
    plan_dim: int
    decoder_channels: int
    decoder_blocks: int
    patch: int = 5
    dropout: float = 0.0
    num_actions: int = NUM_ACTIONS
    oscillators: int = OSCILLATORS  # `SegmentClock` size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        refuse_unknown_keys(data, cls, "model config keys")
        return cls(**data)


# Named sizes. `base` is the plan's ~15.5M-parameter model; `small` is for quick runs; `tiny` for
# unit tests. Counts depend slightly on text_dim (see `count_parameters`).
PRESETS: dict[str, dict[str, int]] = {
    "tiny": dict(
        d_model=64, layers=2, heads=4, ff_dim=128, plan_dim=16, decoder_channels=48,
        decoder_blocks=1,
    ),
    "small": dict(
        d_model=192, layers=4, heads=6, ff_dim=768, plan_dim=32, decoder_channels=128,
        decoder_blocks=2,
    ),
    "base": dict(
        d_model=384, layers=8, heads=8, ff_dim=1384, plan_dim=64, decoder_channels=160,
        decoder_blocks=2,
    ),
}  # fmt: skip


def preset_config(preset: str, text_dim: int) -> ModelConfig:
    """The `ModelConfig` of a named preset for a text embedding of `text_dim` floats."""
    if preset not in PRESETS:
        raise StickGenError(f"unknown model preset {preset!r}; expected one of {sorted(PRESETS)}")
    if text_dim <= 0:
        raise StickGenError(f"text embedding dimension must be positive, got {text_dim}")
    return ModelConfig(text_dim=text_dim, **PRESETS[preset])


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def segment_timing(plan: Tensor, fps: float = FPS) -> tuple[Tensor, Tensor]:
    """For each frame of `plan [B, T]`: seconds since its run of equal action ids began, and
    that run's length in seconds (both `[B, T]`). Without a plan the run is the whole clip."""
    batch, frames = plan.shape
    index = torch.arange(frames, device=plan.device).expand(batch, frames)
    first = torch.ones_like(plan, dtype=torch.bool)
    first[:, 1:] = plan[:, 1:] != plan[:, :-1]
    last = torch.ones_like(plan, dtype=torch.bool)
    last[:, :-1] = first[:, 1:]
    start = torch.where(first, index, 0).cummax(dim=1).values
    end = torch.where(last, index, frames - 1).flip(1).cummin(dim=1).values.flip(1)
    return (index - start).float() / fps, (end - start + 1).float() / fps


TIMING_FEATURES = 3


def timing_features(since: Tensor, length: Tensor) -> Tensor:
    """`[B, T, 3]` from `segment_timing`: share of its action's run each frame has reached
    (0..1), seconds since the run began and the run's length in seconds (both / 10)."""
    return torch.stack([since / length, since / 10.0, length / 10.0], dim=-1)


class SegmentClock(nn.Module):
    """Oscillators for cyclic motion that restart with every planned action.

    Oscillator k runs at `base_k * exp(rate_k)` Hz, its rate set per frame from that frame's plan
    entry, the condition (text + t) and the log length of the action's run, and has a phase
    offset from the condition: features sin/cos(2 pi (seconds since the run began * Hz + offset))
    `[B, T, 2K]`. Gaits and gestures are cycles that start with their action, at a tempo and phase
    that differ per clip and, for repeated gestures, fit a whole number of times into the action.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        k = cfg.oscillators
        hz = torch.logspace(math.log10(RHYTHM_HZ[0]), math.log10(RHYTHM_HZ[1]), k)
        self.register_buffer("base_hz", hz, persistent=False)
        self.rate = nn.Linear(cfg.plan_dim + cfg.d_model + 1, k)
        self.offset = nn.Linear(cfg.d_model, k)
        for layer in (self.rate, self.offset):  # start at the base rates, phase 0
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, plan_features: Tensor, since: Tensor, length: Tensor, cond: Tensor) -> Tensor:
        frames = plan_features.shape[1]
        inputs = torch.cat(
            [plan_features, cond[:, None, :].expand(-1, frames, -1), length.log()[..., None]],
            dim=-1,
        )
        hz = self.base_hz * self.rate(inputs).clamp(-3.0, 3.0).exp()  # [B, T, K]
        turns = since[..., None] * hz + self.offset(cond)[:, None, :]
        angles = 2 * math.pi * turns
        return torch.cat([angles.sin(), angles.cos()], dim=-1)


def sinusoidal_positions(positions: Tensor, dim: int) -> Tensor:
    """`[..., dim]` sine/cosine features of (fractional) frame positions `[...]`."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(10_000.0)
        * torch.arange(half, dtype=torch.float32, device=positions.device)
        / half
    )
    angles = positions.float()[..., None] * freqs
    out = torch.cat([angles.sin(), angles.cos()], dim=-1)
    return F.pad(out, (0, dim - 2 * half))


class ConvBlock(nn.Module):
    """Residual temporal convolution over frames: smooths patch borders, adds local detail."""

    def __init__(self, channels: int, kernel: int = 5) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(1, channels)
        self.conv1 = nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
        self.conv2 = nn.Conv1d(channels, channels, kernel, padding=kernel // 2)

    def forward(self, x: Tensor) -> Tensor:  # [B, C, T]
        return x + self.conv2(F.gelu(self.conv1(F.gelu(self.norm(x)))))


MOTION_FEATURES = MOTION_DIM + 4  # normalised pose (20), root (2), root velocity (2)


def motion_features(values: dict[str, Tensor]) -> Tensor:
    """`[B, T, 24]` normalised pose, root and root velocity of a targets or outputs dict: what
    diffusion noises."""
    return torch.cat([values["pose"], values["root"], values["velocity"]], dim=-1)


@dataclass(frozen=True)
class Conditioning:
    """What text and plan contribute to every denoising step (`StickGenModel.condition`)."""

    text: Tensor  # [B, d] text condition ("no text" on dropped rows)
    plan_tokens: Tensor  # [B, N, d] patchified plan + timing, with positions
    plan_features: Tensor  # [B, T, plan_dim]
    plan_skip: Tensor  # [B, T, C]
    since: Tensor  # [B, T] seconds into each planned action
    length: Tensor  # [B, T] that action's length, seconds
    action_bias: Tensor  # [B, T, A] the plan's action-logit bias

    @property
    def frames(self) -> int:
        return self.plan_features.shape[1]

    def repeat(self, n: int) -> Conditioning:
        """The same conditioning for n copies of the batch (stacked along the batch)."""
        return Conditioning(*(torch.cat([v] * n) for v in self.__dict__.values()))


class StickGenModel(nn.Module):
    """Multi-task text(+plan)-to-motion denoiser; see the module docstring."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        self.sampler = Sampler()  # what `generate` does by default (a checkpoint's record)
        self.no_plan = cfg.num_actions
        self.register_buffer("text_mean", torch.zeros(cfg.text_dim))
        self.register_buffer("text_scale", torch.ones(()))
        self.plan_embedding = nn.Embedding(cfg.num_actions + 1, cfg.plan_dim)
        # zero at first; scaled by PLAN_BIAS_GAIN so it is learnt fast
        self.plan_action_logits = nn.Embedding(cfg.num_actions + 1, cfg.num_actions)
        nn.init.zeros_(self.plan_action_logits.weight)
        self.patchify = nn.Conv1d(
            cfg.plan_dim + TIMING_FEATURES, cfg.d_model, kernel_size=cfg.patch, stride=cfg.patch
        )
        self.text_mlp = nn.Sequential(
            nn.Linear(cfg.text_dim, cfg.d_model), nn.GELU(), nn.Linear(cfg.d_model, cfg.d_model)
        )
        self.film = nn.Linear(cfg.d_model, 2 * cfg.d_model)  # FiLM of the positioned tokens
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.noisy_tokens = nn.Conv1d(
            MOTION_FEATURES, cfg.d_model, kernel_size=cfg.patch, stride=cfg.patch
        )
        self.noisy_skip = nn.Linear(MOTION_FEATURES, cfg.decoder_channels)
        self.t_mlp = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.d_model), nn.GELU(), nn.Linear(cfg.d_model, cfg.d_model)
        )
        self.null_text = nn.Parameter(torch.zeros(cfg.d_model))  # "no text", for guidance
        self.prefix = nn.Parameter(torch.zeros(cfg.d_model))
        layer = nn.TransformerEncoderLayer(
            cfg.d_model,
            cfg.heads,
            cfg.ff_dim,
            cfg.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(cfg.d_model)
        self.unpatchify = nn.Linear(cfg.d_model, cfg.patch * cfg.decoder_channels)
        self.plan_skip = nn.Linear(cfg.plan_dim, cfg.decoder_channels)
        self.clock = SegmentClock(cfg)
        self.rhythm = nn.Linear(2 * cfg.oscillators, cfg.decoder_channels, bias=False)
        self.rhythm_gain = nn.Linear(cfg.d_model, cfg.decoder_channels)
        self.decoder = nn.Sequential(
            *(ConvBlock(cfg.decoder_channels) for _ in range(cfg.decoder_blocks))
        )
        self.out_norm = nn.GroupNorm(1, cfg.decoder_channels)
        self.heads = nn.ModuleDict(
            {
                "pose": nn.Linear(cfg.decoder_channels, MOTION_DIM),
                "root": nn.Linear(cfg.decoder_channels, 2),
                "velocity": nn.Linear(cfg.decoder_channels, 2),
                "actions": nn.Linear(cfg.decoder_channels, cfg.num_actions),
                "physics": nn.Linear(cfg.decoder_channels, PHYSICS_DIM),
            }
        )

    @torch.no_grad()
    def set_text_statistics(self, embeddings: Tensor) -> None:
        """Centre text on the mean of `embeddings [n, D]` (training descriptions) and divide by
        their overall spread (RMS distance to that mean, per dimension).

        Sentence embeddings of similar prompts share most of their direction: raw, the part that
        tells prompts apart is ~100x smaller than the rest of the conditioning, and the network
        learns to ignore the text. Standardised, each prompt stands out.
        """
        embeddings = embeddings.float()
        mean = embeddings.mean(dim=0)
        spread = (embeddings - mean).pow(2).mean().sqrt()
        self.text_mean.copy_(mean)
        self.text_scale.copy_(spread.clamp(min=1e-4))

    def text_features(self, text: Tensor) -> Tensor:
        """The text embedding as the conditioning MLP sees it (standardised)."""
        return (text - self.text_mean) / self.text_scale

    def full_plan(self, batch: int, plan: Tensor | None, frames: int | None) -> Tensor:
        """`plan`, or an all-"no plan" track of `frames` frames when it is None."""
        if plan is None:
            if frames is None:
                raise StickGenError("give an action plan or a number of frames")
            plan = torch.full((batch, frames), self.no_plan, dtype=torch.long)
            plan = plan.to(self.text_mean.device)
        if plan.shape[1] < 1:
            raise StickGenError("a clip needs at least one frame")
        return plan

    def noise_shape(self, batch: int, frames: int) -> tuple[int, ...]:
        """Shape of the standard normal draw behind one `generate` call."""
        return (batch, frames, MOTION_FEATURES)

    def condition(
        self, text: Tensor, plan: Tensor | None, frames: int | None = None,
        drop_text: Tensor | None = None,
    ) -> Conditioning:  # fmt: skip
        """The conditioning of text `[B, D]` and `plan [B, T]` (None: no plan, `frames` long);
        rows where `drop_text` `[B]` (bool) is set get the learned "no text"."""
        cfg = self.config
        plan = self.full_plan(text.shape[0], plan, frames)
        frames = plan.shape[1]
        tokens_n = -(-frames // cfg.patch)
        padded = F.pad(plan, (0, tokens_n * cfg.patch - frames), value=self.no_plan)
        plan_features = self.plan_embedding(padded)  # [B, Tp, A]
        since, length = segment_timing(padded, FPS)
        token_inputs = torch.cat([plan_features, timing_features(since, length)], dim=-1)
        tokens = self.patchify(token_inputs.transpose(1, 2)).transpose(1, 2)  # [B, N, d]
        centres = torch.arange(tokens_n, device=text.device) * cfg.patch + (cfg.patch - 1) / 2
        tokens = tokens + sinusoidal_positions(centres, cfg.d_model)
        cond = self.text_mlp(self.text_features(text))  # [B, d]
        if drop_text is not None:
            cond = torch.where(drop_text[:, None], self.null_text, cond)
        plan_features = plan_features[:, :frames]
        since, length = segment_timing(plan, FPS)
        return Conditioning(
            text=cond,
            plan_tokens=tokens,
            plan_features=plan_features,
            plan_skip=self.plan_skip(plan_features),
            since=since,
            length=length,
            action_bias=PLAN_BIAS_GAIN * self.plan_action_logits(plan),
        )

    def denoise(self, conditioning: Conditioning, noisy: Tensor, t: Tensor) -> dict[str, Tensor]:
        """The clean-clip prediction from noisy features x_t `[B, T, 24]` at times `t` `[B]`:
        normalised `pose [B,T,20]`, `root [B,T,2]`, `velocity [B,T,2]`,
        `actions [B,T,num_actions]` (logits), `physics [B,T,6]`."""
        cfg, c = self.config, conditioning
        batch, frames = noisy.shape[:2]
        if frames != c.frames:
            raise StickGenError(f"noisy features have {frames} frames, the plan {c.frames}")
        tokens_n = c.plan_tokens.shape[1]
        cond = c.text + self.t_mlp(sinusoidal_positions(t * T_SCALE, cfg.d_model))
        noisy_padded = F.pad(noisy, (0, 0, 0, tokens_n * cfg.patch - frames))
        tokens = c.plan_tokens + self.noisy_tokens(noisy_padded.transpose(1, 2)).transpose(1, 2)
        scale, shift = self.film(cond)[:, None, :].chunk(2, dim=-1)
        tokens = tokens * (1 + scale) + shift + cond[:, None, :]
        sequence = torch.cat([(cond + self.prefix)[:, None, :], tokens], dim=1)
        encoded = self.final_norm(self.encoder(sequence))[:, 1:]  # drop the prefix
        per_frame = self.unpatchify(encoded).reshape(batch, tokens_n * cfg.patch, -1)
        per_frame = per_frame[:, :frames] + c.plan_skip + self.noisy_skip(noisy)
        waves = self.clock(c.plan_features, c.since, c.length, cond)  # [B, T, 2K]
        per_frame = per_frame + self.rhythm(waves) * self.rhythm_gain(cond)[:, None, :]
        hidden = self.decoder(per_frame.transpose(1, 2))
        hidden = F.gelu(self.out_norm(hidden)).transpose(1, 2)  # [B, T, C]
        outputs = {name: head(hidden).float() for name, head in self.heads.items()}
        outputs["actions"] = outputs["actions"] + c.action_bias
        return outputs

    def forward(
        self, noisy: Tensor, t: Tensor, text: Tensor, plan: Tensor | None = None,
        drop_text: Tensor | None = None,
    ) -> dict[str, Tensor]:  # fmt: skip
        """One training pass: `denoise(condition(text, plan, drop_text), noisy, t)`; text
        `[B, D]` sentence embeddings, plan `[B, T]` action ids (None: no plan)."""
        conditioning = self.condition(text, plan, noisy.shape[1], drop_text)
        return self.denoise(conditioning, noisy, t)

    def generate(
        self,
        text: Tensor,
        plan: Tensor | None = None,
        frames: int | None = None,
        noise: Tensor | None = None,
        steps: int | None = None,
        guidance: float | Guidance | None = None,
    ) -> dict[str, Tensor]:
        """Normalised outputs (as `denoise`) generated from text and plan alone.

        `noise` (standard normal, `noise_shape`) picks one of the possible clips; None picks the
        draw of `TYPICAL_NOISE_SEED` for every row (x_1 = 0 would be no draw the model ever saw).
        DDIM runs `steps` steps, each prediction guided by `guidance` (one scale for text and
        plan, or a `Guidance` with one each; None: the model's `sampler`): every condition it
        needs is one more row block of the same pass. The conditioning is computed once for all
        steps.
        """
        batch = text.shape[0]
        plan = self.full_plan(batch, plan, frames if noise is None else noise.shape[1])
        if noise is None:
            seeded = torch.Generator().manual_seed(TYPICAL_NOISE_SEED)
            noise = torch.randn(self.noise_shape(1, plan.shape[1]), generator=seeded)
            noise = noise.to(text.device).expand(batch, -1, -1)
        steps = self.sampler.steps if steps is None else steps
        guidance = self.sampler.guidance if guidance is None else Guidance.of(guidance)
        conditions = guidance.conditions
        n = len(conditions)
        no_plan = torch.full_like(plan, self.no_plan)
        # one conditioning over every condition's rows: [full; plan only; neither]
        conditioning = self.condition(
            torch.cat([text] * n),
            torch.cat([no_plan if name == "none" else plan for name in conditions]),
            drop_text=torch.cat(
                [torch.full((batch,), name != "full", device=text.device) for name in conditions]
            ),
        )

        def denoise(noisy: Tensor, t: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
            x = noisy if n == 1 else noisy.repeat(n, 1, 1)
            outputs = self.denoise(conditioning, x, t if n == 1 else t.repeat(n))
            outputs = {name: guidance.combine(v.chunk(n)) for name, v in outputs.items()}
            return motion_features(outputs), outputs

        return diffusion.sample(denoise, noise, steps)


def build_model(cfg: ModelConfig, seed: int = 0) -> StickGenModel:
    """A freshly initialised model; the same seed gives the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return StickGenModel(cfg)


# ---- motion representation -------------------------------------------------------------------


def split_motion(motion: Tensor) -> tuple[Tensor, Tensor]:
    """`[..., T, 20]` motion -> (pose `[..., T, 20]` relative to the root, root `[..., T, 2]`)."""
    root = motion[..., list(ROOT_COLUMNS)]
    return motion - root.tile(MOTION_DIM // 2), root


def compose_motion(pose: Tensor, root: Tensor) -> Tensor:
    """Inverse of `split_motion`: absolute motion = root + pose."""
    return pose + root.tile(MOTION_DIM // 2)


def root_velocity(root: Tensor, fps: float = FPS) -> Tensor:
    """Root velocity in m/s, `[..., T, 2]`: central differences, one-sided at the ends."""
    if root.shape[-2] < 2:
        return torch.zeros_like(root)
    return torch.gradient(root, spacing=1.0 / fps, dim=-2)[0]


def predicted_root(outputs: dict[str, Tensor], stats: MotionStats, fps: float = FPS) -> Tensor:
    """Root trajectory `[..., T, 2]` in metres from the heads.

    Height comes from the position head. Horizontal position is the time integral (trapezoid) of
    the velocity head, shifted so that its mean equals the position head's mean: travel then
    follows the predicted speed exactly instead of an absolute x the text cannot pin down.
    """
    root = stats.denormalize("root", outputs["root"])
    vx = stats.denormalize("velocity", outputs["velocity"])[..., 0]
    steps = (vx[..., 1:] + vx[..., :-1]) / (2 * fps)
    x = torch.cat([torch.zeros_like(vx[..., :1]), steps.cumsum(-1)], dim=-1)
    x = x - x.mean(-1, keepdim=True) + root[..., 0].mean(-1, keepdim=True)
    return torch.stack([x, root[..., 1]], dim=-1)


def predicted_motion(outputs: dict[str, Tensor], stats: MotionStats, fps: float = FPS) -> Tensor:
    """Absolute motion `[..., T, 20]` in metres: `predicted_root` + the pose head."""
    return compose_motion(
        stats.denormalize("pose", outputs["pose"]), predicted_root(outputs, stats, fps)
    )


@dataclass
class MotionStats:
    """Per-channel mean/std of the regression targets (computed on a train split)."""

    mean: dict[str, Tensor]
    std: dict[str, Tensor]

    FIELDS = ("pose", "root", "velocity", "physics")
    MIN_STD = 1e-2  # channels that never move (the root-relative hip) stay finite

    def normalize(self, name: str, value: Tensor) -> Tensor:
        return (value - self.mean[name]) / self.std[name]

    def to(self, device: torch.device) -> MotionStats:
        """The same statistics on `device`."""
        return MotionStats(
            {k: v.to(device) for k, v in self.mean.items()},
            {k: v.to(device) for k, v in self.std.items()},
        )

    def denormalize(self, name: str, value: Tensor) -> Tensor:
        return value * self.std[name] + self.mean[name]

    def to_dict(self) -> dict[str, dict[str, list[float]]]:
        """Plain lists, safe for `torch.load(weights_only=True)`."""
        return {
            "mean": {k: v.tolist() for k, v in self.mean.items()},
            "std": {k: v.tolist() for k, v in self.std.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, list[float]]]) -> MotionStats:
        try:
            mean = {k: torch.tensor(data["mean"][k], dtype=torch.float32) for k in cls.FIELDS}
            std = {k: torch.tensor(data["std"][k], dtype=torch.float32) for k in cls.FIELDS}
        except (KeyError, TypeError) as exc:
            raise StickGenError(
                f"checkpoint normalisation statistics are incomplete: {exc}"
            ) from None
        return cls(mean, std)

    @classmethod
    def from_chunks(
        cls, chunks: Iterable[tuple[np.ndarray, np.ndarray]], fps: float = FPS
    ) -> MotionStats:
        """Statistics over chunks of (motion `[n, T, 20]`, physics `[n, T, 6]`), float64 sums."""
        sums: dict[str, np.ndarray] = {}
        squares: dict[str, np.ndarray] = {}
        count = 0
        for motion_chunk, physics_chunk in chunks:
            m = torch.from_numpy(np.asarray(motion_chunk, dtype=np.float32))
            pose, root = split_motion(m)
            values = {
                "pose": pose,
                "root": root,
                "velocity": root_velocity(root, fps),
                "physics": torch.from_numpy(np.asarray(physics_chunk, dtype=np.float32)),
            }
            for name, v in values.items():
                flat = v.reshape(-1, v.shape[-1]).double()
                sums[name] = sums.get(name, 0) + flat.sum(0).numpy()
                squares[name] = squares.get(name, 0) + (flat**2).sum(0).numpy()
            count += m.shape[0] * m.shape[1]
        if count == 0:
            raise StickGenError("cannot compute normalisation statistics from zero samples")
        mean = {k: sums[k] / count for k in cls.FIELDS}
        std = {
            k: np.sqrt(np.maximum(squares[k] / count - mean[k] ** 2, 0.0)).clip(min=cls.MIN_STD)
            for k in cls.FIELDS
        }
        return cls(
            {k: torch.tensor(v, dtype=torch.float32) for k, v in mean.items()},
            {k: torch.tensor(v, dtype=torch.float32) for k, v in std.items()},
        )
