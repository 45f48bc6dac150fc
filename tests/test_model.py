"""The text-to-motion model: sizes, determinism, shapes, motion representation, statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_motion_data import make_clip

from stickgen.diffusion import Guidance
from stickgen.errors import StickGenError
from stickgen.model import (
    NO_PLAN,
    PLAN_BIAS_GAIN,
    PRESETS,
    ModelConfig,
    MotionStats,
    build_model,
    compose_motion,
    count_parameters,
    preset_config,
    root_velocity,
    segment_timing,
    split_motion,
)
from stickgen.physics import physics_from_motion
from stickgen.schema import FPS, NUM_ACTIONS, ActionType
from stickgen.train.losses import Draws


@pytest.mark.parametrize("text_dim", [384, 768, 1024])
def test_base_preset_is_the_plans_15_5m_parameter_model(text_dim):
    count = count_parameters(build_model(preset_config("base", text_dim)))
    assert abs(count - 15.5e6) / 15.5e6 < 0.03, count


def test_preset_sizes_are_ordered_and_small_is_1_to_3m():
    counts = {p: count_parameters(build_model(preset_config(p, 384))) for p in PRESETS}
    assert 1e6 <= counts["small"] <= 3e6
    assert counts["tiny"] < counts["small"] < counts["base"]
    # the text projection grows with the embedding size read from the dataset
    per_text_dim = PRESETS["small"]["d_model"]
    bigger = count_parameters(build_model(preset_config("small", 1024)))
    assert bigger - counts["small"] == (1024 - 384) * per_text_dim


def test_unknown_preset_and_bad_dims_are_user_errors():
    with pytest.raises(StickGenError, match="preset"):
        preset_config("huge", 384)
    with pytest.raises(StickGenError):
        preset_config("tiny", 0)
    with pytest.raises(StickGenError, match="unknown model config"):
        ModelConfig.from_dict({**preset_config("tiny", 8).to_dict(), "extra": 1})


def test_init_is_deterministic_given_a_seed():
    config = preset_config("tiny", 32)
    a, b, c = build_model(config, seed=3), build_model(config, seed=3), build_model(config, 4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)
    assert ModelConfig.from_dict(config.to_dict()) == config


def tiny_model(text_dim: int, seed: int = 0):
    """The tiny preset, in eval mode."""
    return build_model(preset_config("tiny", text_dim), seed).eval()


@pytest.mark.parametrize("frames", [1, 7, 100, 250, 333])
def test_generated_shapes_for_any_duration(frames):
    model = tiny_model(32)
    text = torch.randn(2, 32)
    plan = torch.randint(0, NUM_ACTIONS, (2, frames))
    with torch.no_grad():
        outputs = model.generate(text, plan, steps=2), model.generate(text, frames=frames, steps=2)
    for out in outputs:
        assert out["pose"].shape == (2, frames, 20)
        assert out["root"].shape == out["velocity"].shape == (2, frames, 2)
        assert out["actions"].shape == (2, frames, NUM_ACTIONS)
        assert out["physics"].shape == (2, frames, 6)
        assert all(torch.isfinite(v).all() for v in out.values())


def test_output_depends_on_text_and_plan_not_on_batch_neighbours():
    model = tiny_model(16)
    text = torch.randn(3, 16)
    plan = torch.randint(0, NUM_ACTIONS, (3, 50))
    noise = torch.randn(model.noise_shape(3, 50))

    def pose(text, plan, noise, frames=None):
        return model.generate(text, plan, frames, noise, steps=3)["pose"]

    with torch.no_grad():
        full = pose(text, plan, noise)
        alone = pose(text[:1], plan[:1], noise[:1])
        other_text = pose(text[1:2], plan[:1], noise[:1])
        no_plan = pose(text[:1], None, noise[:1], frames=50)
    torch.testing.assert_close(full[:1], alone, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(alone, other_text)
    assert not torch.allclose(alone, no_plan)


def test_missing_plan_and_frames_is_an_error():
    model = build_model(preset_config("tiny", 16))
    with pytest.raises(StickGenError, match="plan or a number of frames"):
        model.generate(torch.randn(1, 16))


def test_training_draws_drop_whole_rows_and_do_not_depend_on_the_split():
    draws = Draws.sample(64, 20, 0.5, torch.Generator().manual_seed(0))
    assert 10 < int(draws.drop_plan.sum()) < 54 and draws.noise.shape == (64, 20, 24)
    assert not Draws.sample(64, 20, 0.0, torch.Generator().manual_seed(0)).drop_plan.any()
    assert Draws.sample(64, 20, 1.0, torch.Generator().manual_seed(0)).drop_plan.all()
    again = Draws.sample(64, 20, 0.5, torch.Generator().manual_seed(0))
    halves = (again.rows(0, 30), again.rows(30, 64))
    for name in ("drop_plan", "t", "noise", "drop_text"):
        joined = torch.cat([getattr(half, name) for half in halves])
        assert torch.equal(joined, getattr(draws, name)), name


def test_motion_split_round_trip_and_root_is_the_hip():
    rng = np.random.default_rng(0)
    motion = torch.from_numpy(np.stack([make_clip(ActionType.WALK, 60, rng) for _ in range(2)]))
    pose, root = split_motion(motion)
    torch.testing.assert_close(root, motion[..., 2:4])
    assert pose[..., 2:4].abs().max() == 0  # the hip is the origin of the pose
    torch.testing.assert_close(compose_motion(pose, root), motion)
    # a walk moves the root forward at its speed
    velocity = root_velocity(root)
    assert 1.0 < float(velocity[..., 0].mean()) < 1.8


def test_root_velocity_matches_finite_differences_of_the_physics_track():
    # for a rigid translation the centre of mass moves exactly like the hip
    rng = np.random.default_rng(1)
    clip = make_clip(ActionType.IDLE, 40, rng)
    clip[:, 0::2] += (np.arange(40) * 0.02)[:, None] ** 2
    _, root = split_motion(torch.from_numpy(clip))
    physics = physics_from_motion(clip, FPS)
    np.testing.assert_allclose(root_velocity(root).numpy(), physics[:, :2], atol=1e-4)


def test_motion_stats_match_numpy_and_round_trip():
    rng = np.random.default_rng(2)
    motion = np.stack([make_clip(a, 30, rng) for a in (ActionType.WALK, ActionType.JUMP) * 3])
    physics = physics_from_motion(motion)
    stats = MotionStats.from_chunks([(motion[:4], physics[:4]), (motion[4:], physics[4:])])
    flat_physics = physics.reshape(-1, 6)
    np.testing.assert_allclose(stats.mean["physics"], flat_physics.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        stats.std["physics"], np.maximum(flat_physics.std(0), MotionStats.MIN_STD), rtol=1e-3
    )
    assert float(stats.std["pose"][2]) == pytest.approx(MotionStats.MIN_STD)  # the hip is fixed
    again = MotionStats.from_dict(stats.to_dict())
    for name in MotionStats.FIELDS:
        assert torch.equal(again.mean[name], stats.mean[name])
        value = torch.randn(5, len(stats.mean[name]))
        torch.testing.assert_close(stats.denormalize(name, stats.normalize(name, value)), value)
    with pytest.raises(StickGenError):
        MotionStats.from_chunks([])


def test_text_is_standardised_with_training_statistics():
    config = preset_config("tiny", 16)
    model = build_model(config).eval()
    base = torch.randn(16)
    embeddings = base + 0.05 * torch.randn(200, 16)  # similar prompts: one shared direction
    model.set_text_statistics(embeddings)
    features = model.text_features(embeddings)
    torch.testing.assert_close(features.mean(0), torch.zeros(16), atol=1e-5, rtol=0)
    assert float(features.pow(2).mean()) == pytest.approx(1.0, rel=1e-4)
    # the statistics travel with the weights, so a reloaded model conditions identically
    again = build_model(config, seed=9)
    again.load_state_dict(model.state_dict(), strict=True)
    torch.testing.assert_close(again.text_features(embeddings), features)


def test_plan_action_bias_acts_only_where_a_plan_is_given():
    model = tiny_model(16)
    text, plan = torch.randn(1, 16), torch.randint(0, NUM_ACTIONS, (1, 30))
    noisy, t = torch.randn(1, 30, 24), torch.tensor([0.5])
    with torch.no_grad():
        weight = model.plan_action_logits.weight
        weight.normal_()
        rows = weight.clone()
        biased, no_plan = model(noisy, t, text, plan)["actions"], model(noisy, t, text)["actions"]
        weight[:NUM_ACTIONS].zero_()  # keep the "no plan" row
        unbiased = model(noisy, t, text, plan)["actions"]
        no_plan_again = model(noisy, t, text)["actions"]
    # each frame's logits move by its own planned action's row, nothing else changes
    torch.testing.assert_close(biased - unbiased, PLAN_BIAS_GAIN * rows[plan[0]][None])
    assert torch.equal(no_plan, no_plan_again)


def test_segment_timing_restarts_with_every_planned_action():
    plan = torch.tensor([[3, 3, 3, 7, 7, 3, 3, 3, 3, 1]])
    since, length = segment_timing(plan, fps=2.0)
    assert since.tolist() == [[0.0, 0.5, 1.0, 0.0, 0.5, 0.0, 0.5, 1.0, 1.5, 0.0]]
    assert length.tolist() == [[1.5, 1.5, 1.5, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 0.5]]
    since, length = segment_timing(torch.full((2, 4), NO_PLAN), fps=1.0)
    assert since.tolist() == [[0, 1, 2, 3]] * 2 and length.tolist() == [[4, 4, 4, 4]] * 2


def test_segment_clock_waves_restart_with_each_action_at_rates_it_learns():
    config = preset_config("tiny", 24)
    model = build_model(config, seed=0)
    plan = torch.tensor([[4] * 40 + [9] * 60])
    features = model.plan_embedding(plan)
    cond = torch.randn(1, config.d_model)
    since, length = segment_timing(plan, FPS)
    waves = model.clock(features, since, length, cond)
    assert waves.shape == (1, 100, 2 * config.oscillators)
    torch.testing.assert_close(waves[0, 40], waves[0, 0])  # both start their action
    assert not torch.allclose(waves[0, 41], waves[0, 40])
    # untrained: the base rates; sin^2 + cos^2 = 1 for every oscillator
    k = config.oscillators
    torch.testing.assert_close(waves[..., :k] ** 2 + waves[..., k:] ** 2, torch.ones(1, 100, k))
    expected = torch.sin(2 * torch.pi * model.clock.base_hz * 1.0)  # one second into action 1
    torch.testing.assert_close(waves[0, 25, :k], expected)
    with torch.no_grad():  # rates that depend on the planned action change the waves' speed
        torch.nn.init.normal_(model.clock.rate.weight, std=0.3)
    faster = model.clock(features, since, length, cond)
    assert not torch.allclose(faster[0, 25], waves[0, 25])
    torch.testing.assert_close(faster[0, 40], faster[0, 0], atol=1e-5, rtol=0)  # offset only


def test_the_model_denoises_and_samples_deterministically_from_its_noise():
    model = tiny_model(24)
    text, plan = torch.randn(2, 24), torch.randint(0, NUM_ACTIONS, (2, 33))
    with pytest.raises(StickGenError, match="34 frames, the plan 33"):
        model(torch.randn(2, 34, 24), torch.rand(2), text, plan)
    assert model.noise_shape(2, 33) == (2, 33, 24)
    noisy, t = torch.randn(2, 33, 24), torch.tensor([0.2, 0.9])
    with torch.no_grad():
        out = model(noisy, t, text, plan)
        assert out["pose"].shape == (2, 33, 20) and out["actions"].shape == (2, 33, NUM_ACTIONS)
        # the prediction depends on what it denoises and on how noisy it is said to be
        assert not torch.allclose(model(noisy * 2, t, text, plan)["pose"], out["pose"])
        assert not torch.allclose(model(noisy, 1 - t, text, plan)["pose"], out["pose"])
        # the conditioning computed once gives the same prediction as a whole pass
        again = model.denoise(model.condition(text, plan), noisy, t)
        for key, value in out.items():
            assert torch.equal(again[key], value), key
        a, b = (torch.randn(2, 33, 24, generator=torch.Generator().manual_seed(s)) for s in (0, 1))
        first = model.generate(text, plan, noise=a, steps=3)
        torch.testing.assert_close(model.generate(text, plan, noise=a, steps=3), first)
        assert not torch.allclose(
            model.generate(text, plan, noise=b, steps=3)["pose"], first["pose"]
        )
        typical = model.generate(text, None, frames=17, steps=2)
    assert typical["pose"].shape == (2, 17, 20) and torch.isfinite(typical["pose"]).all()


def test_guidance_composes_text_and_plan_scales():
    full, plan, none = torch.tensor(3.0), torch.tensor(2.0), torch.tensor(1.0)
    assert Guidance(text=1.0, plan=1.0).conditions == ("full",)
    assert Guidance.of(2.0) == Guidance(2.0, 2.0)
    assert Guidance.of(2.0).conditions == ("full", "none")
    assert float(Guidance.of(2.0).combine([full, none])) == 1 + 2 * (3 - 1)
    composed = Guidance(text=2.0, plan=3.0)
    assert composed.conditions == ("full", "plan", "none")
    assert float(composed.combine([full, plan, none])) == 1 + 3 * (2 - 1) + 2 * (3 - 2)
    with pytest.raises(StickGenError, match="3 predictions"):
        composed.combine([full, none])
    assert Guidance.parse("2") == Guidance(2.0, 2.0) and str(Guidance.parse("2")) == "2"
    assert Guidance.parse("1.5,3") == Guidance(text=1.5, plan=3.0)
    assert str(Guidance.parse("1.5,3")) == "text 1.5, plan 3"
    for bad in ("", "a", "1,2,3", "nan", "1,"):
        with pytest.raises(StickGenError, match="TEXT,PLAN"):
            Guidance.parse(bad)


def test_guided_generation_routes_text_and_plan_to_their_passes():
    model = tiny_model(24)
    gen = torch.Generator().manual_seed(0)
    text, other_text = torch.randn(2, 24, generator=gen), torch.randn(2, 24, generator=gen)
    plan = torch.randint(0, NUM_ACTIONS, (2, 20), generator=gen)
    other_plan = (plan + 1) % NUM_ACTIONS
    noise = torch.randn(2, 20, 24, generator=gen)

    def pose(guidance, t=text, p=plan):
        with torch.no_grad():
            return model.generate(t, p, noise=noise, steps=2, guidance=guidance)["pose"]

    # equal scales are the usual two-pass guidance
    torch.testing.assert_close(pose(Guidance(2.0, 2.0)), pose(2.0))
    # scale 0 on both: only the unconditioned pass counts; it sees neither text nor plan
    torch.testing.assert_close(pose(0.0, other_text, other_plan), pose(0.0))
    # text 0, plan 1: the plan-only pass, which hides the text but follows the plan
    plan_only = Guidance(text=0.0, plan=1.0)
    torch.testing.assert_close(pose(plan_only, t=other_text), pose(plan_only))
    assert not torch.allclose(pose(plan_only, p=other_plan), pose(plan_only))
    # scale 1 on both is the conditioned pass alone: it reads the text
    assert not torch.allclose(pose(1.0, t=other_text), pose(1.0))
    assert not torch.allclose(pose(Guidance(text=2.0, plan=3.0)), pose(2.0))
