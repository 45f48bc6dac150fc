"""Training: schedule, loss going down, checkpoints (atomic, strict), resume, refusals, CLI."""

from __future__ import annotations

import itertools
import json
import math
import shutil

import numpy as np
import pytest
import torch
from tiny_motion_data import embed_tiny_dataset, write_tiny_dataset

from stickgen.cli import main
from stickgen.data.store import Dataset
from stickgen.diffusion import UNGUIDED, Guidance, Sampler
from stickgen.errors import Cancelled, StickGenError
from stickgen.model import build_model
from stickgen.train import LossWeights, TrainConfig, load_checkpoint, model_from_checkpoint, train
from stickgen.train.batches import BatchReader
from stickgen.train.checkpoint import save_checkpoint
from stickgen.train.distill import Teacher, TeacherSamples, teacher_gap
from stickgen.train.losses import denoising_loss
from stickgen.train.metrics import action_accuracy, validate_epoch, validation_noise
from stickgen.train.schedule import learning_rate

FAST = dict(preset="tiny", batch_size=8, accumulate=1, lr=3e-3, warmup_epochs=1, precision="fp32")
EPOCHS = 24  # the shared run: long enough for the model to follow text alone
RUNTIME = ("resume", "should_stop", "on_checkpoint", "expected_embedding_model", "text_model")


def fit(dataset, out, **settings):
    """`train` on one thread with a `TrainConfig` of `settings` (minus the runtime options)."""
    runtime = {key: settings.pop(key) for key in RUNTIME if key in settings}
    return train(dataset, out, TrainConfig(**settings), threads=1, **runtime)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, text_model_path):
    path = write_tiny_dataset(tmp_path_factory.mktemp("data") / "tiny", frames=50)
    return embed_tiny_dataset(path, text_model_path)


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    seen = []

    def on_checkpoint(info):
        seen.append({**info, "existed": (out / info["path"].split("/")[-1]).exists()})

    result = fit(
        dataset, out, epochs=EPOCHS, checkpoint_every=12, on_checkpoint=on_checkpoint, **FAST
    )
    return result, seen


def test_warmup_then_cosine_schedule_values():
    kw = dict(base_lr=1e-3, warmup_steps=10, total_steps=50)
    assert learning_rate(0, **kw) == pytest.approx(1e-4)
    assert learning_rate(4, **kw) == pytest.approx(5e-4)
    assert learning_rate(9, **kw) == pytest.approx(1e-3)  # warmup ends at the peak
    assert learning_rate(10, **kw) == pytest.approx(1e-3)
    assert learning_rate(30, **kw) == pytest.approx(5e-4)  # half way through the cosine
    assert learning_rate(20, **kw) == pytest.approx(1e-3 * (1 + math.cos(math.pi / 4)) / 2)
    assert learning_rate(50, **kw) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate(80, **kw) == pytest.approx(0.0, abs=1e-12)
    rates = [learning_rate(s, **kw) for s in range(50)]
    assert all(a <= b for a, b in itertools.pairwise(rates[:10]))
    assert all(a >= b for a, b in itertools.pairwise(rates[10:]))
    assert learning_rate(0, base_lr=1.0, warmup_steps=0, total_steps=4) == 1.0


def test_training_lowers_the_generation_loss(dataset, trained):
    result, _ = trained
    ds = Dataset(dataset)
    payload = load_checkpoint(result.best_checkpoint)
    model, stats = model_from_checkpoint(payload)
    fresh = build_model(model.config, seed=0)
    val = ds.split_indices("val")
    reader = BatchReader(ds)
    before = validate_epoch(fresh, reader, val, stats, LossWeights())
    after = validate_epoch(model, reader, val, stats, LossWeights())
    assert after["val_loss"] < 0.75 * before["val_loss"]
    assert after["val_loss_text"] < 0.75 * before["val_loss_text"]
    assert after["val_action_accuracy"] > before["val_action_accuracy"]
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert payload["val_loss"] == pytest.approx(after["val_loss"], rel=1e-4)


def test_val_loss_is_the_seeded_training_objective(dataset, trained):
    result, _ = trained
    ds = Dataset(dataset)
    model, stats = model_from_checkpoint(load_checkpoint(result.last_checkpoint))
    val, reader = ds.split_indices("val"), BatchReader(ds)
    whole = validate_epoch(model, reader, val, stats, LossWeights(), batch_size=64)
    again = validate_epoch(model, reader, val, stats, LossWeights(), batch_size=64)
    for key in ("val_loss", "val_loss_text"):
        assert again[key] == whole[key]
    assert whole["val_sample_loss"] != pytest.approx(whole["val_loss"])
    batch = reader.read(val)
    plan = batch["actions"]
    t, noise = validation_noise(model, val, plan.shape[1])
    tail_t, tail_noise = validation_noise(model, val[2:], plan.shape[1])  # a sample's own draw
    assert torch.equal(tail_t, t[2:]) and torch.equal(tail_noise, noise[2:])
    with torch.no_grad():
        expected, _ = denoising_loss(model, batch, stats, LossWeights(), plan, t, noise)
    assert whole["val_loss"] == pytest.approx(float(expected), rel=1e-5)
    other = validation_noise(model, val + 1, plan.shape[1])
    assert not torch.equal(other[1], noise)


@torch.no_grad()
def _text_only_accuracy(model, batch, noise) -> float:
    """Share of frames whose action the model generates from text alone (no plan)."""
    out = model.generate(batch["text"], frames=batch["actions"].shape[1], noise=noise)
    return float(action_accuracy(out["actions"], batch["actions"]).mean())


def test_text_alone_gives_the_actions_whatever_the_noise(dataset, trained):
    """Without a plan the actions must come from the text: any starting noise gives them."""
    result, _ = trained
    model, _ = model_from_checkpoint(load_checkpoint(result.last_checkpoint))
    ds = Dataset(dataset)
    batch = BatchReader(ds).read(ds.split_indices("val"))
    labels = batch["actions"].flatten()
    chance = float(torch.bincount(labels).max()) / len(labels)  # always the commonest action
    shape = model.noise_shape(*batch["actions"].shape)
    typical = _text_only_accuracy(model, batch, None)
    drawn = [
        _text_only_accuracy(
            model, batch, torch.randn(shape, generator=torch.Generator().manual_seed(s))
        )
        for s in range(2)
    ]
    for accuracy in (typical, *drawn):
        assert accuracy > max(0.5, chance + 0.2), (accuracy, chance)


def test_run_writes_checkpoints_metrics_and_curve(dataset, trained):
    result, seen = trained
    out = result.out_dir
    names = {p.name for p in out.iterdir()}
    assert {"checkpoint_epoch_12.pt", "checkpoint_epoch_24.pt", "best.pt", "last.pt"} <= names
    assert {"metrics.jsonl", "loss_curve.png"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(1, EPOCHS + 1))
    for key in (
        "train_loss",
        "val_loss",
        "val_loss_text",
        "val_smoothness",
        "val_position",
        "val_action_accuracy",
        "val_action_accuracy_text",
        "val_smoothness_data",
    ):
        assert all(np.isfinite(r[key]) for r in rows), key
    # callbacks came after each file was in place, for every kind of checkpoint
    assert all(info["existed"] for info in seen)
    assert {i["kind"] for i in seen} == {"epoch", "best", "last"}
    assert [i["epoch"] for i in seen if i["kind"] == "last"] == list(range(1, EPOCHS + 1))
    best = min(rows, key=lambda r: r["val_loss"])
    payload = load_checkpoint(out / "best.pt")
    assert payload["epoch"] == best["epoch"] and payload["val_loss"] == best["val_loss"]
    ds = Dataset(dataset)
    assert payload["dataset_id"] == ds.dataset_id
    assert payload["embedding_model"] == ds.embedding_model
    for key in ("train_loss", "val_smoothness", "val_position", "val_action_accuracy"):
        assert isinstance(payload[key], float)
    assert payload["config"]["train"]["preset"] == "tiny"
    assert payload["config"]["train"]["precision"] == "fp32"
    assert payload["config"]["model"]["text_dim"] == ds.embeddings.shape[1]
    assert set(payload["config"]["stats"]["mean"]) == {"pose", "root", "velocity", "physics"}
    assert {"optimizer", "scheduler", "resume"} <= set(payload)


def test_checkpoint_round_trip_is_strict(trained, tmp_path):
    result, _ = trained
    payload = load_checkpoint(result.best_checkpoint)
    model, _ = model_from_checkpoint(payload)
    again, _ = model_from_checkpoint(load_checkpoint(result.best_checkpoint))
    text, plan = torch.randn(2, model.config.text_dim), torch.randint(0, 46, (2, 60))
    noise = torch.randn(model.noise_shape(2, 60))
    with torch.no_grad():
        out, out_again = (m.generate(text, plan, noise=noise, steps=4) for m in (model, again))
        untrained = build_model(model.config, seed=0).eval().generate(text, plan, noise=noise)
    for key in out:
        assert torch.equal(out[key], out_again[key])
    assert not torch.allclose(out["pose"], untrained["pose"], atol=1e-3)

    missing = {**payload, "model": dict(payload["model"])}
    missing["model"].pop(next(iter(missing["model"])))
    extra = {**payload, "model": {**payload["model"], "surplus.weight": torch.zeros(1)}}
    key = "heads.pose.weight"
    shaped = {**payload, "model": {**payload["model"], key: torch.zeros(3, 3)}}
    for bad in (missing, extra, shaped):
        path = save_checkpoint(tmp_path / "bad.pt", bad)
        with pytest.raises(StickGenError, match="weights do not match"):
            model_from_checkpoint(load_checkpoint(path), path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(StickGenError):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"format": "other"}, tmp_path / "foreign.pt")
    with pytest.raises(StickGenError, match="not a Stick-Gen checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pt", "foreign.pt", "junk.pt"]


def test_resume_after_stop_gives_the_same_weights(dataset, tmp_path):
    settings = dict(FAST, batch_size=4, accumulate=2, epochs=3, checkpoint_every=1, seed=5)
    straight = fit(dataset, tmp_path / "a", **settings)

    calls = {"n": 0}

    def stop_after_seven() -> bool:
        calls["n"] += 1
        return calls["n"] == 7  # mid-way through epoch 2 (5 optimizer steps per epoch)

    with pytest.raises(Cancelled):
        fit(dataset, tmp_path / "b", should_stop=stop_after_seven, **settings)
    stopped = load_checkpoint(tmp_path / "b" / "last.pt")
    assert stopped["epoch"] == 1 and stopped["step"] == 7 and stopped["resume"]["batch"] == 4
    half_written = tmp_path / "b" / ".last.pt.0c1d2e3f.tmp"  # a writer killed mid-write
    half_written.write_bytes(b"PK\x03\x04")
    (tmp_path / "b" / "notes.tmp").write_text("the user's own")
    resumed = fit(dataset, tmp_path / "b", resume=True, **settings)
    assert not half_written.exists() and (tmp_path / "b" / "notes.tmp").exists()

    a = load_checkpoint(tmp_path / "a" / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "last.pt")
    assert a["step"] == b["step"] == resumed.steps == 15
    assert set(a["model"]) == set(b["model"])
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for sa, sb in zip(
        a["optimizer"]["state"].values(), b["optimizer"]["state"].values(), strict=True
    ):
        assert torch.equal(sa["exp_avg_sq"], sb["exp_avg_sq"])
    for ra, rb in zip(straight.history, resumed.history, strict=True):
        assert ra["val_loss"] == rb["val_loss"] and ra["train_loss"] == pytest.approx(
            rb["train_loss"]
        )
    # resuming a finished run changes nothing
    done = fit(dataset, tmp_path / "b", resume=True, **settings)
    assert done.steps == 15 and len(done.history) == 3


def test_refusals_are_clear_user_errors(dataset, trained, tmp_path, text_model_path):
    result, _ = trained
    bare = write_tiny_dataset(tmp_path / "bare", num_samples=12, frames=20)
    with pytest.raises(StickGenError, match="no text embeddings"):
        fit(bare, tmp_path / "x", epochs=1, **FAST)
    with pytest.raises(StickGenError, match=r"expected 'BAAI/bge-large-en-v1\.5'"):
        fit(
            dataset,
            tmp_path / "y",
            epochs=1,
            expected_embedding_model="BAAI/bge-large-en-v1.5",
            **FAST,
        )
    with pytest.raises(StickGenError, match="already holds a training run"):
        fit(dataset, result.out_dir, epochs=1, **FAST)
    copy = tmp_path / "copy"
    shutil.copytree(result.out_dir, copy)
    with pytest.raises(StickGenError, match="preset='tiny' \\(now 'small'\\)"):
        fit(dataset, copy, epochs=6, resume=True, **{**FAST, "preset": "small"})
    with pytest.raises(StickGenError, match="batch_size=8"):
        fit(dataset, copy, epochs=6, resume=True, **{**FAST, "batch_size": 2})
    other = write_tiny_dataset(tmp_path / "other", seed=9)
    embed_tiny_dataset(other, text_model_path)
    with pytest.raises(StickGenError, match="trained on dataset"):
        fit(other, copy, epochs=6, resume=True, **FAST)
    for bad in (dict(epochs=0), dict(warmup_epochs=5, epochs=2), dict(lr=0.0)):
        with pytest.raises(StickGenError):
            fit(dataset, tmp_path / "z", **{**FAST, "epochs": 2, **bad})


def test_cli_train_on_a_tiny_dataset(dataset, tmp_path, capsys):
    out = tmp_path / "cli"
    args = [
        "train",
        str(dataset),
        "--out",
        str(out),
        "--preset",
        "tiny",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--accumulate",
        "1",
        "--warmup-epochs",
        "1",
        "--threads",
        "1",
    ]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    assert (out / "best.pt").exists() and (out / "last.pt").exists()
    assert "trained tiny" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(args)  # the run exists and --resume was not given
    assert exit_info.value.code == 2
    assert "already holds a training run" in " ".join(capsys.readouterr().err.split())
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--resume", "--epochs", "3"])
    assert exit_info.value.code == 0
    assert load_checkpoint(out / "last.pt")["epoch"] == 3


def test_pipeline_runs_every_phase_then_picks_up_where_it_stopped(tmp_path, text_model_path):
    from stickgen.pipeline import run_pipeline

    seen = []
    config = TrainConfig(preset="tiny", epochs=1, precision="fp32")
    kwargs = dict(num_base=24, train_config=config, model=text_model_path, threads=1)

    def record(done: int, total: int, message: str) -> None:
        seen.append((done, total, message))

    result = run_pipeline(tmp_path / "work", progress=record, **kwargs)
    assert result.train.best_checkpoint is not None and result.train.best_checkpoint.exists()
    assert (
        Dataset(result.dataset).embedding_model
        == load_checkpoint(result.train.best_checkpoint)["embedding_model"]
    )
    fractions = [d / t for d, t, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    for phase in ("generate", "validate data", "embed", "validate embeddings", "train"):
        assert any(phase in message for _, _, message in seen), phase
    again = run_pipeline(tmp_path / "work", **kwargs)
    assert len(again.notes) == 2  # the dataset and its embeddings were reused
    assert again.train.steps == result.train.steps  # training was already complete

    with pytest.raises(Cancelled):
        run_pipeline(tmp_path / "stopped", should_stop=lambda: True, **kwargs)
    assert not (tmp_path / "stopped" / "checkpoints").exists()


def test_pipeline_stops_at_the_first_failed_validation(tmp_path, text_model_path):
    from stickgen.pipeline import run_pipeline

    work = tmp_path / "work"
    write_tiny_dataset(work / "dataset", num_samples=12, frames=20)  # not 250-frame clips
    with pytest.raises(StickGenError, match=r"dataset validation \(validate data\) failed"):
        config = TrainConfig(preset="tiny", epochs=1)
        run_pipeline(work, num_base=5, train_config=config, model=text_model_path)
    assert not (work / "checkpoints").exists()
    assert Dataset(work / "dataset").embeddings is None  # phase 2 never ran


def test_score_on_a_split_reproduces_the_recorded_validation(dataset, trained, tmp_path, capsys):
    from stickgen.train.score import SCORE_BATCH, score_checkpoint

    result, _ = trained
    payload = load_checkpoint(result.best_checkpoint)
    val = score_checkpoint(result.best_checkpoint, dataset, split="val")
    assert val["samples"] == len(Dataset(dataset).split_indices("val"))
    assert val["epoch"] == payload["epoch"]
    for key in ("val_loss", "val_loss_text", "val_action_accuracy_text", "val_position"):
        assert val[key] == pytest.approx(payload["metrics"][key], rel=1e-4, abs=1e-6)
    test = score_checkpoint(result.best_checkpoint, dataset, split="test", max_samples=3)
    assert test["samples"] == 3 < SCORE_BATCH
    assert 0.0 <= test["val_action_accuracy_text"] <= 1.0
    with pytest.raises(StickGenError, match="unknown split"):
        score_checkpoint(result.best_checkpoint, dataset, split="holdout")
    bare = write_tiny_dataset(tmp_path / "bare", num_samples=12, frames=50)
    with pytest.raises(StickGenError, match="no text embeddings"):
        score_checkpoint(result.best_checkpoint, bare)

    with pytest.raises(SystemExit) as exit_info:
        main(["score", str(result.best_checkpoint), str(dataset), "--threads", "1"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "test split" in out and "action_accuracy_text" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["score", str(tmp_path / "missing.pt"), str(dataset)])
    assert exit_info.value.code == 2


def test_spectrum_distance_ignores_phase_but_not_amplitude_or_rate():
    from stickgen.train.losses import spectrum_distance

    t = torch.arange(250, dtype=torch.float32) / 25

    def sine(amplitude: float, hz: float, phase: float) -> torch.Tensor:
        return (amplitude * torch.sin(2 * math.pi * hz * t + phase))[None, :, None]

    target = sine(1.5, 1.0, 0.0)
    shifted, still = sine(1.5, 1.0, 2.0), torch.zeros_like(target)
    # plain MSE prefers the still pose to the right motion at another phase; the spectrum does not
    assert torch.nn.functional.mse_loss(shifted, target) > torch.nn.functional.mse_loss(
        still, target
    )
    assert spectrum_distance(shifted, target) < 0.05
    assert spectrum_distance(still, target) == pytest.approx(1.5, rel=0.1)  # about |a - A|
    assert spectrum_distance(sine(0.5, 1.0, 1.0), target) == pytest.approx(1.0, rel=0.1)
    assert spectrum_distance(sine(1.5, 2.0, 0.0), target) > 1.5  # wrong rate
    assert spectrum_distance(target[:, :3], target[:, :3]) == 0.0  # too short to have a spectrum
    # the level is MSE's business: a still channel at +1 or -1 has the same (empty) spectrum,
    # and an oscillation is judged apart from the level it swings about
    up, down = torch.ones(1, 100, 1), -torch.ones(1, 100, 1)
    assert float(spectrum_distance(up, down)) == pytest.approx(0.0, abs=1e-6)
    assert float(spectrum_distance(target + 3.0, target)) == pytest.approx(0.0, abs=1e-5)


def test_spectrum_term_only_when_weighted_and_resume_keeps_the_weights(dataset, trained, tmp_path):
    from stickgen.train.losses import multitask_loss

    result, _ = trained
    payload = load_checkpoint(result.best_checkpoint)
    model, stats = model_from_checkpoint(payload)
    batch = BatchReader(Dataset(dataset)).read(np.arange(4))
    with torch.no_grad():
        out = model.generate(batch["text"], batch["actions"], steps=4)
        plain, terms = multitask_loss(out, batch, stats, LossWeights(spectrum=0.0))
        weighted, weighted_terms = multitask_loss(out, batch, stats, LossWeights(spectrum=2.0))
    assert "spectrum" not in terms and weighted_terms["spectrum"] > 0
    assert float(weighted) == pytest.approx(float(plain) + 2.0 * weighted_terms["spectrum"])
    copy = tmp_path / "copy"
    shutil.copytree(result.out_dir, copy)
    with pytest.raises(StickGenError, match="loss_weights="):
        fit(dataset, copy, epochs=6, resume=True, loss_weights=LossWeights(spectrum=0.0), **FAST)


def test_cli_loss_settings_are_recorded_in_the_checkpoint(dataset, tmp_path):
    out = tmp_path / "spectral"
    args = ["train", str(dataset), "--out", str(out), "--preset", "tiny", "--epochs", "1",
            "--batch-size", "8", "--accumulate", "1", "--warmup-epochs", "0", "--threads", "1",
            "--spectrum-weight", "1.5", "--plan-dropout", "0.25"]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    payload = load_checkpoint(out / "last.pt")
    assert payload["config"]["train"]["loss_weights"]["spectrum"] == 1.5
    assert payload["config"]["train"]["plan_dropout"] == 0.25
    assert payload["metrics"]["train_loss"] > 0


def test_limb_contrasts_tell_opposite_from_matching_leg_swings():
    from stickgen.train.losses import spectrum_distance, with_limb_contrasts

    t = torch.arange(250, dtype=torch.float32) / 25
    swing = 0.3 * torch.sin(2 * math.pi * 1.0 * t)

    def legs(right_sign: float) -> torch.Tensor:
        pose = torch.zeros(1, len(t), 20)
        pose[0, :, 14] = swing  # left foot x
        pose[0, :, 18] = right_sign * swing  # right foot x
        return pose

    walking, shuffling = legs(-1.0), legs(1.0)  # opposite phase vs both feet together
    assert spectrum_distance(shuffling, walking) < 0.01  # each channel alone looks the same
    contrast = spectrum_distance(with_limb_contrasts(shuffling), with_limb_contrasts(walking))
    # the feet-x contrast swings 0.6 against 0: about |a - A| = 0.6 in one of 24 channels
    assert contrast == pytest.approx(0.6 / 24, rel=0.2)
    assert with_limb_contrasts(walking)[0, :, 22].abs().max() == pytest.approx(0.6, abs=0.01)


# ---- distillation into a few-step sampler (stickgen.train.distill) ------------------------------

FAST_WEIGHTS = LossWeights()
DISTIL = dict(batch_size=8, accumulate=1, lr=1e-3, warmup_epochs=0, precision="fp32")


@pytest.fixture(scope="module")
def distilled(dataset, trained, tmp_path_factory):
    result, _ = trained
    out = tmp_path_factory.mktemp("distilled")
    return fit(dataset, out, epochs=6, teacher=str(result.best_checkpoint), **DISTIL)


def test_a_distilled_checkpoint_records_its_parent_and_sampler(trained, distilled):
    teacher = load_checkpoint(trained[0].best_checkpoint)
    payload = load_checkpoint(distilled.best_checkpoint)
    parent = payload["parent"]
    assert parent["path"] == str(trained[0].best_checkpoint.resolve())
    assert (parent["epoch"], parent["step"]) == (teacher["epoch"], teacher["step"])
    assert parent["sampler"] == {"steps": 20, "text": 2.0, "plan": 2.0}
    assert payload["config"]["sampler"] == {"steps": 4, "text": 1.0, "plan": 1.0}
    assert payload["config"]["train"]["preset"] == "tiny"  # the teacher's, not the default
    assert teacher["parent"] is None and teacher["config"]["sampler"]["steps"] == 20
    model, _ = model_from_checkpoint(payload)
    assert model.sampler == Sampler(4, Guidance(1.0, 1.0))
    # a checkpoint from before samplers were recorded samples as every model did then
    del payload["config"]["sampler"]
    assert model_from_checkpoint(payload)[0].sampler == Sampler(20, Guidance(2.0, 2.0))
    with pytest.raises(StickGenError, match="itself distilled"):
        Teacher.load(distilled.best_checkpoint)


def test_distillation_follows_the_teacher_in_fewer_passes(dataset, trained, distilled):
    teacher = Teacher.load(trained[0].best_checkpoint)
    student, stats = model_from_checkpoint(load_checkpoint(distilled.best_checkpoint))
    ds = Dataset(dataset)
    val = ds.split_indices("val")
    samples = TeacherSamples.sample(teacher, ds, val, 0.5, 0, torch.device("cpu"))
    rows = np.arange(len(samples))

    def gap(model, steps, guidance):
        model.sampler = Sampler(steps, guidance)
        return teacher_gap(model, samples, rows, stats, FAST_WEIGHTS, 8, torch.device("cpu"))

    # the recorded val_loss is this gap: the teacher's clips are the same every time
    assert gap(student, 4, UNGUIDED) == pytest.approx(distilled.best_val_loss, rel=1e-5)
    # one pass per step does better than the teacher's own weights with as many passes or more
    assert gap(student, 1, UNGUIDED) < 0.8 * gap(teacher.model, 1, UNGUIDED)
    assert gap(student, 1, UNGUIDED) < 0.5 * gap(teacher.model, 1, Guidance())
    assert gap(student, 2, UNGUIDED) < 0.9 * gap(teacher.model, 2, UNGUIDED)


def test_a_distilled_checkpoint_animates_like_any_other(distilled):
    from stickgen.infer import load_generator
    from stickgen.schema import ActionSegment, ActionType, Actor, Scene

    generator = load_generator(distilled.best_checkpoint)
    assert generator.model.sampler.steps == 4
    scene = Scene(
        "a person waving a hand", [Actor([ActionSegment(ActionType.WAVE, 0.0, 2.0)])], 2.0
    )
    clip = generator.generate(scene, seed=3)
    assert clip.motion.shape == (50, 20) and np.isfinite(clip.motion).all()
    assert np.mean(clip.actions == ActionType.WAVE) > 0.8


def test_cli_distils_a_checkpoint(dataset, trained, tmp_path, capsys):
    out = tmp_path / "student"
    args = ["train", str(dataset), "--out", str(out), "--distill", str(trained[0].best_checkpoint)]
    options = ["--epochs", "1", "--batch-size", "8", "--max-train-samples", "8", "--threads", "1"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, *options, "--sample-steps", "2", "--precision", "fp32"])
    assert exit_info.value.code == 0
    assert "distilled into 2 step(s)" in capsys.readouterr().err
    payload = load_checkpoint(out / "last.pt")
    assert payload["config"]["sampler"]["steps"] == 2
    assert payload["config"]["train"]["max_train_samples"] == 8
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(dataset), "--out", str(tmp_path / "x"), "--distill", str(tmp_path)])
    assert exit_info.value.code == 2


def test_retention_keeps_the_newest_epoch_files_best_and_last_and_resume_is_exact(
    dataset, tmp_path
):
    settings = dict(FAST, batch_size=4, accumulate=2, epochs=5, checkpoint_every=1, seed=3)
    straight = fit(dataset, tmp_path / "a", keep_epoch_checkpoints=2, **settings)
    names = sorted(p.name for p in (tmp_path / "a").glob("*.pt"))
    assert names == ["best.pt", "checkpoint_epoch_4.pt", "checkpoint_epoch_5.pt", "last.pt"]
    best = int(np.argmin([row["val_loss"] for row in straight.history]))
    assert load_checkpoint(tmp_path / "a" / "best.pt")["epoch"] == straight.history[best]["epoch"]

    # stopped in epoch 3 keeping one file, resumed keeping all: the same weights
    steps = itertools.count(1)
    with pytest.raises(Cancelled):
        fit(dataset, tmp_path / "b", keep_epoch_checkpoints=1,
            should_stop=lambda: next(steps) == 12, **settings)  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "b").glob("checkpoint_epoch_*")) == [
        "checkpoint_epoch_2.pt"
    ]
    fit(dataset, tmp_path / "b", resume=True, keep_epoch_checkpoints=None, **settings)
    a = load_checkpoint(tmp_path / "a" / "last.pt")["model"]
    b = load_checkpoint(tmp_path / "b" / "last.pt")["model"]
    assert all(torch.equal(a[key], b[key]) for key in a)
    kept = sorted(p.name for p in (tmp_path / "b").glob("checkpoint_epoch_*"))
    assert kept == [f"checkpoint_epoch_{n}.pt" for n in (2, 3, 4, 5)]

    # 0 writes no epoch file (and removes what an earlier setting left)
    fit(dataset, tmp_path / "b", resume=True, keep_epoch_checkpoints=0, **dict(settings, epochs=6))
    assert sorted(p.name for p in (tmp_path / "b").glob("*.pt")) == ["best.pt", "last.pt"]
    with pytest.raises(StickGenError, match="keep_epoch_checkpoints"):
        TrainConfig(keep_epoch_checkpoints=-1)
