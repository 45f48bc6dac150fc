"""The evaluator's networks: a motion encoder and a text encoder of its own, trained
contrastively into one feature space, and a per-frame action classifier (a dilated temporal
convolution net)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stickgen.errors import refuse_unknown_keys
from stickgen.evaluate.features import FRAME_FEATURES
from stickgen.schema import NUM_ACTIONS


@dataclass(frozen=True)
class EvaluatorConfig:
    """Sizes of the evaluator's networks (recorded in the artefact)."""

    vocabulary_size: int = 2  # words of the text encoder, <pad> and <unk> included (set
    # from the train split's descriptions when the evaluator is trained)
    feature_dim: int = 64  # the shared text/motion feature space
    conv_channels: int = 96
    gru_hidden: int = 128
    word_dim: int = 96
    text_hidden: int = 128
    classifier_channels: int = 64
    classifier_dilations: tuple[int, ...] = (1, 2, 4, 8, 16)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["classifier_dilations"] = list(self.classifier_dilations)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluatorConfig:
        refuse_unknown_keys(data, cls, "evaluator config keys")
        data = dict(data)
        if "classifier_dilations" in data:
            data["classifier_dilations"] = tuple(int(d) for d in data["classifier_dilations"])
        return cls(**data)


class MotionEncoder(nn.Module):
    """Normalised frame features `[B, T, 22]` -> unit-length features `[B, feature_dim]`.

    Two stride-2 convolutions shrink time 4x; a bidirectional GRU reads the result; its two
    final hidden states, concatenated, are projected and L2-normalised."""

    def __init__(self, config: EvaluatorConfig) -> None:
        super().__init__()
        c = config.conv_channels
        self.downsample = nn.Sequential(
            nn.Conv1d(FRAME_FEATURES, c, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv1d(c, c, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
        )
        self.gru = nn.GRU(c, config.gru_hidden, batch_first=True, bidirectional=True)
        self.out = nn.Sequential(
            nn.Linear(2 * config.gru_hidden, config.gru_hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(config.gru_hidden, config.feature_dim),
        )

    def forward(self, features: Tensor) -> Tensor:
        if features.shape[1] < 4:
            features = F.pad(features, (0, 0, 0, 4 - features.shape[1]), mode="replicate")
        tokens = self.downsample(features.transpose(1, 2)).transpose(1, 2)
        _, hidden = self.gru(tokens)  # [2, B, H]
        summary = torch.cat([hidden[0], hidden[1]], dim=-1)
        return F.normalize(self.out(summary), dim=-1)


class TextEncoder(nn.Module):
    """Token ids `[B, L]` (0 pads) and lengths `[B]` -> unit-length features `[B, feature_dim]`.

    Learned word embeddings read by a bidirectional GRU (word order: "walks, then waves" is
    not "waves, then walks"); its two final hidden states and the mean word embedding (which
    learns fast from few examples), concatenated, are projected and L2-normalised. Trained
    from scratch with the motion encoder: no pretrained text model is involved."""

    def __init__(self, config: EvaluatorConfig) -> None:
        super().__init__()
        self.words = nn.Embedding(config.vocabulary_size, config.word_dim, padding_idx=0)
        self.gru = nn.GRU(config.word_dim, config.text_hidden, batch_first=True, bidirectional=True)
        self.out = nn.Sequential(
            nn.Linear(2 * config.text_hidden + config.word_dim, config.text_hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(config.text_hidden, config.feature_dim),
        )

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        words = self.words(ids)  # padding rows are zero
        packed = nn.utils.rnn.pack_padded_sequence(
            words, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, hidden = self.gru(packed)  # [2, B, H]
        mean = words.sum(1) / lengths[:, None].to(words.dtype)
        summary = torch.cat([hidden[0], hidden[1], mean], dim=-1)
        return F.normalize(self.out(summary), dim=-1)


class _Residual(nn.Module):
    """Dilated 3-tap convolution, ReLU, 1x1 convolution, added to the input."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, dilation=dilation, padding=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.mix(F.relu(self.conv(x)))


class ActionClassifierNet(nn.Module):
    """Per-frame action logits `[B, T, NUM_ACTIONS]` from normalised frame features `[B, T, 22]`:
    a non-causal temporal convolution net whose dilations (1, 2, 4, 8, 16 by default) see about
    2.5 s around each frame."""

    def __init__(self, config: EvaluatorConfig) -> None:
        super().__init__()
        c = config.classifier_channels
        self.inp = nn.Conv1d(FRAME_FEATURES, c, kernel_size=5, padding=2)
        self.blocks = nn.Sequential(*(_Residual(c, d) for d in config.classifier_dilations))
        self.out = nn.Conv1d(c, NUM_ACTIONS, kernel_size=1)

    def forward(self, features: Tensor) -> Tensor:
        x = F.relu(self.inp(features.transpose(1, 2)))
        return self.out(F.relu(self.blocks(x))).transpose(1, 2)


def contrastive_loss(
    text: Tensor, motion: Tensor, not_negative: Tensor, temperature: float
) -> Tensor:
    """Symmetric InfoNCE over a batch of matching (text, motion) rows.

    Logits are cosine similarities / `temperature` (the features are unit length, so ranking by
    cosine is ranking by Euclidean distance). `not_negative[i, j]` (bool `[B, B]`) removes pair
    (i, j) from the negatives: a near-duplicate caption's motion is not a wrong answer. The
    diagonal always stays."""
    logits = text @ motion.T / temperature
    eye = torch.eye(len(text), dtype=torch.bool)
    logits = logits.masked_fill(not_negative & ~eye, float("-inf"))
    target = torch.arange(len(text))
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
