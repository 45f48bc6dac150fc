"""Training throughput of the model presets on this machine's CPU (run by hand).

Measures one optimizer step = forward + backward + AdamW step on a batch of 16 clips of 250 frames
(the training loss: plan and text dropping, noising, the denoising pass and every head), after
warm-up steps.
Prints samples/s (from the median step), the projected time of one epoch of 500,000 samples,
its ratio to the plan's expected 20-30 min/epoch, and the peak resident memory. Each preset runs
in its own process so its peak memory is its own.

    .venv/bin/python benchmarks/train.py [--presets base small] [--steps 6] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

PLAN_MINUTES_PER_EPOCH = (20.0, 30.0)  # the plan's expectation for 500k samples per epoch
EPOCH_SAMPLES = 500_000


def measure(args: argparse.Namespace, preset: str) -> dict:
    """Time `args.steps` optimizer steps of `preset` on synthetic batches (after warm-up)."""
    import torch

    from stickgen.model import MotionStats, build_model, count_parameters, preset_config
    from stickgen.train.losses import LossWeights, training_loss

    if args.threads:
        torch.set_num_threads(args.threads)
    batch, frames, text_dim = args.batch, args.frames, args.text_dim
    gen = torch.Generator().manual_seed(0)
    model = build_model(preset_config(preset, text_dim), seed=0).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    sizes = {"pose": 20, "root": 2, "velocity": 2, "physics": 6}
    stats = MotionStats(
        {k: torch.zeros(n) for k, n in sizes.items()}, {k: torch.ones(n) for k, n in sizes.items()}
    )
    batch_data = {
        "text": torch.nn.functional.normalize(torch.randn(batch, text_dim, generator=gen), dim=-1),
        "actions": torch.randint(0, 46, (batch, frames), generator=gen),
        "motion": torch.randn(batch, frames, 20, generator=gen) * 0.5,
        "physics": torch.randn(batch, frames, 6, generator=gen),
    }
    weights = LossWeights()
    times = []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        loss, _ = training_loss(model, batch_data, stats, weights, 0.5)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    step = sorted(times)[len(times) // 2]  # median
    rate = batch / step
    epoch_minutes = EPOCH_SAMPLES / rate / 60
    return {
        "preset": preset,
        "parameters": count_parameters(model),
        "text_dim": text_dim,
        "threads": torch.get_num_threads(),
        "batch": batch,
        "frames": frames,
        "seconds_per_step": step,
        "fastest_step": min(times),
        "samples_per_second": rate,
        "epoch_minutes_500k": epoch_minutes,
        "vs_plan_low": epoch_minutes / PLAN_MINUTES_PER_EPOCH[0],
        "vs_plan_high": epoch_minutes / PLAN_MINUTES_PER_EPOCH[1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["base", "small"])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--text-dim", type=int, default=1024, help="1024 = bge-large-en-v1.5")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args, args.child)))
        return
    for preset in args.presets:
        options = {
            "--steps": args.steps,
            "--warmup": args.warmup,
            "--batch": args.batch,
            "--frames": args.frames,
            "--text-dim": args.text_dim,
            "--threads": args.threads or 0,
        }
        command = [sys.executable, __file__, "--child", preset]
        for flag, value in options.items():
            command += [flag, str(value)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        low, high = PLAN_MINUTES_PER_EPOCH
        print(
            f"{r['preset']:>5}: {r['parameters']:,} parameters (text {r['text_dim']}-d), "
            f"{r['threads']} threads, batch {r['batch']} x {r['frames']} frames: "
            f"{r['seconds_per_step']:.3f} s/step (median; fastest {r['fastest_step']:.3f}), "
            f"{r['samples_per_second']:.1f} samples/s; "
            f"one epoch of {EPOCH_SAMPLES:,} samples = {r['epoch_minutes_500k']:.0f} min "
            f"({r['epoch_minutes_500k'] / 60:.1f} h) = {r['vs_plan_high']:.1f}-"
            f"{r['vs_plan_low']:.1f}x the plan's {low:.0f}-{high:.0f} min; "
            f"peak RSS {r['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
