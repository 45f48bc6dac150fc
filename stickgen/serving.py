"""Serving learned models to many callers at once (the service's `/v1/animate`).

- `ModelCache`: at most `size` loaded checkpoints (model, statistics, text model), the least
  recently used dropped first; a checkpoint is keyed by its path and modification time (a
  rewritten file loads anew) and loaded once however many callers ask for it at the same time.
- `BatchedGenerator`: a loaded checkpoint whose `generate(scene, seed)` may be called from many
  threads. A call that finds the model idle samples at once, alone (no waiting window); calls
  that arrive while it samples queue up, and the next one to run takes every queued call of the
  same clip length into one batched forward pass. Each clip is exactly what it would be alone:
  a row's noise comes from its own seed and no computation mixes rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from stickgen.compute import available_cores, torch_threads
from stickgen.errors import StickGenError
from stickgen.infer import CLIP_THREADS, LearnedGenerator, checkpoint_file, read_generator
from stickgen.schema import MotionClip, Scene

DEFAULT_CACHE_SIZE = 2  # loaded checkpoints kept (a `small` one holds about 0.2 GB with MiniLM)


@dataclass
class _Call:
    """One queued `generate` call and, once run, its result or error."""

    text: torch.Tensor  # [1, D]
    plan: torch.Tensor | None  # [1, T]
    frames: int
    seed: int | None
    done: bool = False

    @property
    def group(self) -> tuple[int, bool]:
        """Calls that can share a forward pass: same length, all with a plan or all without."""
        return self.frames, self.plan is None

    result: tuple[np.ndarray, np.ndarray] | None = None
    error: BaseException | None = None


@dataclass
class BatchStats:
    """How the calls were served: forward passes run and the calls they carried."""

    passes: int = 0
    calls: int = 0
    largest: int = 0


@dataclass
class BatchedGenerator:
    """A `LearnedGenerator` shared by concurrent callers (see the module docstring)."""

    generator: LearnedGenerator
    stats: BatchStats = field(default_factory=BatchStats)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._queue: list[_Call] = []
        self._busy = False

    @property
    def fps(self) -> int:
        return self.generator.fps

    def generate(self, scene: Scene, seed: int | None = None) -> MotionClip:
        """Actor 0 of `scene` as `LearnedGenerator.generate` makes it, batched with the calls
        that wait for the model at the same time."""
        call = _Call(*self.generator.request(scene), seed=seed)
        with self._lock:
            self._queue.append(call)
            while not call.done:
                if self._busy:
                    self._lock.wait()
                    continue
                self._busy = True  # idle, so `call` is still queued: it runs now
                batch = [c for c in self._queue if c.group == call.group]
                self._queue = [c for c in self._queue if c.group != call.group]
                self._lock.release()
                try:
                    self._run(batch)
                finally:
                    self._lock.acquire()
                    self._busy = False
                    self._lock.notify_all()
        if call.error is not None:
            raise call.error
        assert call.result is not None
        return self.generator.clip(*call.result)

    def _run(self, batch: list[_Call]) -> None:
        """One forward pass for `batch`; each call gets its rows (or the error)."""
        gen = self.generator
        try:
            text = torch.cat([c.text for c in batch])
            plan = None if batch[0].plan is None else torch.cat([c.plan for c in batch])
            # one clip samples on one thread (`CLIP_THREADS`); a batch on as many as it has rows,
            # up to the cores, as the requests it replaces would have run side by side
            threads = min(max(CLIP_THREADS, len(batch)), available_cores())
            with torch_threads(threads) if gen.device.type == "cpu" else nullcontext():
                motion, actions = gen.generate_batch(
                    text, plan, [c.seed for c in batch], frames=batch[0].frames
                )
            for row, call in enumerate(batch):
                call.result = (motion[row], actions[row])
        except BaseException as exc:  # every waiting caller sees the failure
            for call in batch:
                call.error = exc
        finally:
            for call in batch:
                call.done = True
        self.stats.passes += 1
        self.stats.calls += len(batch)
        self.stats.largest = max(self.stats.largest, len(batch))


class ModelCache:
    """At most `size` loaded checkpoints as `BatchedGenerator`s (see the module docstring)."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        if size < 1:
            raise StickGenError(f"the model cache needs room for one model, got {size}")
        self.size = size
        self._lock = threading.Lock()
        self._models: OrderedDict[tuple, BatchedGenerator] = OrderedDict()
        self._loading: dict[tuple, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._models)

    def get(
        self,
        checkpoint: str | Path,
        text_model: str | Path | None = None,
        device: str = "auto",
        precision: str = "fp32",
    ) -> BatchedGenerator:
        """The loaded checkpoint, loading it (once, whoever else asks meanwhile) if needed."""
        path = checkpoint_file(checkpoint)
        key = (str(path), path.stat().st_mtime_ns, str(text_model or ""), device, precision)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._models:
                    self._models.move_to_end(key)
                    return self._models[key]
            model = BatchedGenerator(read_generator(path, text_model, device, precision))
            with self._lock:
                self._models[key] = model
                self._loading.pop(key, None)
                while len(self._models) > self.size:
                    self._models.popitem(last=False)
            return model
