"""Validation catches datasets corrupted on purpose; export writes the plan's train_data.pt."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import stickgen.data.export as export_module
import stickgen.data.validate as validate_module
from stickgen.cli import _register_commands
from stickgen.cli.app import app
from stickgen.data.export import export_pt
from stickgen.data.generate import generate_dataset
from stickgen.data.store import MANIFEST, Dataset, checksums, write_json_atomic
from stickgen.data.validate import validate_dataset
from stickgen.errors import StickGenError
from stickgen.schema import NUM_ACTIONS, action_vocabulary

NUM_BASE = 64


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    return generate_dataset(
        tmp_path_factory.mktemp("val") / "clean", NUM_BASE, seed=11, workers=1, batch_size=32
    )


@pytest.fixture
def copy(clean, tmp_path) -> Path:
    return Path(shutil.copytree(clean, tmp_path / "copy"))


def _rehash(path: Path) -> None:
    """Make the manifest agree with edited arrays again, so only the targeted check can fail."""
    manifest = json.loads((path / MANIFEST).read_text())
    actions = np.load(path / "actions.npy")
    split = np.load(path / "split.npy")
    counts = np.bincount(actions.ravel(), minlength=NUM_ACTIONS)[:NUM_ACTIONS]
    manifest["action_histogram"] = {
        k: int(c) for k, c in zip(action_vocabulary(), counts, strict=True)
    }
    manifest["splits"] = {
        name: int((split == k).sum()) for k, name in enumerate(("train", "val", "test"))
    }
    manifest["checksums"] = checksums(path)
    write_json_atomic(path / MANIFEST, manifest)


def _edit(path: Path, field: str, edit) -> None:
    array = np.load(path / f"{field}.npy", mmap_mode="r+")
    edit(array)
    array.flush()
    del array


def _failed(report) -> set[str]:
    return {c.name for c in report.failures}


def test_clean_dataset_passes_full_and_quick(clean):
    for full in (True, False):
        report = validate_dataset(clean, full=full)
        assert report.ok, str(report)
    names = {c.name for c in validate_dataset(clean).checks}
    assert {"checksums", "shapes", "finite", "physics", "bone lengths", "ground"} <= names
    assert "checksums" not in {c.name for c in validate_dataset(clean, full=False).checks}


def test_flipped_bytes_fail_the_checksum(copy):
    size = (copy / "motion.npy").stat().st_size
    with open(copy / "motion.npy", "r+b") as fh:
        fh.seek(size // 2)
        byte = fh.read(1)
        fh.seek(size // 2)
        fh.write(bytes([byte[0] ^ 0x01]))
    report = validate_dataset(copy)
    assert not report.ok
    assert "checksums" in _failed(report)
    assert "motion.npy" in report.check("checksums").detail


def test_nan_fails_the_finite_check_in_both_modes(copy):
    _edit(copy, "motion", lambda a: a.__setitem__((7, 100, 3), np.nan))
    _rehash(copy)
    for full in (True, False):
        report = validate_dataset(copy, full=full)
        assert "finite" in _failed(report)
        assert "motion" in report.check("finite").detail


def test_wrong_shape_fails(copy):
    face = np.load(copy / "face.npy")
    np.save(copy / "face.npy", face[..., :6])
    report = validate_dataset(copy)
    assert _failed(report) == {"shapes"}
    assert "face" in report.check("shapes").detail


def test_inconsistent_physics_fails(copy):
    _edit(copy, "physics", lambda a: a.__setitem__(slice(None), a * 1.5 + 0.1))
    _rehash(copy)
    assert _failed(validate_dataset(copy)) == {"physics"}


def test_stretched_bone_fails_and_names_the_clip(copy):
    def stretch(motion):  # move clip 12's left hand further from the neck on half the frames
        motion[12, :125, 6:8] += 0.2 * (motion[12, :125, 6:8] - motion[12, :125, 4:6])

    _edit(copy, "motion", stretch)
    _rehash(copy)
    report = validate_dataset(copy)
    assert "bone lengths" in _failed(report)
    assert "clip 12" in report.check("bone lengths").detail


def test_figure_below_ground_fails(copy):
    _edit(copy, "motion", lambda a: a[20, :, 1::2].__isub__(0.05))
    _rehash(copy)
    report = validate_dataset(copy)
    assert "ground" in _failed(report)
    assert "clip 20" in report.check("ground").detail


def test_scene_in_two_splits_fails(copy):
    split = np.load(copy / "split.npy")
    split[3] = (split[3] + 1) % 3  # one augmented copy of scene 0 moves to another split
    np.save(copy / "split.npy", split)
    _rehash(copy)
    report = validate_dataset(copy)
    assert _failed(report) == {"split hygiene"}
    assert "1 scenes in two splits" in report.check("split hygiene").detail


def test_labels_out_of_range_fail(copy):
    _edit(copy, "actions", lambda a: a.__setitem__((5, 10), 200))
    _edit(copy, "face", lambda a: a.__setitem__((6, 10, 4), 1.5))
    _rehash(copy)
    detail = validate_dataset(copy).check("labels")
    assert not detail.passed
    assert "action label 200" in detail.detail and "openness" in detail.detail


def test_empty_description_fails(copy):
    lines = (copy / "descriptions.jsonl").read_text().splitlines()
    lines[0] = json.dumps("   ")
    (copy / "descriptions.jsonl").write_text("\n".join(lines) + "\n")
    _rehash(copy)
    assert _failed(validate_dataset(copy)) == {"descriptions"}


def test_rare_action_is_an_error_for_synthetic_data_and_a_warning_otherwise(copy, monkeypatch):
    _edit(copy, "actions", lambda a: a.__setitem__(a == 5, 0))  # no CLIMB frames at all
    _rehash(copy)
    report = validate_dataset(copy)
    assert report.check("action coverage").severity == "warning"  # too few scenes to judge
    monkeypatch.setattr(validate_module, "COVERAGE_MIN_SCENES", NUM_BASE)
    report = validate_dataset(copy)
    coverage = report.check("action coverage")
    assert not coverage.passed and coverage.severity == "error" and not report.ok
    assert "climb 0.00%" in coverage.detail
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["sources"] = ["amass"]
    write_json_atomic(copy / MANIFEST, manifest)
    report = validate_dataset(copy)
    assert report.check("action coverage").severity == "warning"
    assert report.check("action coverage") in report.warnings
    assert report.ok, str(report)


def test_embedding_checks_run_when_the_manifest_has_an_embedding(copy):
    from stickgen.embed.dataset import write_embeddings

    ds = Dataset(copy)
    vectors = np.random.default_rng(0).normal(size=(len(ds.descriptions), 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    entry = {"model": "test-model", "dim": 16, "pooling": "mean", "normalized": True}
    write_embeddings(copy, vectors.astype(np.float32), {**entry, "count": len(vectors)})
    names = {c.name for c in validate_dataset(copy).checks}
    assert "embeddings present" in names
    assert validate_dataset(copy).check("checksums").passed


def test_incomplete_or_missing_dataset_is_a_user_error(tmp_path):
    with pytest.raises(StickGenError, match="no dataset"):
        validate_dataset(tmp_path / "missing")
    (tmp_path / "half.tmp").mkdir()
    with pytest.raises(StickGenError, match="incomplete"):
        validate_dataset(tmp_path / "half")


def test_report_reads_well(copy):
    text = str(validate_dataset(copy))
    assert text.splitlines()[0].startswith(f"{copy}: ")
    assert "[  ok] checksums" in text


def test_export_passes_the_plans_snippet(clean, tmp_path):
    out = export_pt(clean, tmp_path / "data" / "train_data.pt", limit=40)
    snippet = """
import torch
data = torch.load('data/train_data.pt')
print(f'Total samples: {len(data)}')
print(f'Sample keys: {list(data[0].keys())}')
print(f'Motion shape: {data[0]["motion"].shape}')
print(f'Actions shape: {data[0]["actions"].shape}')
print(f'Physics shape: {data[0]["physics"].shape}')
print('✅ Dataset generation successful!')
""".replace("data/train_data.pt", str(out))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(snippet, {})
    lines = printed.getvalue().splitlines()
    assert lines[0] == "Total samples: 40"
    keys = ["description", "motion", "actions", "physics", "face"]
    assert lines[1] == f"Sample keys: {keys}"
    assert lines[2] == "Motion shape: torch.Size([250, 20])"
    assert lines[3] == "Actions shape: torch.Size([250])"
    assert lines[4] == "Physics shape: torch.Size([250, 6])"
    data = torch.load(out)
    ds = Dataset(clean)
    assert data[7]["description"] == ds.description(7)
    np.testing.assert_array_equal(data[7]["motion"].numpy(), ds.motion[7])
    assert data[7]["actions"].dtype == torch.int64 and data[7]["face"].shape == (250, 7)


def test_export_refuses_big_or_existing_output(clean, tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "MAX_PT_SAMPLES", 10)
    with pytest.raises(StickGenError, match="too many"):
        export_pt(clean, tmp_path / "big.pt")
    assert not (tmp_path / "big.pt").exists()
    export_pt(clean, tmp_path / "big.pt", limit=10)
    with pytest.raises(StickGenError, match="already exists"):
        export_pt(clean, tmp_path / "big.pt", limit=10)
    export_pt(clean, tmp_path / "big.pt", force=True, overwrite=True)
    assert len(torch.load(tmp_path / "big.pt")) == 5 * NUM_BASE


def test_cli_validate_and_export(clean, copy, tmp_path):
    _register_commands()
    cli = CliRunner()
    result = cli.invoke(app, ["data", "validate", str(clean), "--quick"])
    assert result.exit_code == 0, result.output
    assert "OK (quick" in result.output
    _edit(copy, "motion", lambda a: a.__setitem__((0, 0, 0), np.inf))
    result = cli.invoke(app, ["data", "validate", str(copy), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["ok"] is False
    assert {c["name"] for c in report["checks"] if not c["passed"]} >= {"finite", "checksums"}
    result = cli.invoke(app, ["data", "validate", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no dataset" in result.output
    out = tmp_path / "train_data.pt"
    args = ["data", "export", str(clean), "--format", "pt", "--out", str(out), "--limit", "5"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(torch.load(out)) == 5
    result = cli.invoke(app, [*args[:4], "csv", *args[5:]])
    assert result.exit_code == 2 and "only 'pt'" in " ".join(result.output.split())
