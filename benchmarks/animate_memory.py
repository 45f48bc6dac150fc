"""Peak memory of the API while it renders the largest animation it allows (run by hand).

    .venv/bin/python benchmarks/animate_memory.py [--formats mp4 gif]

Starts the real API (uvicorn, embedded mode, procedural engine) on a temporary data dir, renders
a 1 s 512x512 clip (the baseline: the API with its models loaded and one small render done), then
the longest clip at the largest frame size the API's settings allow, in each format, and reads the
API process's peak resident memory (`VmHWM`) after each. Goal: the largest animation keeps the API
under 1 GB (frames go to the encoder one at a time, so memory must not grow with duration x size).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import httpx
from animate import _free_port, _start_api

from jobcore.settings import Settings

PROMPT = "a man walks to the shop, waves, then jumps"
GOAL_MB = 1024


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc: this benchmark needs Linux")


def _render(client: httpx.Client, duration: float, size: int, fmt: str) -> tuple[float, int]:
    body = {"prompt": PROMPT, "duration": duration, "seed": 1, "width": size, "height": size,
            "format": fmt}  # fmt: skip
    start = time.perf_counter()
    response = client.post("/v1/animate", json=body, timeout=1800)
    if response.status_code != 200:
        raise SystemExit(f"animate failed: {response.status_code} {response.text}")
    return time.perf_counter() - start, len(response.content)


def run(formats: list[str]) -> None:
    limits = Settings()
    duration, size = limits.max_duration_s, limits.max_frame_size
    work = Path(tempfile.mkdtemp(prefix="stickgen-bench-memory-"))
    try:
        port = _free_port()
        api = _start_api(work / "data", port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                _render(client, 1.0, 512, "mp4")
                baseline = _peak_mb(api.pid)
                print(f"baseline: peak RSS {baseline:.0f} MB after a 1 s 512x512 clip")
                for fmt in formats:
                    seconds, size_bytes = _render(client, duration, size, fmt)
                    peak = _peak_mb(api.pid)
                    verdict = "met" if peak < GOAL_MB else "NOT met"
                    print(
                        f"{fmt}: {duration:.0f} s at {size}x{size} in {seconds:.1f} s "
                        f"({size_bytes / 1e6:.1f} MB file); API peak RSS {peak:.0f} MB, "
                        f"{peak / baseline:.2f}x the baseline; goal < {GOAL_MB} MB: {verdict}"
                    )
        finally:
            api.terminate()
            api.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", nargs="+", default=["mp4", "gif"], choices=["mp4", "gif"])
    run(parser.parse_args().formats)


if __name__ == "__main__":
    main()
