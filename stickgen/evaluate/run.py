"""`evaluate_checkpoints`: the whole evaluation as one library call (CLI and service entry)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from stickgen.compute import available_cores, torch_threads
from stickgen.data.store import Dataset
from stickgen.diffusion import Guidance
from stickgen.embed.cache import default_cache_dir
from stickgen.evaluate.evaluator import TEXT_MODEL_ID, Evaluator
from stickgen.evaluate.learned import CheckpointSystem
from stickgen.evaluate.networks import EvaluatorConfig
from stickgen.evaluate.protocol import (
    METRICS,
    Protocol,
    chance_levels,
    classifier_ceiling,
    hard_pool_makeup,
    score_systems,
)
from stickgen.evaluate.report import markdown_report
from stickgen.evaluate.systems import (
    NOISE_LEVELS,
    GroundTruth,
    System,
    TestSet,
    TrainingPool,
    baseline_systems,
)
from stickgen.evaluate.training import EvaluatorTraining, train_evaluator
from stickgen.files import write_text_atomic
from stickgen.progress import Progress, no_progress

FORMAT = "stickgen-evaluation"
VERSION = 1
JSON_NAME = "evaluation.json"
MARKDOWN_NAME = "evaluation.md"


def cached_evaluator_path(
    dataset: Dataset,
    settings: EvaluatorTraining,
    config: EvaluatorConfig,
    cache_dir: str | Path | None = None,
) -> Path:
    """Where the evaluator for (dataset, settings, config) is cached."""
    recipe = {"settings": asdict(settings), "config": config.to_dict(), "text": TEXT_MODEL_ID}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir("evaluators")
    return directory / f"evaluator-{dataset.dataset_id}-{key}.pt"


def obtain_evaluator(
    dataset: Dataset,
    evaluator: Evaluator | str | Path | None,
    *,
    settings: EvaluatorTraining | None = None,
    cache_dir: str | Path | None = None,
    threads: int | None = None,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
) -> Evaluator:
    """The given evaluator, else the cached one for this dataset, else a newly trained (and
    cached) one."""
    if isinstance(evaluator, Evaluator):
        return evaluator
    if evaluator is not None:
        return Evaluator.load(evaluator)
    settings = settings or EvaluatorTraining()
    config = EvaluatorConfig()
    path = cached_evaluator_path(dataset, settings, config, cache_dir)
    if path.is_file():
        return Evaluator.load(path)
    return train_evaluator(
        dataset.path,
        out_path=path,
        config=config,
        settings=settings,
        threads=threads,
        progress=progress,
        should_stop=should_stop,
    )


def _write_outputs(out_dir: Path, result: dict[str, Any]) -> dict[str, str]:
    """`evaluation.json` (systems in table order) and `evaluation.md`, each written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / JSON_NAME, out_dir / MARKDOWN_NAME
    files = {"json": str(json_path), "markdown": str(md_path)}
    result["files"] = files
    write_text_atomic(json_path, json.dumps(result, indent=1) + "\n")
    write_text_atomic(md_path, markdown_report(result))
    return files


def evaluate_checkpoints(
    dataset_dir: str | Path,
    checkpoints: Sequence[str | Path] = (),
    *,
    evaluator: Evaluator | str | Path | None = None,
    out_dir: str | Path,
    seed: int = 0,
    repeats: int = 20,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
    protocol_options: dict[str, Any] | None = None,
    baselines: bool = True,
    noise_levels: tuple[float, ...] = NOISE_LEVELS,
    generator_text_model: str | Path | None = None,
    evaluator_settings: EvaluatorTraining | None = None,
    cache_dir: str | Path | None = None,
    threads: int | None = None,
    max_test_samples: int | None = None,
    include_augmented: bool = False,
    guidance: Guidance | None = None,
    steps: int | None = None,
    device: str = "auto",
    precision: str = "fp32",
    text_alone: bool = False,
) -> dict[str, Any]:
    """Score ground truth, the baselines and `checkpoints` on the test split of `dataset_dir`.

    The evaluator is `evaluator` (an `Evaluator` or a file), else the cached one trained on
    this dataset, else one trained now on its train split and cached under `cache_dir`.
    Writes `evaluation.json` and `evaluation.md` into `out_dir` and returns the JSON-able
    result: dataset, evaluator, protocol, chance levels, warnings, and `systems` (name -> row
    with `metrics` {key: {mean, ci}}, confusion matrix, per-repeat values, notes, warnings).
    `protocol_options` sets other `Protocol` fields (pool_size, mm_prompts, ...). Checkpoints
    sample on `device` in `precision` with `guidance` and `steps` (None: each model's default); with
    `text_alone` each is also scored from its prompts alone, without the story engine's plan.
    `should_stop` is polled between repeats (and training steps); `Cancelled` is raised.
    """
    started = time.perf_counter()
    dataset = Dataset(dataset_dir)
    protocol = Protocol(seed=seed, repeats=repeats, **(protocol_options or {}))
    test = TestSet.from_dataset(
        dataset, include_augmented=include_augmented, max_samples=max_test_samples, seed=seed
    )
    protocol.check(len(test))
    threads = threads or available_cores()
    with torch_threads(threads):
        trained = [
            CheckpointSystem(
                path,
                test,
                generator_text_model,
                guidance=guidance,
                device=device,
                steps=steps,
                text_alone=alone,
                precision=precision,
            )
            for path in checkpoints
            for alone in ((False, True) if text_alone else (False,))
        ]
        scorer = obtain_evaluator(
            dataset,
            evaluator,
            settings=evaluator_settings,
            cache_dir=cache_dir,
            threads=threads,
            progress=progress,
            should_stop=should_stop,
        )
        systems = _baselines(dataset, test, scorer, noise_levels, seed) if baselines else []
        rows = score_systems(
            [*(systems or [GroundTruth(test)]), *trained],
            scorer,
            test,
            protocol,
            progress=progress,
            should_stop=should_stop,
        )
        ceiling = classifier_ceiling(scorer, test)
    result = _result(dataset, test, scorer, protocol, rows, include_augmented)
    result["ceiling"] = ceiling
    result["seconds"] = round(time.perf_counter() - started, 1)
    _write_outputs(Path(out_dir), result)
    return result


def _warnings(dataset: Dataset, test: TestSet, scorer: Evaluator) -> list[str]:
    warnings = []
    if scorer.dataset_id != dataset.dataset_id:
        warnings.append(
            f"the evaluator was trained on dataset {scorer.dataset_id}, not on this one "
            f"({dataset.dataset_id}): its training data may overlap this test split"
        )
    if scorer.fps != test.fps:
        warnings.append(
            f"the evaluator was trained at {scorer.fps} fps, this dataset is {test.fps} fps"
        )
    return warnings


def _result(
    dataset: Dataset,
    test: TestSet,
    scorer: Evaluator,
    protocol: Protocol,
    rows: dict[str, dict[str, Any]],
    include_augmented: bool,
) -> dict[str, Any]:
    """The JSON-able record of one evaluation."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "dataset": {
            "path": str(dataset.path),
            "id": dataset.dataset_id,
            "split": "test",
            "samples": len(test),
            "frames": test.frames,
            "include_augmented": include_augmented,
            "embedding_model": dataset.embedding_model,
        },
        "evaluator": {
            "path": str(scorer.path) if scorer.path else None,
            "dataset_id": scorer.dataset_id,
            "same_dataset": scorer.dataset_id == dataset.dataset_id,
            "text_model": scorer.text_model_id,
            "vocabulary_size": len(scorer.vocabulary),
            "config": scorer.config.to_dict(),
            "own": {k: v for k, v in scorer.info.items() if k.startswith("val_")},
            "training": scorer.info.get("training"),
        },
        "protocol": asdict(protocol),
        "chance": chance_levels(test, protocol),
        "hard_pools": hard_pool_makeup(test, protocol),
        "metrics": [{"key": m.key, "label": m.label, "better": m.better} for m in METRICS],
        "systems": rows,
        "warnings": _warnings(dataset, test, scorer),
    }


def _baselines(
    dataset: Dataset,
    test: TestSet,
    scorer: Evaluator,
    noise_levels: tuple[float, ...],
    seed: int,
) -> list[System]:
    """Ground truth, baselines and calibration rows; retrieval uses the dataset's own text
    embeddings when it has them (the generators' text model), else the evaluator's text
    features."""
    pool = TrainingPool.from_dataset(dataset, seed)
    test_rows = np.asarray(dataset.description_index)[test.indices]
    if dataset.embeddings is not None:
        table = dataset.embeddings
        model = str(dataset.embedding_model)
        test_text = np.asarray(table[test_rows], dtype=np.float32)
        pool_text = np.asarray(table[pool.description_rows], dtype=np.float32)
    else:
        model = scorer.text_model_id
        test_text = scorer.encode_text([dataset.descriptions[r] for r in test_rows])
        pool_text = scorer.encode_text([dataset.descriptions[r] for r in pool.description_rows])
    return baseline_systems(test, pool, test_text, pool_text, model, noise_levels)
