"""The evaluator artefact: frozen text and motion encoders plus an action classifier.

A file written by `Evaluator.save` (atomically: temp file, fsync, `os.replace`) holds plain
tensors and containers only, so it loads with `torch.load(weights_only=True)`; weights load
strictly. It records the dataset it was trained on (`dataset_id`) and its vocabulary.

The text side is the evaluator's own: a word vocabulary of the train split's descriptions and
a word GRU trained from scratch with the motion encoder (`TextEncoder`). No generator can share
it, so none is scored by the features of its own text model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stickgen.artefact import read_artefact, write_artefact
from stickgen.errors import StickGenError
from stickgen.evaluate.features import FRAME_FEATURES, frame_features
from stickgen.evaluate.networks import (
    ActionClassifierNet,
    EvaluatorConfig,
    MotionEncoder,
    TextEncoder,
)
from stickgen.evaluate.text import Vocabulary
from stickgen.schema import FPS

FORMAT = "stickgen-evaluator"
VERSION = 2  # 1: a projection of MiniLM sentence embeddings; 2: its own word encoder
TEXT_MODEL_ID = "the evaluator's own word encoder"


def _load_strict(module: torch.nn.Module, state: Any, part: str, source: Path | str) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, AttributeError) as exc:
        detail = " ".join(str(exc).split())[:300]
        raise StickGenError(f"{source}: {part} weights do not match: {detail}") from None


@dataclass
class Evaluator:
    """Frozen networks and what they were trained with; see the module docstring."""

    config: EvaluatorConfig
    motion_encoder: MotionEncoder
    text_encoder: TextEncoder
    classifier: ActionClassifierNet
    feature_mean: np.ndarray  # float32 [22], over training frames
    feature_std: np.ndarray  # float32 [22]
    vocabulary: Vocabulary
    dataset_id: str
    info: dict[str, Any] = field(default_factory=dict)  # training settings and own figures
    fps: int = FPS
    path: Path | None = None

    def __post_init__(self) -> None:
        self.freeze()

    def freeze(self) -> None:
        """Evaluation mode, no gradients: nothing scored afterwards can change the networks."""
        for net in (self.motion_encoder, self.text_encoder, self.classifier):
            net.eval()
            net.requires_grad_(False)

    @property
    def text_model_id(self) -> str:
        """What reads the prompts: always the evaluator's own encoder (`TEXT_MODEL_ID`)."""
        return TEXT_MODEL_ID

    # ---- features -----------------------------------------------------------------------

    def normalized_features(self, motion: np.ndarray) -> torch.Tensor:
        """float32 tensor `[N, T, 22]` of standardised frame features of `[N, T, 20]` motion."""
        features = (frame_features(motion, self.fps) - self.feature_mean) / self.feature_std
        return torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))

    @torch.inference_mode()
    def encode_motion(self, motion: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """float64 `[N, feature_dim]` unit-length motion features of `[N, T, 20]` motion."""
        motion = np.asarray(motion)
        out = [
            self.motion_encoder(self.normalized_features(motion[lo : lo + batch_size])).numpy()
            for lo in range(0, len(motion), batch_size)
        ]
        return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 0))

    @torch.inference_mode()
    def encode_text(self, texts: Sequence[str], batch_size: int = 512) -> np.ndarray:
        """float64 `[N, feature_dim]` unit-length text features of the prompts `texts`."""
        out = []
        for lo in range(0, len(texts), batch_size):
            ids, lengths = self.vocabulary.encode(texts[lo : lo + batch_size])
            out.append(self.text_encoder(ids, lengths).numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 0))

    @torch.inference_mode()
    def classify(self, motion: np.ndarray, batch_size: int = 128) -> np.ndarray:
        """int64 `[N, T]` predicted action per frame of `[N, T, 20]` motion."""
        motion = np.asarray(motion)
        out = [
            self.classifier(self.normalized_features(motion[lo : lo + batch_size]))
            .argmax(-1)
            .numpy()
            for lo in range(0, len(motion), batch_size)
        ]
        return np.concatenate(out).astype(np.int64)

    # ---- files --------------------------------------------------------------------------

    def payload(self) -> dict[str, Any]:
        """Everything `load` needs, as tensors and plain containers."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "config": self.config.to_dict(),
            "fps": self.fps,
            "feature_mean": torch.from_numpy(np.asarray(self.feature_mean, np.float32)),
            "feature_std": torch.from_numpy(np.asarray(self.feature_std, np.float32)),
            "motion_encoder": self.motion_encoder.state_dict(),
            "text_encoder": self.text_encoder.state_dict(),
            "classifier": self.classifier.state_dict(),
            "vocabulary": list(self.vocabulary.words),
            "dataset_id": self.dataset_id,
            "info": self.info,
        }

    def save(self, path: str | Path) -> Path:
        """Write the artefact atomically (temp file in the same directory, then rename)."""
        path = write_artefact(path, self.payload())
        self.path = path
        return path

    @classmethod
    def load(cls, path: str | Path) -> Evaluator:
        """Read an artefact with `weights_only=True` and load every network strictly."""
        path = Path(path)
        payload = read_artefact(path, "evaluator", FORMAT, VERSION)
        try:
            config = EvaluatorConfig.from_dict(dict(payload["config"]))
            vocabulary = Vocabulary(tuple(str(w) for w in payload["vocabulary"]))
            if len(vocabulary) != config.vocabulary_size:
                raise StickGenError(f"{path}: vocabulary and config sizes differ")
            parts = {
                "motion_encoder": MotionEncoder(config),
                "text_encoder": TextEncoder(config),
                "classifier": ActionClassifierNet(config),
            }
            for name, module in parts.items():
                _load_strict(module, payload[name], name, path)
            mean = payload["feature_mean"].numpy()
            std = payload["feature_std"].numpy()
            if mean.shape != (FRAME_FEATURES,) or std.shape != (FRAME_FEATURES,):
                raise StickGenError(f"{path}: feature statistics have the wrong shape")
            return cls(
                config=config,
                feature_mean=mean,
                feature_std=std,
                vocabulary=vocabulary,
                dataset_id=str(payload["dataset_id"]),
                info=dict(payload.get("info") or {}),
                fps=int(payload.get("fps", FPS)),
                path=path,
                **parts,
            )
        except KeyError as exc:
            raise StickGenError(f"{path}: evaluator is missing {exc}") from None
        except ValueError as exc:
            raise StickGenError(f"{path}: {exc}") from None
