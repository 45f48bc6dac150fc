"""Training throughput of the model presets on this machine, against its own matmul peak (run by
hand).

For each preset, one optimizer step (the training loss: plan and text dropping, noising, the
denoising pass and every head; backward; gradient clipping; AdamW) is timed on synthetic
250-frame batches in four set-ups, each in its own process:

- today:    fp32, 1 process, 1 thread, batch 16 (the baseline every ratio is against)
- bf16:     bf16 autocast, 1 process, 1 thread, batch 16
- threads:  bf16, 1 process with every core, batch 64
- ddp:      bf16, one process per core (DistributedDataParallel over gloo), global batch 64

Each row prints samples/s, the FLOP/s achieved (the step's FLOPs counted with
`torch.utils.flop_counter`, not estimated), its share of this machine's fp32 and bf16 matmul
peak at the same number of cores (2048 x 2048 matmuls, measured in the same run), the time of a
500,000-sample epoch and its ratio to the plan's 20-30 min. `--profile` prints where the time of
the best set-up's step goes. A GPU, when there is one, gets a row of its own (bf16, batch 64).

    .venv/bin/python benchmarks/train.py [--presets base small] [--steps 4] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

PLAN_MINUTES_PER_EPOCH = (20.0, 30.0)  # the plan's expectation for 500k samples per epoch
EPOCH_SAMPLES = 500_000
FRAMES = 250
CORES = len(os.sched_getaffinity(0))


def matmul_peak(threads: int, dtype_name: str, size: int = 2048, repeats: int = 12) -> float:
    """GFLOP/s of `size` x `size` matmuls in `dtype_name` on `threads` threads."""
    import torch

    torch.set_num_threads(threads)
    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def _setup(preset: str, text_dim: int, batch: int, seed: int = 0):
    import torch

    from stickgen.model import MotionStats, build_model, preset_config

    gen = torch.Generator().manual_seed(seed)
    model = build_model(preset_config(preset, text_dim), seed=0).train()
    sizes = {"pose": 20, "root": 2, "velocity": 2, "physics": 6}
    stats = MotionStats(
        {k: torch.zeros(n) for k, n in sizes.items()}, {k: torch.ones(n) for k, n in sizes.items()}
    )
    data = {
        "text": torch.nn.functional.normalize(torch.randn(batch, text_dim, generator=gen), dim=-1),
        "actions": torch.randint(0, model.config.num_actions, (batch, FRAMES), generator=gen),
        "motion": torch.randn(batch, FRAMES, 20, generator=gen) * 0.5,
        "physics": torch.randn(batch, FRAMES, 6, generator=gen),
    }
    return model, stats, data, gen


def step_flops(preset: str, text_dim: int) -> float:
    """FLOPs of one training sample's forward and backward pass, counted."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from stickgen.train.losses import Draws, LossWeights, training_loss

    batch = 4
    model, stats, data, gen = _setup(preset, text_dim, batch)
    draws = Draws.sample(batch, FRAMES, 0.5, gen)
    with FlopCounterMode(display=False) as counter:
        loss, _ = training_loss(model, data, stats, LossWeights(), draws)
        loss.backward()
    del torch
    return counter.get_total_flops() / batch


def time_steps(args: argparse.Namespace, rank: int = 0, world: int = 1) -> dict:
    """Median seconds per optimizer step of one set-up (this process is rank `rank`)."""
    import torch
    from torch.nn.parallel import DistributedDataParallel

    from stickgen.compute import autocast, resolve_device
    from stickgen.train.losses import Draws, LossWeights, training_loss

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    share = args.batch // world
    model, stats, data, gen = _setup(args.child, args.text_dim, args.batch)
    model.to(device)
    stats = stats.to(device)
    data = {k: v[rank * share : (rank + 1) * share].to(device) for k, v in data.items()}
    network = model
    if world > 1:
        network = DistributedDataParallel(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)

    def step() -> None:
        draws = Draws.sample(args.batch, FRAMES, 0.5, gen).rows(
            rank * share, (rank + 1) * share, device
        )
        with autocast(device, args.precision):
            loss, _ = training_loss(network, data, stats, LossWeights(), draws)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()

    times = []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        step()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    result = {
        "seconds_per_step": sorted(times)[len(times) // 2],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if args.profile:  # every rank steps (DDP's all-reduce needs them all); rank 0 records it
        from contextlib import nullcontext

        from torch.profiler import ProfilerActivity, profile

        prof = profile(activities=[ProfilerActivity.CPU]) if rank == 0 else None
        with prof or nullcontext():
            step()
        if prof is not None:
            table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14)
            result["profile"] = table
    return result


def _ddp_rank(rank: int, args: argparse.Namespace, world: int, port: int, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)  # fmt: skip
    result = time_steps(args, rank, world)
    dist.destroy_process_group()
    if rank == 0:
        with open(out, "w") as fh:
            json.dump(result, fh)


def child(args: argparse.Namespace) -> dict:
    if args.nproc == 1:
        return time_steps(args)
    import socket
    import tempfile

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        mp.spawn(_ddp_rank, args=(args, args.nproc, port, out.name), nprocs=args.nproc)
        return json.loads(open(out.name).read())


def run_child(args: argparse.Namespace, preset: str, setup: dict) -> dict:
    command = [sys.executable, __file__, "--child", preset, "--text-dim", str(args.text_dim),
               "--steps", str(args.steps), "--warmup", str(args.warmup)]  # fmt: skip
    for key, value in setup.items():
        command += [f"--{key}", str(value)]
    if args.profile:
        command.append("--profile")
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["base", "small"])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--text-dim", type=int, default=1024, help="1024 = bge-large-en-v1.5")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="fp32", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--nproc", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=16, help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return

    import torch

    peaks = {
        (threads, dtype): matmul_peak(threads, dtype)
        for threads in sorted({1, CORES})
        for dtype in ("float32", "bfloat16")
    }
    print(f"{CORES} cores; matmul peak (2048 x 2048), GFLOP/s:")
    for (threads, dtype), value in peaks.items():
        print(f"  {dtype:>8} on {threads} thread(s): {value:,.0f}")
    setups = {
        "today": dict(precision="fp32", threads=1, nproc=1, batch=16),
        "bf16": dict(precision="bf16", threads=1, nproc=1, batch=16),
        "threads": dict(precision="bf16", threads=CORES, nproc=1, batch=64),
        "ddp": dict(precision="bf16", threads=1, nproc=CORES, batch=64),
    }
    if torch.cuda.is_available():
        setups["gpu"] = dict(precision="bf16", threads=1, nproc=1, batch=64, device="cuda")
    low, high = PLAN_MINUTES_PER_EPOCH
    for preset in args.presets:
        flops = step_flops(preset, args.text_dim)
        print(f"\n{preset}: {flops / 1e9:.2f} GFLOP per training sample (forward + backward)")
        baseline = None
        for name, setup in setups.items():
            if setup["nproc"] > 1 and CORES < 2:
                continue
            r = run_child(args, preset, setup)
            rate = setup["batch"] / r["seconds_per_step"]
            baseline = baseline or rate
            achieved = rate * flops / 1e9
            cores = setup["threads"] * setup["nproc"]
            share = ""
            if setup.get("device", "cpu") == "cpu":
                fp32, bf16 = peaks[(cores, "float32")], peaks[(cores, "bfloat16")]
                share = f"{achieved / fp32:.0%} of fp32 peak, {achieved / bf16:.0%} of bf16 peak; "
            minutes = EPOCH_SAMPLES / rate / 60
            print(
                f"  {name:>7} ({setup['precision']}, {setup['nproc']} proc x {setup['threads']} "
                f"thr, batch {setup['batch']}): {rate:6.1f} samples/s = {rate / baseline:.2f}x "
                f"today; {achieved:,.0f} GFLOP/s ({share}epoch of {EPOCH_SAMPLES:,} in "
                f"{minutes:.0f} min = {minutes / high:.1f}-{minutes / low:.1f}x the plan's "
                f"{low:.0f}-{high:.0f} min; peak RSS {r['peak_rss_mb']:.0f} MB/process"
            )
            if "profile" in r:
                print(r["profile"])


if __name__ == "__main__":
    main()
