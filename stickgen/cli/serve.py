"""`stick-gen serve`: the API and the Celery workers in one command (embedded mode by default).

Both run as child processes (`python -m app.server` and celery), so this module imports neither
FastAPI nor Celery. Without configuration it uses a SQLite file and the serverless filesystem
broker under `./data`; set `STICKGEN_DATABASE_URL` / `STICKGEN_BROKER_URL` to use Postgres and
Redis instead.
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
    """The API under uvicorn with the service's logging; it refuses a host other machines can
    reach unless the server has an API key (`app.server`)."""
    return [sys.executable, "-m", "app.server", "--host", host, "--port", str(port)]


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
    host: Annotated[
        str, typer.Option(help="Interface the API listens on (beyond loopback: needs a key)")
    ] = "127.0.0.1",
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
    api = subprocess.Popen(api_command(host, port), env=env)
    queues = (DEFAULT_QUEUE, TRAIN_QUEUE) if worker else ()
    workers = {queue: _Worker(queue, env) for queue in queues}
    console.print(f"[bold]Stick-Gen[/] API on http://{host}:{port} (docs at /docs)")

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # both stop it, even where SIGINT came in ignored (a background job of a script)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        while api.poll() is None:
            for process in workers.values():
                process.keep_running()
            time.sleep(0.5)
        code = api.returncode or 1
        console.print("[red]the API exited; stopping the workers[/]")
    except KeyboardInterrupt:
        console.print("stopping...")
    finally:
        _stop([api, *(w.process for w in workers.values() if w.process is not None)])
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise typer.Exit(code)


class _Worker:
    """One queue's worker process, started again when it exits (a crash stops neither the API
    nor the other worker); restarts back off from 1 s to 30 s while it keeps failing."""

    def __init__(self, queue: str, env: dict[str, str]) -> None:
        self.queue, self.env = queue, env
        self.delay = 1.0
        self.started = 0.0
        self.due = 0.0
        self.process: subprocess.Popen | None = None
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(worker_command(self.queue), env=self.env)
        self.started = time.monotonic()

    def keep_running(self) -> None:
        now = time.monotonic()
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            self.process = None
            self.delay = 1.0 if now - self.started > 60 else min(self.delay * 2, 30.0)
            self.due = now + self.delay
            console.print(
                f"[red]the {self.queue} worker exited (code {code}); starting it again in "
                f"{self.delay:.0f} s[/]"
            )
        if self.process is None and now >= self.due:
            self._start()
