"""The text-to-motion transformer: a sentence embedding (+ an optional per-frame action plan) in,
a whole clip out, non-autoregressively.

Layout (frames T, patch P, tokens N = ceil(T / P)):

    plan [B, T] --embedding (+ timing within each action)--> --strided conv (P)--> tokens [B, N, d]
    text [B, D] --standardise--MLP--> + (diffusion: embedded noise level t | CVAE: latent z) = c
    diffusion: tokens += strided conv of the noised clip x_t [B, T, 24]
    [c ; tokens * (1 + scale(c)) + shift(c) + c], tokens with sinusoidal positions (frame time)
        --transformer encoder--> [B, N, d]
    tokens --linear unpatchify--> [B, N*P, C] (cropped to T) + plan skip (+ x_t skip)
        + rhythm [B, T, C] * gain(c) --conv blocks-->
    heads: pose [T, 20], root [T, 2], velocity [T, 2], action logits [T, 46] (+ plan bias),
        physics [T, 6]

The data's cyclic actions start at random phases, tempos and styles that text cannot pin down;
a deterministic regressor averages them into a stiff, sliding figure. Two kinds of model answer
that (`ModelConfig.kind`):

- "diffusion" (the presets): a denoiser. Training noises a clip's normalised features to a random
  level t and the network predicts the clean clip, scored by the multi-task loss; generation runs
  DDIM from noise (`stickgen.diffusion`), so each draw commits to one phase and tempo and the legs
  really step. A learned "no text" condition (`null_text`) allows classifier-free guidance.
- "cvae" (checkpoints from before diffusion): one pass; during training only, `MotionEncoder`
  reads the target motion and proposes z (KL-regularised towards N(0, I)); at validation and
  inference z comes from the prior (zeros, or a seeded N(0, I) sample). Half the training
  samples get a prior z (`stickgen.train.losses.drop_latents`) so that the actions come from
  text and plan. In practice its decoder learnt to ignore z and its legs barely swing.

The rhythm is either `SegmentClock` oscillators that restart with every planned action at rates
set by plan, text and noise level or z (`oscillators > 0`), or older checkpoints' fixed clip-time
`rhythm_basis`. The text is standardised with training statistics so that prompts differ by more
than a rounding error (`set_text_statistics`).

The plan is optional: frames without one carry the learned "no plan" token (id NUM_ACTIONS), and
training drops whole plans at random so both modes work. Positions are sinusoids of the frame
index, so clips of other durations work at inference.

Every regression head predicts targets normalised with train-split statistics (`MotionStats`).
The motion representation (`split_motion` / `compose_motion`): root = hip (end of the torso
segment), pose = the 20 coordinates minus the root, final motion = root + pose, where the
generated root takes its height from the position head and its travel from the integrated
velocity head (`predicted_root`). `stickgen.infer` then makes the segment lengths constant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from stickgen import diffusion
from stickgen.diffusion import GUIDANCE, SAMPLE_STEPS, Guidance
from stickgen.errors import StickGenError
from stickgen.schema import FPS, MOTION_DIM, NUM_ACTIONS, PHYSICS_DIM

NO_PLAN = NUM_ACTIONS  # id of the learned "no plan" token
ROOT_COLUMNS = (2, 3)  # hip = end point of the torso segment
TYPICAL_NOISE_SEED = 0  # diffusion's starting noise when a caller gives none
LEVEL_SCALE = 1000.0  # diffusion time t in [0, 1] is embedded as the position t * LEVEL_SCALE
PLAN_BIAS_GAIN = 10.0  # scale of the plan's action-logit bias (Adam moves its weights ~lr/step)


MODEL_KINDS = ("cvae", "diffusion")


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
    latent_dim: int = 16
    encoder_dim: int = 64
    patch: int = 5
    dropout: float = 0.1
    num_actions: int = NUM_ACTIONS
    # centre text embeddings on the training mean and rescale them (`set_text_statistics`);
    # False only in checkpoints from before this option existed
    standardize_text: bool = False
    # each frame's action logits also get a learned bias from that frame's plan entry, so a
    # given plan sets the actions (and their boundaries) directly
    plan_action_bias: bool = False
    # "cvae": one pass from text, plan and a latent z; "diffusion": a denoiser of noised motion
    # features, sampled in several passes (`stickgen.diffusion`)
    kind: str = "cvae"
    # > 0: the decoder's rhythm comes from this many `SegmentClock` oscillators that restart
    # with every planned action and whose rates follow plan, text and z; 0 = the fixed
    # clip-time `rhythm_basis` of older checkpoints
    oscillators: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise StickGenError(f"unknown model config keys: {sorted(unknown)}")
        config = cls(**data)
        if config.kind not in MODEL_KINDS:
            raise StickGenError(
                f"unknown model kind {config.kind!r}; expected one of {MODEL_KINDS}"
            )
        return config

    @property
    def diffusion(self) -> bool:
        return self.kind == "diffusion"


# Named sizes. `base` is the plan's ~15.5M-parameter model; `small` is for quick runs; `tiny` for
# unit tests. Counts depend slightly on text_dim (see `count_parameters`).
PRESETS: dict[str, dict[str, int]] = {
    "tiny": dict(
        d_model=64, layers=2, heads=4, ff_dim=128, plan_dim=16, decoder_channels=48,
        decoder_blocks=1, latent_dim=8, encoder_dim=32,
    ),
    "small": dict(
        d_model=192, layers=4, heads=6, ff_dim=768, plan_dim=32, decoder_channels=128,
        decoder_blocks=2, latent_dim=16, encoder_dim=96,
    ),
    "base": dict(
        d_model=384, layers=8, heads=8, ff_dim=1384, plan_dim=64, decoder_channels=160,
        decoder_blocks=2, latent_dim=16, encoder_dim=128,
    ),
}  # fmt: skip


def preset_config(preset: str, text_dim: int) -> ModelConfig:
    """The `ModelConfig` of a named preset for a text embedding of `text_dim` floats."""
    if preset not in PRESETS:
        raise StickGenError(f"unknown model preset {preset!r}; expected one of {sorted(PRESETS)}")
    if text_dim <= 0:
        raise StickGenError(f"text embedding dimension must be positive, got {text_dim}")
    return ModelConfig(
        text_dim=text_dim,
        kind="diffusion",
        standardize_text=True,
        plan_action_bias=True,
        oscillators=RHYTHM_SIZE // 2,
        dropout=0.0,
        **PRESETS[preset],
    )


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


RHYTHM_HZ = (0.2, 5.0)  # frequency range of the decoder's rhythm basis (gaits, waves, hops)
RHYTHM_SIZE = 32  # sines + cosines


def rhythm_basis(frames: int, device: torch.device | None = None, fps: float = FPS) -> Tensor:
    """`[frames, RHYTHM_SIZE]` sin/cos of the frame time at geometrically spaced frequencies
    within RHYTHM_HZ: the decoder mixes these with latent-dependent weights, so the phase and
    tempo of a cyclic motion are a linear function of z."""
    hz = torch.logspace(
        math.log10(RHYTHM_HZ[0]), math.log10(RHYTHM_HZ[1]), RHYTHM_SIZE // 2, device=device
    )
    angles = 2 * math.pi * torch.arange(frames, device=device, dtype=torch.float32)[:, None]
    angles = angles * hz / fps
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


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


def timing_features(plan: Tensor, fps: float = FPS) -> Tensor:
    """`[B, T, 3]`: share of its action's run each frame has reached (0..1), seconds since the
    run began and the run's length in seconds (both / 10)."""
    since, length = segment_timing(plan, fps)
    return torch.stack([since / length, since / 10.0, length / 10.0], dim=-1)


class SegmentClock(nn.Module):
    """Oscillators for cyclic motion that restart with every planned action.

    Oscillator k runs at `base_k * exp(rate_k)` Hz, its rate set per frame from that frame's plan
    entry, the conditioning c (text + z) and the log length of the action's run, and has a phase
    offset from c: features sin/cos(2 pi (seconds since the run began * Hz + offset)) `[B, T, 2K]`.
    The data's gaits and gestures are cycles that start with their action, at a tempo and phase
    that differ per clip (z) and, for repeated gestures, fit a whole number of times into the
    action (its length); a fixed clip-time basis can express neither.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        k = config.oscillators
        hz = torch.logspace(math.log10(RHYTHM_HZ[0]), math.log10(RHYTHM_HZ[1]), k)
        self.register_buffer("base_hz", hz, persistent=False)
        self.rate = nn.Linear(config.plan_dim + config.d_model + 1, k)
        self.offset = nn.Linear(config.d_model, k)
        for layer in (self.rate, self.offset):  # start at the base rates, phase 0
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, plan: Tensor, plan_features: Tensor, cond: Tensor, fps: float) -> Tensor:
        since, length = segment_timing(plan, fps)
        frames = plan.shape[1]
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
    the motion encoder reads and what diffusion noises."""
    return torch.cat([values["pose"], values["root"], values["velocity"]], dim=-1)


class MotionEncoder(nn.Module):
    """Training-only posterior q(z | motion): normalised motion features `[B, T, 24]` ->
    (mean, log-variance) `[B, latent_dim]`. A summary token attends over position-encoded motion
    tokens, so z can carry *when* things happen (the phase of a cycle), not only what happens."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        width = config.encoder_dim
        self.patch = config.patch
        self.embed = nn.Conv1d(
            MOTION_FEATURES, width, kernel_size=config.patch, stride=config.patch
        )
        self.mix = nn.Sequential(  # per token: lets motion and position interact before pooling
            nn.LayerNorm(width), nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width)
        )
        self.summary = nn.Parameter(torch.zeros(width))
        self.layer = nn.TransformerEncoderLayer(
            width, 4, 2 * width, 0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, 2 * config.latent_dim)

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        frames = features.shape[1]
        tokens_n = -(-frames // self.patch)
        padded = F.pad(features, (0, 0, 0, tokens_n * self.patch - frames))
        tokens = self.embed(padded.transpose(1, 2)).transpose(1, 2)  # [B, N, W]
        centres = torch.arange(tokens_n, device=features.device) * self.patch + (self.patch - 1) / 2
        tokens = tokens + sinusoidal_positions(centres, tokens.shape[-1])
        tokens = tokens + self.mix(tokens)
        summary = self.summary.expand(tokens.shape[0], 1, -1)
        pooled = self.norm(self.layer(torch.cat([summary, tokens], dim=1))[:, 0])
        mean, log_var = self.out(pooled).chunk(2, dim=-1)
        return mean, log_var.clamp(-10.0, 10.0)


class StickGenModel(nn.Module):
    """Multi-task text(+plan)-to-motion transformer; see the module docstring."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        if c.standardize_text:
            self.register_buffer("text_mean", torch.zeros(c.text_dim))
            self.register_buffer("text_scale", torch.ones(()))
        self.plan_embedding = nn.Embedding(c.num_actions + 1, c.plan_dim)
        if c.plan_action_bias:  # zero at first; scaled by PLAN_BIAS_GAIN so it is learnt fast
            self.plan_action_logits = nn.Embedding(c.num_actions + 1, c.num_actions)
            nn.init.zeros_(self.plan_action_logits.weight)
        # with oscillators, the tokens also see where each frame is within its action
        token_inputs = c.plan_dim + (TIMING_FEATURES if c.oscillators else 0)
        self.patchify = nn.Conv1d(token_inputs, c.d_model, kernel_size=c.patch, stride=c.patch)
        self.text_mlp = nn.Sequential(
            nn.Linear(c.text_dim, c.d_model), nn.GELU(), nn.Linear(c.d_model, c.d_model)
        )
        self.film = nn.Linear(c.d_model, 2 * c.d_model)  # FiLM of the positioned tokens
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        if c.diffusion:  # the noised clip enters the tokens and the decoder; t, the condition
            self.noisy_tokens = nn.Conv1d(
                MOTION_FEATURES, c.d_model, kernel_size=c.patch, stride=c.patch
            )
            self.noisy_skip = nn.Linear(MOTION_FEATURES, c.decoder_channels)
            self.level_mlp = nn.Sequential(
                nn.Linear(c.d_model, c.d_model), nn.GELU(), nn.Linear(c.d_model, c.d_model)
            )
            self.null_text = nn.Parameter(torch.zeros(c.d_model))  # "no text", for guidance
        else:
            self.latent_proj = nn.Linear(c.latent_dim, c.d_model)
            self.motion_encoder = MotionEncoder(c)
        self.prefix = nn.Parameter(torch.zeros(c.d_model))
        layer = nn.TransformerEncoderLayer(
            c.d_model,
            c.heads,
            c.ff_dim,
            c.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(c.d_model)
        self.unpatchify = nn.Linear(c.d_model, c.patch * c.decoder_channels)
        self.plan_skip = nn.Linear(c.plan_dim, c.decoder_channels)
        if c.oscillators:
            self.clock = SegmentClock(c)
        rhythm_size = 2 * c.oscillators if c.oscillators else RHYTHM_SIZE
        self.rhythm = nn.Linear(rhythm_size, c.decoder_channels, bias=False)
        self.rhythm_gain = nn.Linear(c.d_model, c.decoder_channels)
        self.decoder = nn.Sequential(
            *(ConvBlock(c.decoder_channels) for _ in range(c.decoder_blocks))
        )
        self.out_norm = nn.GroupNorm(1, c.decoder_channels)
        self.heads = nn.ModuleDict(
            {
                "pose": nn.Linear(c.decoder_channels, MOTION_DIM),
                "root": nn.Linear(c.decoder_channels, 2),
                "velocity": nn.Linear(c.decoder_channels, 2),
                "actions": nn.Linear(c.decoder_channels, c.num_actions),
                "physics": nn.Linear(c.decoder_channels, PHYSICS_DIM),
            }
        )

    @torch.no_grad()
    def set_text_statistics(self, embeddings: Tensor) -> None:
        """Centre text on the mean of `embeddings [n, D]` (training descriptions) and divide by
        their overall spread (RMS distance to that mean, per dimension).

        Sentence embeddings of similar prompts share most of their direction: raw, the part that
        tells prompts apart is ~100x smaller than the latent's contribution to the conditioning,
        and the decoder learns to ignore the text. Standardised, each prompt stands out.
        """
        if not self.config.standardize_text:
            raise StickGenError("this model was built without text standardisation")
        embeddings = embeddings.float()
        mean = embeddings.mean(dim=0)
        spread = (embeddings - mean).pow(2).mean().sqrt()
        self.text_mean.copy_(mean)
        self.text_scale.copy_(spread.clamp(min=1e-4))

    def text_features(self, text: Tensor) -> Tensor:
        """The text embedding as the conditioning MLP sees it (standardised when configured)."""
        if self.config.standardize_text:
            return (text - self.text_mean) / self.text_scale
        return text

    def encode_motion(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """Training only: posterior (mean, log-variance) of z given target motion features."""
        return self.motion_encoder(features)

    def full_plan(self, text: Tensor, plan: Tensor | None, frames: int | None) -> Tensor:
        """`plan`, or an all-"no plan" track of `frames` frames when it is None."""
        if plan is None:
            if frames is None:
                raise StickGenError("give an action plan or a number of frames")
            plan = torch.full(
                (text.shape[0], frames), NO_PLAN, dtype=torch.long, device=text.device
            )
        if plan.shape[1] < 1:
            raise StickGenError("a clip needs at least one frame")
        return plan

    def noise_shape(self, batch: int, frames: int) -> tuple[int, ...]:
        """Shape of the standard normal draw behind one `generate` call."""
        if self.config.diffusion:
            return (batch, frames, MOTION_FEATURES)
        return (batch, self.config.latent_dim)

    def generate(
        self,
        text: Tensor,
        plan: Tensor | None = None,
        frames: int | None = None,
        noise: Tensor | None = None,
        steps: int = SAMPLE_STEPS,
        guidance: float | Guidance = GUIDANCE,
    ) -> dict[str, Tensor]:
        """Normalised outputs (as `forward`) generated from text and plan alone.

        `noise` (standard normal, `noise_shape`) picks one of the possible clips; None picks a
        fixed one: z = 0 (the prior's mode), or for diffusion the draw of `TYPICAL_NOISE_SEED`
        for every row (x_1 = 0 would be no draw the model ever saw). A diffusion
        model denoises in `steps` DDIM steps, each prediction guided by `guidance` (one scale
        for text and plan, or a `Guidance` with one each): every condition it needs is one more
        pass. A CVAE takes one pass and ignores both.
        """
        plan = self.full_plan(text, plan, frames)
        if not self.config.diffusion:  # z = noise, or the prior's mode 0
            return self(text, plan, latent=noise)
        batch = text.shape[0]
        if noise is None:
            seeded = torch.Generator().manual_seed(TYPICAL_NOISE_SEED)
            noise = torch.randn(self.noise_shape(1, plan.shape[1]), generator=seeded)
            noise = noise.to(text.device).expand(batch, -1, -1)
        guidance = Guidance.of(guidance)
        conditions = guidance.conditions
        no_plan = torch.full_like(plan, NO_PLAN)
        # one pass over every condition's rows: [full; plan only; neither]
        texts = torch.cat([text] * len(conditions))
        plans = torch.cat([no_plan if name == "none" else plan for name in conditions])
        drop_text = torch.cat(
            [torch.full((batch,), name != "full", device=text.device) for name in conditions]
        )

        def denoise(noisy: Tensor, level: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
            n = len(conditions)
            outputs = self(
                texts, plans, noisy=noisy.repeat(n, 1, 1), level=level.repeat(n),
                drop_text=drop_text,
            )  # fmt: skip
            outputs = {name: guidance.combine(v.chunk(n)) for name, v in outputs.items()}
            return motion_features(outputs), outputs

        return diffusion.sample(denoise, noise, steps)

    def forward(
        self,
        text: Tensor,
        plan: Tensor | None = None,
        frames: int | None = None,
        latent: Tensor | None = None,
        *,
        noisy: Tensor | None = None,
        level: Tensor | None = None,
        drop_text: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """One pass of the network: normalised outputs for a batch.

        text: float `[B, D]` sentence embeddings. plan: int `[B, T]` action ids, `NO_PLAN` where
        unknown; None = no plan at all (then `frames` gives T). CVAE: latent `[B, latent_dim]`,
        None = zeros (the prior's mode). Diffusion: `noisy` features x_t
        `[B, T, 24]` at times `level` `[B]` (the outputs are the model's clean prediction);
        rows where `drop_text` `[B]` (bool) is set see the learned "no text" instead of `text`.
        Returns `pose [B,T,20]`, `root [B,T,2]`, `velocity [B,T,2]`,
        `actions [B,T,num_actions]` (logits), `physics [B,T,6]`.
        """
        c = self.config
        batch = text.shape[0]
        plan = self.full_plan(text, plan, frames)
        frames = plan.shape[1]
        tokens_n = -(-frames // c.patch)
        padded = F.pad(plan, (0, tokens_n * c.patch - frames), value=NO_PLAN)
        plan_features = self.plan_embedding(padded)  # [B, Tp, A]
        token_inputs = plan_features
        if c.oscillators:
            token_inputs = torch.cat([plan_features, timing_features(padded)], dim=-1)
        tokens = self.patchify(token_inputs.transpose(1, 2)).transpose(1, 2)  # [B, N, d]
        centres = torch.arange(tokens_n, device=text.device) * c.patch + (c.patch - 1) / 2
        tokens = tokens + sinusoidal_positions(centres, c.d_model)
        cond = self.text_mlp(self.text_features(text))  # [B, d]
        if c.diffusion:
            if noisy is None or level is None or noisy.shape[:2] != plan.shape:
                raise StickGenError("a diffusion model needs noisy features [B, T, 24] and t")
            if drop_text is not None:
                cond = torch.where(drop_text[:, None], self.null_text, cond)
            cond = cond + self.level_mlp(sinusoidal_positions(level * LEVEL_SCALE, c.d_model))
            noisy_padded = F.pad(noisy, (0, 0, 0, tokens_n * c.patch - frames))
            tokens = tokens + self.noisy_tokens(noisy_padded.transpose(1, 2)).transpose(1, 2)
        else:
            if latent is None:
                latent = text.new_zeros(batch, c.latent_dim)
            cond = cond + self.latent_proj(latent)
        scale, shift = self.film(cond)[:, None, :].chunk(2, dim=-1)
        tokens = tokens * (1 + scale) + shift + cond[:, None, :]
        sequence = torch.cat([(cond + self.prefix)[:, None, :], tokens], dim=1)
        encoded = self.final_norm(self.encoder(sequence))[:, 1:]  # drop the prefix
        per_frame = self.unpatchify(encoded).reshape(batch, tokens_n * c.patch, -1)
        per_frame = per_frame[:, :frames] + self.plan_skip(plan_features[:, :frames])
        if c.diffusion:
            per_frame = per_frame + self.noisy_skip(noisy)
        if c.oscillators:
            waves = self.clock(plan, plan_features[:, :frames], cond, FPS)  # [B, T, 2K]
        else:
            waves = rhythm_basis(frames, text.device)  # [T, 2K]
        per_frame = per_frame + self.rhythm(waves) * self.rhythm_gain(cond)[:, None, :]
        hidden = self.decoder(per_frame.transpose(1, 2))
        hidden = F.gelu(self.out_norm(hidden)).transpose(1, 2)  # [B, T, C]
        outputs = {name: head(hidden) for name, head in self.heads.items()}
        if c.plan_action_bias:
            bias = self.plan_action_logits(plan)
            outputs["actions"] = outputs["actions"] + PLAN_BIAS_GAIN * bias
        return outputs


def build_model(config: ModelConfig, seed: int = 0) -> StickGenModel:
    """A freshly initialised model; the same seed gives the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return StickGenModel(config)


def drop_plans(
    plan: Tensor, probability: float, generator: torch.Generator | None = None
) -> Tensor:
    """Replace whole rows of `plan [B, T]` by the "no plan" token with the given probability."""
    if probability <= 0:
        return plan
    drop = torch.rand(plan.shape[0], generator=generator, device=plan.device) < probability
    return torch.where(drop[:, None], torch.full_like(plan, NO_PLAN), plan)


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
