"""Checkpoints saved before the current format: version 1 diffusion checkpoints are upgraded and
generate exactly what they generated when they were saved; the retired CVAE is refused.

`data/checkpoint_v1.pt` is the `last.pt` of a 2-epoch run of a very small diffusion model
(d_model 16) on the tiny test dataset, saved by the version 1 code; `checkpoint_v1_outputs.pt`
holds inputs and what that code's `generate` returned for them (guided with the plan, and from
text alone without guidance).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stickgen.errors import StickGenError
from stickgen.model import ModelConfig, StickGenModel
from stickgen.schema import NUM_ACTIONS
from stickgen.train import TrainConfig, load_checkpoint
from stickgen.train.checkpoint import VERSION, load_weights, model_config

DATA = Path(__file__).parent / "data"
V1 = DATA / "checkpoint_v1.pt"


def _model(payload: dict) -> StickGenModel:
    model = StickGenModel(ModelConfig.from_dict(payload["config"]["model"]))
    load_weights(model, payload["model"], V1)
    return model.eval()


def test_a_version_1_checkpoint_generates_what_it_generated_before():
    payload = load_checkpoint(V1)
    assert payload["version"] == VERSION == 2
    assert set(payload["config"]) == {"model", "stats", "fps", "frames", "train"}
    train = TrainConfig.from_dict(payload["config"]["train"])
    assert (train.preset, train.precision, train.warmup_epochs) == ("tiny", "fp32", 1)
    assert "kl" not in train.to_dict()["loss_weights"]
    model = _model(payload)
    expected = torch.load(DATA / "checkpoint_v1_outputs.pt", weights_only=True)
    with torch.no_grad():
        planned = model.generate(expected["text"], expected["plan"], noise=expected["noise"])
        text_only = model.generate(
            expected["text"], frames=expected["plan"].shape[1], noise=expected["noise"],
            guidance=1.0,
        )  # fmt: skip
    # the same computation: equal up to float rounding, which differs between CPU kernels (the
    # outputs were recorded on an AVX-512 machine; AVX2 kernels round some sums differently)
    for key, value in expected["planned"].items():
        torch.testing.assert_close(planned[key], value, rtol=0, atol=1e-5, msg=key)
        torch.testing.assert_close(
            text_only[key], expected["text_only"][key], rtol=0, atol=1e-5, msg=key
        )
    # the optimizer state comes along for resuming, one entry per parameter in the same order
    assert len(payload["optimizer"]["state"]) == len(list(model.parameters()))


def test_a_version_1_cvae_checkpoint_is_refused_with_a_clear_message(tmp_path):
    payload = torch.load(V1, weights_only=True)
    payload["config"]["model"] = {**payload["config"]["model"], "kind": "cvae"}
    torch.save(payload, tmp_path / "cvae.pt")
    with pytest.raises(StickGenError, match=r"conditional-VAE .* train a new model"):
        load_checkpoint(tmp_path / "cvae.pt")
    payload["version"] = 7
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(StickGenError, match="version 7, this Stick-Gen reads version 1 or 2"):
        load_checkpoint(tmp_path / "future.pt")


def test_a_checkpoint_with_another_action_count_is_refused():
    payload = load_checkpoint(V1)
    payload["config"]["model"]["num_actions"] = NUM_ACTIONS - 3
    with pytest.raises(StickGenError, match=f"{NUM_ACTIONS - 3} actions, this Stick-Gen has"):
        model_config(payload, V1)
