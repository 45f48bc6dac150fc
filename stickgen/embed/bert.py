"""A BERT sentence encoder run with torch alone, for prompts at inference.

Importing sentence-transformers (with transformers, scikit-learn and scipy behind it) costs
several seconds of CPU before a single prompt is encoded, more than the rest of `stick-gen
animate --checkpoint`. The text models Stick-Gen uses (all-MiniLM-L6-v2, bge-large-en-v1.5) are
sentence-transformers folders holding a BERT, a pooling (mean or CLS) and a normalisation: this
module computes exactly that from the folder's `tokenizer.json` (the `tokenizers` library) and
`model.safetensors`, giving the sentence-transformers vectors to float rounding (tested). Any
other folder is left to sentence-transformers (`BertSentenceEncoder.load` returns None).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

SUPPORTED_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
POOLINGS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}


def _json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class BertSentenceEncoder:
    """The BERT, pooling and normalisation of one sentence-transformers folder."""

    def __init__(
        self, directory: Path, config: dict, pooling: str, normalize: bool, max_tokens: int
    ) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.config, self.pooling, self.normalize = config, pooling, normalize
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        weights = load_file(str(directory / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
        self.w = {k.removeprefix(prefix): v.float() for k, v in weights.items()}
        self.dim = int(config["hidden_size"])

    @classmethod
    def load(cls, directory: Path) -> BertSentenceEncoder | None:
        """The encoder of `directory`, or None when it is not a plain BERT + pooling (+
        normalisation) folder this module computes exactly."""
        modules = _json(directory / "modules.json")
        config = _json(directory / "config.json")
        if not isinstance(modules, list) or not isinstance(config, dict):
            return None
        types = [m.get("type") for m in modules]
        if types[:2] != list(SUPPORTED_MODULES[:2]) or not set(types) <= set(SUPPORTED_MODULES):
            return None
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            return None
        if config.get("position_embedding_type", "absolute") != "absolute":
            return None
        pooling_path = directory / modules[1].get("path", "") / "config.json"
        pooling_config = _json(pooling_path) or {}
        modes = [name for flag, name in POOLINGS.items() if pooling_config.get(flag)]
        others = [k for k, v in pooling_config.items() if k.startswith("pooling_mode_") and v]
        if len(modes) != 1 or len(others) != 1:
            return None
        if not (directory / "tokenizer.json").is_file():
            return None
        if not (directory / "model.safetensors").is_file():
            return None
        st_config = _json(directory / "sentence_bert_config.json") or {}
        if st_config.get("do_lower_case"):
            return None  # sentence-transformers lowercases before the tokenizer: not done here
        max_tokens = int(st_config.get("max_seq_length") or config["max_position_embeddings"])
        normalize = SUPPORTED_MODULES[2] in types
        return cls(directory, config, modes[0], normalize, max_tokens)

    def _layer_norm(self, x: Tensor, name: str) -> Tensor:
        eps = float(self.config.get("layer_norm_eps", 1e-12))
        return F.layer_norm(x, (self.dim,), self.w[f"{name}.weight"], self.w[f"{name}.bias"], eps)

    def _linear(self, x: Tensor, name: str) -> Tensor:
        return F.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    @torch.inference_mode()
    def encode_one(self, text: str) -> np.ndarray:
        """float32 `[dim]` sentence embedding of `text`."""
        ids = torch.tensor(self.tokenizer.encode(text).ids)
        w, heads = self.w, int(self.config["num_attention_heads"])
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: len(ids)]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._layer_norm(x, "embeddings.LayerNorm")[None]  # [1, n, d]
        size = self.dim // heads
        for i in range(int(self.config["num_hidden_layers"])):
            layer = f"encoder.layer.{i}"

            def split(t: Tensor) -> Tensor:
                return t.view(1, -1, heads, size).transpose(1, 2)

            q, k, v = (
                split(self._linear(x, f"{layer}.attention.self.{n}"))
                for n in ("query", "key", "value")
            )
            scores = q @ k.transpose(-1, -2) / math.sqrt(size)
            context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(1, -1, self.dim)
            attended = self._linear(context, f"{layer}.attention.output.dense")
            x = self._layer_norm(attended + x, f"{layer}.attention.output.LayerNorm")
            hidden = F.gelu(self._linear(x, f"{layer}.intermediate.dense"))
            x = self._layer_norm(
                self._linear(hidden, f"{layer}.output.dense") + x, f"{layer}.output.LayerNorm"
            )
        vector = x[0].mean(0) if self.pooling == "mean" else x[0, 0]
        if self.normalize:
            vector = vector / vector.norm().clamp(min=1e-12)
        return vector.numpy().astype(np.float32)
