"""Inference exports: safetensors + config + model card, loaded like the checkpoint they came
from (the same clip for the same seed), by the library, the CLI and the serving cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tiny_motion_data import embed_tiny_dataset, write_tiny_dataset

from stickgen.cli import main
from stickgen.errors import StickGenError
from stickgen.export import CARD, CONFIG, WEIGHTS, export_checkpoint, read_export
from stickgen.infer import read_generator
from stickgen.schema import ActionSegment, ActionType, Actor, Scene
from stickgen.serving import ModelCache
from stickgen.textmodels import BUNDLED_MODEL
from stickgen.train import TrainConfig, load_checkpoint, train

PROMPT = "a person walks then waves"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, text_model_path) -> Path:
    """A tiny model trained for two epochs on the tiny dataset with the bundled text model."""
    root = tmp_path_factory.mktemp("export")
    data = embed_tiny_dataset(write_tiny_dataset(root / "tiny", 16, 50), text_model_path)
    config = TrainConfig(preset="tiny", epochs=2, batch_size=8, accumulate=1, lr=3e-3,
                         warmup_epochs=1, checkpoint_every=1, precision="fp32")  # fmt: skip
    return Path(train(data, root / "run", config, threads=1).best_checkpoint)


def _scene() -> Scene:
    segments = [ActionSegment(ActionType.WALK, 0.0, 1.0), ActionSegment(ActionType.WAVE, 1.0, 2.0)]
    return Scene(description=PROMPT, duration=2.0, actors=[Actor(segments=segments)])


def test_an_export_holds_weights_config_and_a_card_without_server_paths(checkpoint, tmp_path):
    out = export_checkpoint(checkpoint, tmp_path / "model", evaluation=None)
    assert sorted(p.name for p in out.iterdir()) == sorted([CARD, CONFIG, WEIGHTS])
    config = json.loads((out / CONFIG).read_text())
    payload = load_checkpoint(checkpoint)
    assert config["embedding"]["model"] == payload["embedding_model"]
    assert config["embedding"]["revision"] == payload["embedding"]["revision"]
    assert config["embedding"]["revision"].startswith("sha256:")
    assert config["embedding"]["source"] == BUNDLED_MODEL  # portable, not a folder here
    assert config["metrics"]["val_loss"] == payload["val_loss"]
    card = (out / CARD).read_text()
    assert payload["embedding"]["revision"] in card and payload["dataset_id"] in card
    assert "Not evaluated." in card
    for text in ((out / CONFIG).read_text(), card):
        assert str(checkpoint.parent) not in text and str(tmp_path) not in text
    evaluation = {"systems": {"checkpoint": {"metrics": {"r_precision_top3": {"mean": 0.5}}}}}
    card = (export_checkpoint(checkpoint, out, evaluation=evaluation) / CARD).read_text()
    assert "| checkpoint | 0.5000 |" in card and "r_precision_top3" in card


def test_an_exported_model_draws_the_same_clip_as_its_checkpoint(checkpoint, tmp_path):
    out = export_checkpoint(checkpoint, tmp_path / "model")
    for seed in (None, 3):
        direct = read_generator(checkpoint, device="cpu").generate(_scene(), seed=seed)
        exported = read_generator(out, device="cpu").generate(_scene(), seed=seed)
        assert np.array_equal(direct.motion, exported.motion)
        assert np.array_equal(direct.actions, exported.actions)
    served = ModelCache().get(out, device="cpu").generate(_scene(), seed=3)
    assert np.array_equal(served.motion, exported.motion)


def _cli(args: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        main(args)
    out, err = capsys.readouterr()
    assert not stop.value.code, err
    return out


def test_cli_exports_and_animates_the_export_like_the_checkpoint(checkpoint, tmp_path, capsys):
    out = tmp_path / "model"
    assert _cli(["export", str(checkpoint), str(out)], capsys).strip() == str(out)
    clips = {}
    for name, model in (("checkpoint", checkpoint), ("export", out)):
        video = tmp_path / f"{name}.json"
        args = ["animate", PROMPT, "-o", str(video), "--duration", "2", "--seed", "5"]
        _cli([*args, "--checkpoint", str(model), "--device", "cpu"], capsys)
        clips[name] = json.loads(video.read_text())["actors"][0]
    assert clips["export"]["motion"] == clips["checkpoint"]["motion"]
    assert clips["export"]["actions"] == clips["checkpoint"]["actions"]


def test_broken_exports_are_refused(checkpoint, tmp_path):
    out = export_checkpoint(checkpoint, tmp_path / "model")
    config = json.loads((out / CONFIG).read_text())
    (out / CONFIG).write_text(json.dumps({**config, "version": 99}))
    with pytest.raises(StickGenError, match="export version 99"):
        read_export(out)
    (out / WEIGHTS).write_bytes(b"not safetensors")
    (out / CONFIG).write_text(json.dumps(config))
    with pytest.raises(StickGenError, match="not a readable Stick-Gen export"):
        read_export(out)
    with pytest.raises(StickGenError, match="no Stick-Gen export"):
        read_export(tmp_path)
