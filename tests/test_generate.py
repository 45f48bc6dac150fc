"""Dataset generation and merging: determinism, shards, layout, splits, cancellation, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import stickgen.data.generate as generate_module
from stickgen.cli import _register_commands
from stickgen.cli.app import app
from stickgen.data.augment import ClipBatch, mirror_clips
from stickgen.data.generate import generate_dataset
from stickgen.data.merge import merge_datasets
from stickgen.data.store import (
    AUGMENTATIONS,
    PER_SAMPLE_FIELDS,
    Dataset,
    DatasetWriter,
    checksums,
)
from stickgen.data.validate import validate_dataset
from stickgen.errors import Cancelled, StickGenError
from stickgen.schema import CLIP_FRAMES, NUM_ACTIONS

NUM_BASE = 96
BATCH = 16  # six batches: more than a 2-worker pool keeps in flight
DATA_FILES = [f"{name}.npy" for name in PER_SAMPLE_FIELDS] + ["descriptions.jsonl"]


def _generate(path: Path, **kwargs) -> Path:
    kwargs.setdefault("workers", 1)
    kwargs.setdefault("batch_size", BATCH)
    return generate_dataset(path, kwargs.pop("num_base", NUM_BASE), **kwargs)


def _same_files(a: Path, b: Path, names=DATA_FILES) -> None:
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("gen") / "ds", seed=3)


def test_same_seed_gives_the_same_bytes_whatever_the_workers(dataset, tmp_path):
    two = _generate(tmp_path / "two", seed=3, workers=2)
    _same_files(dataset, two, [*DATA_FILES, "manifest.json"])
    other = _generate(tmp_path / "other", seed=4)
    assert (dataset / "motion.npy").read_bytes() != (other / "motion.npy").read_bytes()


def test_shards_merge_to_the_unsharded_dataset(dataset, tmp_path):
    shards = [_generate(tmp_path / f"shard{i}", seed=3, shard=(i, 3)) for i in range(3)]
    sizes = [len(Dataset(s)) for s in shards]
    assert sizes == [2 * 5 * BATCH] * 3
    merged = merge_datasets(shards, tmp_path / "merged")
    _same_files(dataset, merged)
    whole, joined = Dataset(dataset).manifest, Dataset(merged).manifest
    for key in ("checksums", "generator", "seed", "splits", "action_histogram", "sources"):
        assert joined[key] == whole[key], key
    assert Dataset(shards[1]).manifest["generator"]["shard"] == {
        "index": 1,
        "count": 3,
        "scenes": [2 * BATCH, 4 * BATCH],
    }


def test_layout_five_copies_per_scene_in_one_split(dataset):
    ds = Dataset(dataset)
    assert len(ds) == 5 * NUM_BASE
    scene = np.asarray(ds.scene_id).reshape(NUM_BASE, 5)
    assert (scene == np.arange(NUM_BASE)[:, None]).all()
    assert (np.asarray(ds.augmentation).reshape(NUM_BASE, 5) == np.arange(5)).all()
    split = np.asarray(ds.split).reshape(NUM_BASE, 5)
    assert (split == split[:, :1]).all()
    assert set(np.unique(split)) <= {0, 1, 2}
    assert (split == 0).mean() > 0.7
    index = np.asarray(ds.description_index).reshape(NUM_BASE, 5)
    assert (index == index[:, :1]).all()


def test_augmented_copies_are_the_augmented_base(dataset):
    ds = Dataset(dataset)
    base = np.arange(0, len(ds), 5)
    clips = ClipBatch(
        np.asarray(ds.motion[base]),
        np.asarray(ds.actions[base], dtype=np.int64),
        np.asarray(ds.physics[base]),
        np.asarray(ds.face[base]),
    )
    mirrored = mirror_clips(clips)
    mirror = AUGMENTATIONS.index("mirror")
    np.testing.assert_allclose(ds.motion[base + mirror], mirrored.motion, atol=1e-5)
    np.testing.assert_array_equal(ds.actions[base + mirror], ds.actions[base])
    shift = ds.motion[base + AUGMENTATIONS.index("position")] - ds.motion[base]
    np.testing.assert_allclose(shift[..., 1::2], 0, atol=1e-5)
    assert np.abs(shift[..., 0::2]).max() > 0.1
    speed = AUGMENTATIONS.index("speed")
    assert not np.array_equal(ds.actions[base + speed], ds.actions[base])


def test_manifest_records_recipe_histogram_and_descriptions(dataset):
    m = Dataset(dataset).manifest
    assert m["seed"] == 3
    gen = m["generator"]
    assert gen["num_base"] == NUM_BASE and gen["batch_size"] == BATCH
    assert gen["augment"]["kinds"] == ["speed", "position", "scale", "mirror"]
    assert gen["augment"]["speed_range"] == [0.8, 1.25]
    assert {"stickgen", "numpy", "story", "motion"} <= set(gen["versions"])
    assert gen["shard"] is None
    assert sum(m["action_histogram"].values()) == 5 * NUM_BASE * CLIP_FRAMES
    assert len(m["action_histogram"]) == NUM_ACTIONS
    assert abs(sum(m["action_share"].values()) - 1) < 1e-4
    assert 1 < m["unique_descriptions"] <= NUM_BASE
    assert sum(m["splits"].values()) == 5 * NUM_BASE


def test_generated_dataset_validates(dataset):
    report = validate_dataset(dataset)
    failed = [str(c) for c in report.checks if not c.passed and c.name != "action coverage"]
    assert not failed


def test_no_augmentation_gives_one_sample_per_scene(tmp_path):
    ds = Dataset(_generate(tmp_path / "plain", num_base=40, augment=False))
    assert len(ds) == 40
    assert not np.asarray(ds.augmentation).any()
    assert Dataset(ds.path).manifest["generator"]["augment"] is None


def _assert_nothing_left(path: Path) -> None:
    assert not path.exists()
    assert not path.with_name(path.name + ".tmp").exists()


def test_cancel_between_batches_leaves_no_dataset(tmp_path):
    polls = []

    def should_stop() -> bool:
        polls.append(1)
        return len(polls) >= 2

    out = tmp_path / "cancelled"
    with pytest.raises(Cancelled):
        _generate(out, should_stop=should_stop)
    _assert_nothing_left(out)


def test_cancel_with_workers_keeps_the_old_dataset(dataset, tmp_path):
    out = tmp_path / "kept"
    shutil.copytree(dataset, out)
    polls = []

    def should_stop() -> bool:
        polls.append(1)
        return len(polls) >= 2

    with pytest.raises(Cancelled):
        _generate(out, seed=9, workers=2, overwrite=True, should_stop=should_stop)
    assert not out.with_name("kept.tmp").exists()
    _same_files(dataset, out, [*DATA_FILES, "manifest.json"])


def test_failure_mid_way_leaves_no_dataset(tmp_path, monkeypatch):
    real = generate_module.generate_batch

    def flaky(recipe, batch, stage=None):
        if batch == 1:
            raise RuntimeError("engine crashed")
        return real(recipe, batch, stage)

    monkeypatch.setattr(generate_module, "generate_batch", flaky)
    out = tmp_path / "crashed"
    with pytest.raises(RuntimeError, match="engine crashed"):
        _generate(out)
    _assert_nothing_left(out)
    with pytest.raises(StickGenError):
        Dataset(out)


def test_description_naming_a_side_is_refused(tmp_path, monkeypatch):
    sample_scene, synthesize_batch, face_tracks = generate_module._engines()

    def sided(rng, duration=10.0, theme=None):
        scene = sample_scene(rng, duration=duration)
        scene.description = "a person waves with the left hand"
        return scene

    monkeypatch.setattr(generate_module, "_engines", lambda: (sided, synthesize_batch, face_tracks))
    with pytest.raises(RuntimeError, match="named a side"):
        _generate(tmp_path / "sided", num_base=8)
    _assert_nothing_left(tmp_path / "sided")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_base": 0}, "at least 1"),
        ({"num_base": -5}, "at least 1"),
        ({"shard": (3, 3)}, "does not exist"),
        ({"shard": (0, 7)}, "only 6 batches"),
        ({"val_fraction": 0.6, "test_fraction": 0.5}, "split fractions"),
        ({"workers": 0}, "workers"),
    ],
)
def test_bad_arguments_are_user_errors(tmp_path, kwargs, message):
    with pytest.raises(StickGenError, match=message):
        _generate(tmp_path / "bad", **kwargs)
    _assert_nothing_left(tmp_path / "bad")


def test_existing_output_is_refused_without_overwrite(dataset):
    with pytest.raises(StickGenError, match="already exists"):
        _generate(dataset)


def _tiny(path: Path, scenes: range, source: str = "synthetic", seed: int = 0) -> Path:
    """A one-sample-per-scene dataset written by hand (for merge rules)."""
    rng = np.random.default_rng(seed)
    n = len(scenes)
    with DatasetWriter(path, n, CLIP_FRAMES, sources=[source]) as writer:
        writer.write(
            0,
            descriptions=[f"scene number {s % 3}" for s in scenes],
            motion=rng.normal(size=(n, CLIP_FRAMES, 20)).astype(np.float32),
            actions=rng.integers(0, NUM_ACTIONS, (n, CLIP_FRAMES)).astype(np.uint8),
            physics=np.zeros((n, CLIP_FRAMES, 6), np.float32),
            face=np.zeros((n, CLIP_FRAMES, 7), np.float32),
            scene_id=np.asarray(scenes, dtype=np.int64),
            split=(np.arange(n) % 3).astype(np.uint8),
            augmentation=np.zeros(n, np.uint8),
        )
        return writer.finish()


@pytest.mark.parametrize("order", ["in order", "reversed"])
def test_writer_checksums_match_the_files(tmp_path, order):
    rng = np.random.default_rng(0)
    n, step = 10, 3
    starts = list(range(0, n, step))
    if order == "reversed":
        starts.reverse()
    with DatasetWriter(tmp_path / "w", n, 4) as writer:
        for start in starts:
            m = min(step, n - start)
            writer.write(
                start,
                descriptions=[f"text {start + i}" for i in range(m)],
                motion=rng.normal(size=(m, 4, 20)),
                actions=np.full((m, 4), start, dtype=np.uint8),
                physics=np.zeros((m, 4, 6)),
                face=np.zeros((m, 4, 7)),
                scene_id=np.arange(start, start + m),
                split=np.zeros(m, dtype=np.uint8),
                augmentation=np.zeros(m, dtype=np.uint8),
            )
        path = writer.finish()
    ds = Dataset(path)
    assert ds.manifest["checksums"] == checksums(path)
    assert [int(ds.actions[i][0]) for i in range(n)] == [i - i % step for i in range(n)]
    assert ds.description(7) == "text 7"


def _add_embeddings(path: Path, model: str) -> None:
    from stickgen.embed.dataset import write_embeddings

    ds = Dataset(path)
    seeds = [sum(text.encode()) + len(model) for text in ds.descriptions]  # same text, same vector
    vectors = np.stack([np.random.default_rng(s).normal(size=8) for s in seeds])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    entry = {"model": model, "dim": 8, "pooling": "mean", "normalized": True}
    write_embeddings(path, vectors.astype(np.float32), {**entry, "count": len(vectors)})


def test_merge_offsets_overlapping_scenes_and_tags_sources(tmp_path):
    a = _tiny(tmp_path / "a", range(0, 6))
    b = _tiny(tmp_path / "b", range(2, 8), seed=1)
    merged = Dataset(merge_datasets([a, b], tmp_path / "ab", source_tags=["synthetic", "amass"]))
    assert merged.manifest["sources"] == ["synthetic", "amass"]
    assert list(merged.source) == [0] * 6 + [1] * 6
    assert len(np.unique(merged.scene_id)) == 12
    assert list(merged.split) == list(Dataset(a).split) + list(Dataset(b).split)
    assert merged.descriptions == ["scene number 0", "scene number 1", "scene number 2"]
    for i in range(12):
        src, j = (Dataset(a), i) if i < 6 else (Dataset(b), i - 6)
        assert merged.description(i) == src.description(j)
        np.testing.assert_array_equal(merged.motion[i], src.motion[j])
    assert merged.manifest["action_histogram"] == {
        k: Dataset(a).manifest["action_histogram"][k] + Dataset(b).manifest["action_histogram"][k]
        for k in merged.manifest["action_histogram"]
    }
    report = validate_dataset(merged.path)
    assert report.check("split hygiene").passed and report.check("checksums").passed


def test_merge_embeddings_carried_dropped_or_refused(tmp_path):
    a = _tiny(tmp_path / "a", range(0, 4))
    b = _tiny(tmp_path / "b", range(4, 9))
    c = _tiny(tmp_path / "c", range(9, 12))
    for path in (a, b):
        _add_embeddings(path, "model-x")
    both = Dataset(merge_datasets([a, b], tmp_path / "ab"))
    assert both.embedding_model == "model-x"
    assert both.manifest["embedding"]["count"] == len(both.descriptions)
    for i in range(len(both)):
        src, j = (Dataset(a), i) if i < 4 else (Dataset(b), i - 4)
        np.testing.assert_array_equal(both.embedding(i), src.embedding(j))
    assert validate_dataset(both.path).check("checksums").passed

    partial = Dataset(merge_datasets([a, c], tmp_path / "ac"))
    assert partial.embeddings is None and partial.manifest["embedding"] is None
    assert "embeddings dropped" in partial.manifest["notes"][0]

    _add_embeddings(c, "model-y")
    with pytest.raises(StickGenError, match="different text models"):
        merge_datasets([a, c], tmp_path / "refused")
    _assert_nothing_left(tmp_path / "refused")


def test_merge_refuses_bad_input(tmp_path):
    a = _tiny(tmp_path / "a", range(3))
    with pytest.raises(StickGenError, match="at least one"):
        merge_datasets([], tmp_path / "out")
    with pytest.raises(StickGenError, match="tags"):
        merge_datasets([a], tmp_path / "out", source_tags=["x", "y"])
    with pytest.raises(StickGenError, match="one of the inputs"):
        merge_datasets([a], a, overwrite=True)
    with pytest.raises(StickGenError, match="no dataset"):
        merge_datasets([tmp_path / "missing"], tmp_path / "out")


def _said(result) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def cli() -> CliRunner:
    _register_commands()
    return CliRunner()


def test_cli_generate_merge_and_bad_input(cli, tmp_path):
    out = tmp_path / "cli"
    args = ["data", "generate", "--out", str(out), "--num-base", "12", "--workers", "1"]
    result = cli.invoke(app, [*args, "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert len(Dataset(out)) == 60
    result = cli.invoke(app, [*args, "--seed", "5"])
    assert result.exit_code == 2 and "already exists" in _said(result)
    result = cli.invoke(
        app, ["data", "generate", "--out", str(tmp_path / "neg"), "--num-base", "-3"]
    )
    assert result.exit_code == 2 and "at least 1" in _said(result)
    result = cli.invoke(
        app, ["data", "generate", "--out", str(tmp_path / "s"), "--shard", "x", "--num-base", "4"]
    )
    assert result.exit_code == 2 and "INDEX/COUNT" in _said(result)

    merged = tmp_path / "merged"
    result = cli.invoke(
        app, ["data", "merge", str(out), str(out), "--out", str(merged), "--tag", "a", "--tag", "b"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((merged / "manifest.json").read_text())["sources"] == ["a", "b"]
    result = cli.invoke(app, ["data", "merge", str(tmp_path / "nope"), "--out", str(merged)])
    assert result.exit_code == 2 and "no dataset" in _said(result)


def test_progress_moves_within_a_batch(tmp_path) -> None:
    """A small dataset is one batch: its progress still moves (scenes, motion, augmentation)."""
    calls: list[tuple[int, int, str]] = []
    generate_dataset(tmp_path / "ds", 20, workers=1, progress=lambda *c: calls.append(c))
    total = calls[0][1]
    inside = [done for done, _, message in calls if 0 < done < total]
    assert len(inside) >= 3 and inside == sorted(inside)
    assert any("batch 1/1: motion made" in message for _, _, message in calls)
