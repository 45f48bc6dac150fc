"""A trained checkpoint as a scored system, generating through `LearnedGenerator.generate_batch`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from stickgen.diffusion import Guidance
from stickgen.errors import StickGenError
from stickgen.evaluate.systems import System, TestSet

BATCH = 32


class CheckpointSystem(System):
    """Generates each test prompt from its description and the story engine's plan (or, with
    `text_alone`, from its description only), with the noise drawn from the item's seed (as
    `load_generator(path).generate(scene, seed)`), sampled with `guidance` and `steps` (None:
    the checkpoint's own sampler) on `device` in `precision` (named in the row when not fp32)."""

    def __init__(
        self,
        checkpoint: str | Path,
        test: TestSet,
        text_model: str | Path | None = None,
        guidance: Guidance | None = None,
        device: str = "auto",
        steps: int | None = None,
        text_alone: bool = False,
        precision: str = "fp32",
    ) -> None:
        from stickgen.infer import load_generator

        path = Path(checkpoint)
        generator = load_generator(path, text_model, device, precision)
        name = f"checkpoint {path.parent.name}/{path.name}"
        if guidance is not None:
            name += f" (guidance {guidance})"
        if steps is not None:
            name += f" ({steps} steps)"
        if generator.precision != "fp32":
            name += f" ({generator.precision})"
        if text_alone:
            name += " (text alone)"
        super().__init__(name, "checkpoint")
        self.guidance, self.steps = guidance, steps
        self.path = path
        self.generator = generator
        if self.generator.fps != test.fps:
            raise StickGenError(
                f"{path} generates at {self.generator.fps} fps, the test set is {test.fps} fps"
            )
        self.test = test
        texts = [scene.description for scene in test.scenes]
        self.embeddings = self.generator.embed(texts)
        self.plans = None if text_alone else torch.from_numpy(test.plan)

    @property
    def text_model_id(self) -> str:
        return str(self.generator.embedder.model_id)

    def generate(self, items: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        items = np.asarray(items)
        out = []
        for lo in range(0, len(items), BATCH):
            chunk = items[lo : lo + BATCH]
            motion, _ = self.generator.generate_batch(
                self.embeddings[chunk],
                None if self.plans is None else self.plans[chunk],
                [int(s) for s in seeds[lo : lo + BATCH]],
                guidance=self.guidance,
                steps=self.steps,
                frames=self.test.frames,
            )
            out.append(motion)
        return np.concatenate(out).astype(np.float32)
