"""Dataset generation benchmark (run by hand).

    .venv/bin/python benchmarks/generate.py [--sizes 5000 20000] [--workers N] [--dir DIR]
    .venv/bin/python benchmarks/generate.py --profile 2000   # where one process spends its time

For each size (base scenes, x5 samples with augmentation) a fresh Python process runs
`generate_dataset` and reports wall time, the time spent generating vs finishing (checksums), and
peak resident memory of the main process and of its largest worker. Prints samples/s, the ratio to
the plan's expected ~85 samples/s (the named baseline), disk size, and the projected time for the
plan's full 500,000 samples. Peak memory should not grow with the size.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAN_SAMPLES_PER_S = 85.0  # the plan's "~85 samples/sec expected"
FULL_SAMPLES = 500_000
GOAL_SECONDS = 300.0


def _child(size: int, out: Path, workers: int | None) -> None:
    """Generate one dataset and print a JSON line of timings and peak memory."""
    from stickgen.data.generate import generate_dataset

    marks: dict[str, float] = {}

    def progress(done: int, total: int, message: str) -> None:
        if message == "checksums":
            marks["generated"] = time.perf_counter()

    start = time.perf_counter()
    path = generate_dataset(out, size, workers=workers, overwrite=True, progress=progress)
    end = time.perf_counter()
    disk = sum(f.stat().st_size for f in path.iterdir())
    manifest = json.loads((path / "manifest.json").read_text())
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    print(
        json.dumps(
            {
                "samples": manifest["num_samples"],
                "seconds": end - start,
                "generate_seconds": marks.get("generated", end) - start,
                "finish_seconds": end - marks.get("generated", end),
                "disk_bytes": disk,
                "unique_descriptions": manifest["unique_descriptions"],
                "rarest_action_share": min(manifest["action_share"].values()),
                "cpu_seconds": sum(u.ru_utime + u.ru_stime for u in usage),
                "peak_rss_mb": usage[0].ru_maxrss / 1024,
                "peak_worker_rss_mb": usage[1].ru_maxrss / 1024,
            }
        )
    )


def _run(size: int, out: Path, workers: int | None) -> dict:
    cmd = [sys.executable, __file__, "--child", str(size), "--dir", str(out)]
    if workers:
        cmd += ["--workers", str(workers)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _profile(size: int, out: Path) -> None:
    from stickgen.data.generate import generate_dataset

    profiler = cProfile.Profile()
    profiler.enable()
    generate_dataset(out, size, workers=1, overwrite=True)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(30)
    stats.sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--dir", type=Path, default=None, help="where datasets are written")
    parser.add_argument("--keep", action="store_true", help="keep the generated datasets")
    parser.add_argument("--profile", type=int, default=None, metavar="BASE_SCENES")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        _child(args.child, args.dir, args.workers)
        return
    root = args.dir or Path(tempfile.mkdtemp(prefix="stickgen-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    if args.profile:
        _profile(args.profile, root / "profile")
        shutil.rmtree(root / "profile", ignore_errors=True)
        return
    print(
        f"baseline: the plan's {PLAN_SAMPLES_PER_S:.0f} samples/s; goal: {FULL_SAMPLES:,} in 5 min"
    )
    for size in args.sizes:
        out = root / f"bench_{size}"
        r = _run(size, out, args.workers)
        rate = r["samples"] / r["seconds"]
        projected = FULL_SAMPLES / rate
        print(
            f"{size:>7,} base -> {r['samples']:>7,} samples: {r['seconds']:6.1f} s "
            f"(generate {r['generate_seconds']:.1f} s, finish {r['finish_seconds']:.1f} s), "
            f"{rate:7.0f} samples/s = {rate / PLAN_SAMPLES_PER_S:5.1f}x plan; "
            f"peak RSS main {r['peak_rss_mb']:.0f} MB, worker {r['peak_worker_rss_mb']:.0f} MB; "
            f"disk {r['disk_bytes'] / 1e9:.2f} GB; {r['unique_descriptions']:,} unique "
            f"descriptions; rarest action {100 * r['rarest_action_share']:.2f}%"
        )
        cpu_per_sample = r["cpu_seconds"] / r["samples"]
        print(
            f"        projected {FULL_SAMPLES:,} samples: {projected / 60:.1f} min "
            f"({'meets' if projected <= GOAL_SECONDS else 'misses'} the 5 min goal), "
            f"disk {r['disk_bytes'] / r['samples'] * FULL_SAMPLES / 1e9:.1f} GB; "
            f"CPU {r['cpu_seconds']:.1f} s ({1e6 * cpu_per_sample:.0f} us/sample, "
            f"{FULL_SAMPLES * cpu_per_sample / 60:.1f} CPU-min for the full set); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    if not args.keep and args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
