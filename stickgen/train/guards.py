"""What `train()` refuses, and why: a dataset without usable embeddings, the wrong text model,
or a checkpoint to resume that belongs to other data or another trajectory (bad settings are
refused by `TrainConfig` itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stickgen.data.store import Dataset
from stickgen.errors import StickGenError
from stickgen.train.config import TrainConfig


def embedding_record(
    dataset: Dataset, expected: str | None, text_model: str | Path | None
) -> dict[str, Any]:
    """The dataset's embedding record, checked for presence, shape and the expected model, with
    `source` (how to load the text model at inference) when known."""
    info = dataset.manifest.get("embedding")
    if dataset.embeddings is None or not info:
        raise StickGenError(
            f"dataset {dataset.path} has no text embeddings; embed it first (stick-gen data embed)"
        )
    record = dict(info)
    dim = int(dataset.embeddings.shape[1])
    if record.get("dim") is not None and int(record["dim"]) != dim:
        raise StickGenError(
            f"dataset {dataset.path}: manifest says {record['dim']}-d embeddings, "
            f"embeddings.npy holds {dim}-d"
        )
    if dataset.embeddings.shape[0] != len(dataset.descriptions):
        raise StickGenError(
            f"dataset {dataset.path}: {dataset.embeddings.shape[0]} embeddings for "
            f"{len(dataset.descriptions)} descriptions"
        )
    record["dim"] = dim
    if expected is not None and record.get("model") != expected:
        raise StickGenError(
            f"dataset {dataset.path} was embedded with {record.get('model')!r}, "
            f"expected {expected!r}"
        )
    model_id = record.get("model")
    if text_model is not None:
        from stickgen.embed import Embedder

        embedder = Embedder(text_model)
        if embedder.model_id != model_id:
            raise StickGenError(
                f"text model {str(text_model)!r} is {embedder.model_id!r}, but dataset "
                f"{dataset.path} was embedded with {model_id!r}"
            )
        local = embedder.local_dir
        record["source"] = str(local.resolve()) if local is not None else str(text_model)
    elif model_id and "@" not in model_id:
        record["source"] = model_id  # a hub name
    return record


def check_resume(
    state: dict[str, Any],
    path: Path,
    dataset: Dataset,
    embedding: dict[str, Any],
    config: TrainConfig,
) -> None:
    """Refuse to resume a checkpoint on different data, embeddings or trajectory."""
    if state.get("dataset_id") != dataset.dataset_id:
        raise StickGenError(
            f"{path} was trained on dataset {state.get('dataset_id')}, "
            f"{dataset.path} is {dataset.dataset_id}"
        )
    if state.get("embedding_model") != embedding.get("model"):
        raise StickGenError(
            f"{path} uses embedding model {state.get('embedding_model')!r}, "
            f"the dataset uses {embedding.get('model')!r}"
        )
    text_dim = int(state["config"]["model"]["text_dim"])
    if text_dim != embedding["dim"]:
        raise StickGenError(
            f"{path} expects {text_dim}-d text embeddings, the dataset has {embedding['dim']}-d"
        )
    different = TrainConfig.from_dict(state["config"]["train"]).differences(config)
    if different:
        raise StickGenError(f"{path} was trained with other settings: " + ", ".join(different))
