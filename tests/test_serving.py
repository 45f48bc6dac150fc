"""Serving learned models: the bounded per-checkpoint cache and batching of concurrent calls."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from stickgen import serving
from stickgen.model import MotionStats, build_model, preset_config
from stickgen.schema import ActionSegment, ActionType, Actor, Scene
from stickgen.serving import ModelCache
from stickgen.train import TrainConfig
from stickgen.train.checkpoint import FORMAT, VERSION, save_checkpoint

SIZES = {"pose": 20, "root": 2, "velocity": 2, "physics": 6}


def _checkpoint(path, text_model_path, seed=0):
    """An untrained `tiny` checkpoint (what it draws does not matter here, only how)."""
    from stickgen.embed.embedder import local_model_id

    cfg = preset_config("tiny", 384)
    stats = MotionStats(
        {k: torch.zeros(n) for k, n in SIZES.items()}, {k: torch.ones(n) for k, n in SIZES.items()}
    )
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model": build_model(cfg, seed).state_dict(),
        "config": {
            "model": cfg.to_dict(),
            "stats": stats.to_dict(),
            "fps": 25,
            "frames": 50,
            "train": TrainConfig(preset="tiny").to_dict(),
        },
        "embedding_model": local_model_id(text_model_path),
        "embedding": {"source": str(text_model_path)},
    }
    return save_checkpoint(path, payload)


def _scene(action: ActionType, duration: float) -> Scene:
    actor = Actor([ActionSegment(action, 0.0, duration)])
    return Scene(f"a person doing {action.name.lower()}", [actor], duration)


def test_concurrent_calls_share_a_forward_pass_and_get_their_own_clips(tmp_path, text_model_path):
    model = ModelCache().get(_checkpoint(tmp_path / "a.pt", text_model_path), text_model_path)
    calls = [
        (_scene(ActionType.WALK, 2.0), 1),
        (_scene(ActionType.WAVE, 2.0), 2),
        (_scene(ActionType.JUMP, 2.0), 3),
        (_scene(ActionType.WALK, 2.0), None),
        (_scene(ActionType.WAVE, 3.0), 4),  # another length: its own pass
    ]
    alone = [model.generator.generate(scene, seed) for scene, seed in calls]

    run = model.generator.generate_batch
    first = threading.Event()

    def slow_first(*args, **kwargs):  # the first pass runs until every other call waits
        if not first.is_set():
            first.set()
            deadline = time.monotonic() + 30
            while len(model._queue) < len(calls) - 1 and time.monotonic() < deadline:
                time.sleep(0.005)
        return run(*args, **kwargs)

    model.generator.generate_batch = slow_first
    with ThreadPoolExecutor(len(calls)) as pool:
        head = pool.submit(model.generate, *calls[0])
        first.wait(30)
        rest = [pool.submit(model.generate, scene, seed) for scene, seed in calls[1:]]
        clips = [head.result(), *(f.result() for f in rest)]
    assert model.stats.calls == len(calls)
    assert model.stats.passes == 3  # the first alone, the three other 2 s calls together, the 3 s
    assert model.stats.largest == 3
    for clip, expected in zip(clips, alone, strict=True):
        assert clip.motion.shape == expected.motion.shape
        np.testing.assert_allclose(clip.motion, expected.motion, atol=1e-4)
        assert np.mean(clip.actions == expected.actions) > 0.99
        np.testing.assert_allclose(clip.physics, expected.physics, atol=1e-2)


def test_a_failed_pass_fails_every_call_in_it(tmp_path, text_model_path):
    model = ModelCache().get(_checkpoint(tmp_path / "a.pt", text_model_path), text_model_path)

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    model.generator.generate_batch = broken
    with pytest.raises(RuntimeError, match="out of memory"):
        model.generate(_scene(ActionType.WAVE, 2.0), 1)
    assert not model._busy and not model._queue


def test_the_cache_is_bounded_and_loads_a_checkpoint_once(tmp_path, text_model_path, monkeypatch):
    a, b = (_checkpoint(tmp_path / f"{n}.pt", text_model_path, s) for n, s in (("a", 0), ("b", 1)))
    loads = []
    read = serving.read_generator

    def counted(*args, **kwargs):
        loads.append(args[0])
        time.sleep(0.2)  # a slow load: the other callers must wait for it, not load again
        return read(*args, **kwargs)

    monkeypatch.setattr(serving, "read_generator", counted)
    cache = ModelCache(size=1)
    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(lambda _: cache.get(a, text_model_path), range(4)))
    assert len(loads) == 1 and all(m is models[0] for m in models)
    assert cache.get(a, text_model_path) is models[0]
    other = cache.get(b, text_model_path)
    assert len(cache) == 1 and len(loads) == 2  # b pushed a out
    assert cache.get(b, text_model_path) is other
    assert cache.get(a, text_model_path) is not models[0] and len(loads) == 3
    later = time.time() + 5
    os.utime(a, (later, later))  # a rewritten checkpoint is loaded anew
    assert cache.get(a, text_model_path) is not models[0] and len(loads) == 4
