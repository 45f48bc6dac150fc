"""Learning-rate schedule: linear warmup, then cosine decay, counted in optimizer steps."""

from __future__ import annotations

import math


def learning_rate(
    step: int, *, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> float:
    """The learning rate of optimizer step `step` (0-based).

    Warmup: step s < warmup_steps uses base_lr * (s + 1) / warmup_steps, reaching base_lr on the
    last warmup step. Then cosine decay from base_lr (at s = warmup_steps) towards min_lr (reached
    at s = total_steps): min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2 with
    p = (s - warmup_steps) / (total_steps - warmup_steps), clipped to [0, 1].
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if warmup_steps > 0 and step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    p = min(1.0, (step - warmup_steps) / span)
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * p))
