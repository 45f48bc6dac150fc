"""A trained checkpoint as a scored system: batched generation equal to `LearnedGenerator`'s."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from stickgen.diffusion import GUIDANCE, Guidance
from stickgen.errors import StickGenError
from stickgen.evaluate.systems import System, TestSet

BATCH = 32


class CheckpointSystem(System):
    """Generates each test prompt from its description and the story engine's plan, with the
    latent drawn from the item's seed (as `load_generator(path).generate(scene, seed)`);
    a diffusion checkpoint samples with `guidance` (None: the model's default)."""

    def __init__(
        self,
        checkpoint: str | Path,
        test: TestSet,
        text_model: str | Path | None = None,
        guidance: Guidance | None = None,
    ) -> None:
        from stickgen.infer import load_generator

        path = Path(checkpoint)
        name = f"checkpoint {path.parent.name}/{path.name}"
        if guidance is not None:
            name += f" (guidance {guidance})"
        super().__init__(name, "checkpoint")
        self.guidance = guidance if guidance is not None else Guidance.of(GUIDANCE)
        self.path = path
        self.generator = load_generator(path, text_model)
        if self.generator.fps != test.fps:
            raise StickGenError(
                f"{path} generates at {self.generator.fps} fps, the test set is {test.fps} fps"
            )
        self.test = test
        texts = [scene.description for scene in test.scenes]
        self.embeddings = np.asarray(self.generator.embedder.encode(texts), dtype=np.float32)
        self.plans = torch.from_numpy(test.plan)

    @property
    def text_model_id(self) -> str:
        return str(self.generator.embedder.model_id)

    @torch.inference_mode()
    def generate(self, items: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        from stickgen.infer import constant_segment_lengths
        from stickgen.model import predicted_motion

        gen = self.generator
        items = np.asarray(items)
        out = []
        for lo in range(0, len(items), BATCH):
            chunk = items[lo : lo + BATCH]
            text = torch.from_numpy(self.embeddings[chunk])
            plan = self.plans[chunk]
            noise = torch.cat([gen.noise(int(s), plan.shape[1]) for s in seeds[lo : lo + BATCH]])
            outputs = gen.model.generate(text, plan, noise=noise, guidance=self.guidance)
            motion = predicted_motion(outputs, gen.stats).numpy()
            out.extend(constant_segment_lengths(clip) for clip in motion)
        return np.stack(out).astype(np.float32)
