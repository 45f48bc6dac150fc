"""Inference exports: a checkpoint as a folder anyone can load without our pickles.

    model.safetensors   the model's weights (safetensors: no code runs when it is read)
    config.json         format, version, everything that rebuilds the model (model config,
                        normalisation statistics, fps, sampler), the text model (id, revision),
                        the training settings, metrics and the dataset's content id
    README.md           a short model card: data, text model with revision, metrics, evaluation

`read_export` gives the payload `stickgen.train.checkpoint.model_from_checkpoint` builds the
model from, so `load_generator` (the CLI's `animate --checkpoint FOLDER`, the service) loads an
export like the checkpoint it came from and samples the same clips. Optimizer state, resume
position and server paths stay out.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from stickgen.errors import NotFoundError, StickGenError
from stickgen.textmodels import BUNDLED_MODEL, bundled_model_dir

FORMAT = "stickgen-export"
VERSION = 1
WEIGHTS, CONFIG, CARD = "model.safetensors", "config.json", "README.md"
METRICS = ("train_loss", "val_loss", "val_smoothness", "val_position", "val_action_accuracy")


def is_export(path: str | Path) -> bool:
    """Whether `path` is an export folder (it holds `config.json` and `model.safetensors`)."""
    path = Path(path)
    return (path / CONFIG).is_file() and (path / WEIGHTS).is_file()


def _portable_text_model(record: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint's text-model record without this machine's paths: the bundled model by
    its short name, a hub model by its name; a local folder only by its id and revision."""
    keep = ("model", "revision", "package", "dim", "pooling", "normalized")
    out = {key: record[key] for key in keep if key in record}
    source = str(record.get("source") or "")
    try:
        bundled = source and Path(source).resolve() == bundled_model_dir().resolve()
    except StickGenError:  # the bundled model is not installed here
        bundled = False
    if bundled:
        out["source"] = BUNDLED_MODEL
    elif source and source == record.get("model"):  # a hub name
        out["source"] = source
    return out


def export_config(payload: dict[str, Any]) -> dict[str, Any]:
    """`config.json` of a loaded checkpoint."""
    config = payload["config"]
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": config["model"],
        "stats": config["stats"],
        "fps": config["fps"],
        "frames": config["frames"],
        "sampler": config.get("sampler"),
        "train": config.get("train"),
        "parent": {k: v for k, v in (payload.get("parent") or {}).items() if k != "path"} or None,
        "epoch": payload.get("epoch"),
        "step": payload.get("step"),
        "metrics": {key: payload.get(key) for key in METRICS},
        "num_parameters": payload.get("num_parameters"),
        "dataset_id": payload.get("dataset_id"),
        "embedding_model": payload.get("embedding_model"),
        "embedding": _portable_text_model(payload.get("embedding") or {}),
    }


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-" if value is None else str(value)


def model_card(
    config: dict[str, Any],
    *,
    title: str,
    dataset: dict[str, Any] | None = None,
    evaluation: dict[str, Any] | None = None,
) -> str:
    """A short Markdown model card. `dataset`: the training data's summary (samples, splits,
    sources), `evaluation`: an evaluation result (`stickgen.evaluate`), when known."""
    text = config["embedding"]
    sampler = config.get("sampler") or {}
    train = config.get("train") or {}
    lines = [
        f"# {title}",
        "",
        "A Stick-Gen text-to-motion diffusion model: a prompt and its action plan in, a stick "
        f"figure's motion out ({config['fps']} fps, trained on {config['frames']}-frame clips).",
        "",
        "## Model",
        f"- preset `{train.get('preset', '-')}`, {_number(config.get('num_parameters'))} "
        f"parameters, epoch {config.get('epoch')}, step {config.get('step')}",
        f"- sampler: {sampler.get('steps', '-')} DDIM steps, guidance text "
        f"{sampler.get('text', '-')} / plan {sampler.get('plan', '-')}",
    ]
    if config.get("parent"):
        lines.append(f"- distilled from a teacher at epoch {config['parent'].get('epoch')}")
    lines += ["", "## Data", f"- dataset content id `{config.get('dataset_id') or '-'}`"]
    for key in ("num_samples", "splits", "sources", "seed"):
        if dataset and dataset.get(key) is not None:
            lines.append(f"- {key.replace('_', ' ')}: {json.dumps(dataset[key])}")
    lines += [
        "",
        "## Text model",
        f"- `{text.get('model', config.get('embedding_model'))}`, revision "
        f"`{text.get('revision') or 'unknown'}`",
        f"- {text.get('dim', '-')}-d, {text.get('pooling', '-')} pooling, L2-normalized",
    ]
    if text.get("package"):
        lines.append(f"- installed by the package `{text['package']}`")
    lines += ["", "## Validation metrics", "| metric | value |", "|---|---|"]
    lines += [f"| {key} | {_number(value)} |" for key, value in config["metrics"].items()]
    lines += ["", "## Evaluation"]
    systems = (evaluation or {}).get("systems") or {}
    if systems:
        names = sorted({m for row in systems.values() for m in row.get("metrics", {})})
        lines += ["| system | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for name, row in systems.items():
            cells = [_number((row.get("metrics", {}).get(m) or {}).get("mean")) for m in names]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    else:
        lines.append("Not evaluated.")
    lines += [
        "",
        "## Use",
        "```bash",
        'stick-gen animate "a person walks then waves" --checkpoint THIS_FOLDER -o out.mp4',
        "```",
        "",
    ]
    return "\n".join(lines)


def export_checkpoint(
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    dataset: dict[str, Any] | None = None,
    evaluation: dict[str, Any] | None = None,
    title: str | None = None,
) -> Path:
    """Write the inference export of `checkpoint` to `out_dir` (replaced whole, atomically: a
    reader never sees half an export). `dataset` and `evaluation` go into the model card."""
    from safetensors.torch import save_file

    from stickgen.train.checkpoint import load_checkpoint, model_from_checkpoint

    source = Path(checkpoint)
    payload = load_checkpoint(source)
    model, _ = model_from_checkpoint(payload, source)  # refuses what would not load
    config = export_config(payload)
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        weights = {name: t.detach().contiguous() for name, t in model.state_dict().items()}
        save_file(weights, scratch / WEIGHTS, metadata={"format": "pt"})
        (scratch / CONFIG).write_text(json.dumps(config, indent=1) + "\n")
        card = model_card(
            config, title=title or f"Stick-Gen model ({source.stem})", dataset=dataset,
            evaluation=evaluation,
        )  # fmt: skip
        (scratch / CARD).write_text(card)
        if out.exists():
            shutil.rmtree(out)
        os.replace(scratch, out)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return out


def read_export(folder: str | Path) -> dict[str, Any]:
    """An export as the payload `model_from_checkpoint` takes (weights, config, text model)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    if not is_export(folder):
        raise NotFoundError(f"no Stick-Gen export at {folder} (needs {CONFIG} and {WEIGHTS})")
    try:
        config = json.loads((folder / CONFIG).read_text())
        weights = load_file(folder / WEIGHTS)
    except (ValueError, OSError, SafetensorError) as exc:
        raise StickGenError(f"{folder} is not a readable Stick-Gen export: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise StickGenError(f"{folder / CONFIG} is not a Stick-Gen export config")
    if config.get("version") != VERSION:
        raise StickGenError(
            f"{folder} has export version {config.get('version')}, this Stick-Gen reads {VERSION}"
        )
    keys = ("model", "stats", "fps", "frames", "sampler")
    return {
        "model": weights,
        "config": {key: config.get(key) for key in keys},
        "embedding_model": config.get("embedding_model"),
        "embedding": config.get("embedding") or {},
        "epoch": config.get("epoch"),
    }
