"""`stick-gen serve`: the API and a Celery worker in one command (embedded mode by default).

Both run as child processes (uvicorn and celery), so this module imports neither FastAPI nor
Celery. Without configuration it uses a SQLite file and the serverless filesystem broker under
`./data`; set `STICKGEN_DATABASE_URL` / `STICKGEN_BROKER_URL` to use Postgres and Redis instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from stickgen.cli.app import app, console

# the service's queues (jobcore.broker): short jobs, and training and evaluation
DEFAULT_QUEUE, TRAIN_QUEUE = "default", "train"


def api_command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
        "--host", host, "--port", str(port),
    ]  # fmt: skip


def worker_command(queue: str) -> list[str]:
    """A worker of one queue. The default queue's processes are `STICKGEN_WORKER_CONCURRENCY`
    (read by its settings); the train queue has one, so two trainings never share the cores."""
    command = [
        sys.executable, "-m", "celery", "-A", "worker.celery_app:celery_app", "worker",
        "-Q", queue, "-n", f"{queue}@%h", "--loglevel", "INFO", "--without-gossip",
        "--without-mingle",
    ]  # fmt: skip
    return command + (["--concurrency", "1"] if queue == TRAIN_QUEUE else [])


def _stop(processes: list[subprocess.Popen], grace_s: float = 20.0) -> None:
    """SIGTERM (warm shutdown: running tasks finish their step), then SIGKILL after a grace."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface the API listens on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="API port")] = 8000,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (default: $STICKGEN_DATA_DIR or ./data)")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Worker processes (default: $STICKGEN_WORKER_CONCURRENCY)")
    ] = None,
    worker: Annotated[
        bool, typer.Option(help="Also start the Celery workers (short jobs; training)")
    ] = True,
) -> None:
    """Run the HTTP API and the background workers until Ctrl-C."""
    env = os.environ.copy()  # both processes read their settings from it
    if data_dir is not None:
        env["STICKGEN_DATA_DIR"] = str(data_dir.resolve())
    if concurrency is not None:
        env["STICKGEN_WORKER_CONCURRENCY"] = str(concurrency)
    processes = [subprocess.Popen(api_command(host, port), env=env)]
    if worker:
        processes += [
            subprocess.Popen(worker_command(q), env=env) for q in (DEFAULT_QUEUE, TRAIN_QUEUE)
        ]
    console.print(f"[bold]Stick-Gen[/] API on http://{host}:{port} (docs at /docs)")

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        code = next(p.returncode for p in processes if p.poll() is not None) or 1
        console.print("[red]a service process exited; stopping the others[/]")
    except KeyboardInterrupt:
        console.print("stopping...")
    finally:
        _stop(processes)
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(code)
