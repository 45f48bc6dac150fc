"""Diffusion: the noise schedule, noising and the DDIM sampler."""

from __future__ import annotations

import itertools

import pytest
import torch

from stickgen.diffusion import MIN_SIGNAL, add_noise, sample, signal_level
from stickgen.errors import StickGenError


def test_signal_level_falls_from_clean_to_pure_noise():
    t = torch.linspace(0, 1, 101)
    a = signal_level(t)
    assert float(a[0]) == pytest.approx(1.0)
    assert float(a[-1]) == pytest.approx(MIN_SIGNAL)
    assert all(x > y for x, y in itertools.pairwise(a[:-1].tolist()))
    assert float(signal_level(torch.tensor(0.5))) == pytest.approx(0.5, abs=0.02)  # cosine


def test_add_noise_mixes_signal_and_noise_by_the_schedule():
    x0 = torch.full((4, 10, 3), 2.0)
    noise = torch.randn(4, 10, 3, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([0.0, 0.3, 0.7, 1.0])
    noisy = add_noise(x0, t, noise)
    a = signal_level(t)
    for k in range(4):
        expected = a[k].sqrt() * x0[k] + (1 - a[k]).sqrt() * noise[k]
        torch.testing.assert_close(noisy[k], expected)
    torch.testing.assert_close(noisy[0], x0[0])  # t = 0: the clean clip
    # t = 1: (almost) only noise, with unit variance on average
    big = add_noise(torch.zeros(20_000), torch.ones(20_000), torch.randn(20_000))
    assert float(big.std()) == pytest.approx(1.0, abs=0.03)


def test_ddim_with_a_perfect_denoiser_lands_on_the_clean_clip():
    clean = torch.randn(3, 12, 4, generator=torch.Generator().manual_seed(1))
    calls = []

    def oracle(x, t):
        calls.append(float(t[0]))
        return clean, {"pose": clean}

    noise = torch.randn(3, 12, 4, generator=torch.Generator().manual_seed(2))
    out = sample(oracle, noise, steps=5)
    torch.testing.assert_close(out["pose"], clean)
    assert calls == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2])


def test_ddim_follows_the_noise_it_starts_from():
    """A denoiser that can only guess the mean still reaches different clips from different
    starting noise, and the same clip from the same noise."""
    seen = []

    def shrink(x, t):
        x0 = 0.5 * x  # an imperfect guess that keeps part of what it sees
        seen.append(x)
        return x0, {"x0": x0}

    a, b = (torch.randn(2, 8, 3, generator=torch.Generator().manual_seed(s)) for s in (3, 4))
    first, again, other = sample(shrink, a, 4), sample(shrink, a, 4), sample(shrink, b, 4)
    assert torch.equal(first["x0"], again["x0"])
    assert not torch.allclose(first["x0"], other["x0"])
    with pytest.raises(StickGenError, match="at least one step"):
        sample(shrink, a, 0)
