"""The web tests' service side: a live uvicorn server in a thread, the browser's paths, and
what the tests know about the running app."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from jobcore.settings import Settings

API_KEY = "web-test-key"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1000",
)


def browser_paths() -> tuple[str, str] | str:
    """(chromium, chromedriver) from the system packages, or why the browser tests skip."""
    chromium = shutil.which(os.environ.get("STICKGEN_CHROMIUM", "chromium"))
    driver = shutil.which(os.environ.get("STICKGEN_CHROMEDRIVER", "chromedriver"))
    if chromium is None or driver is None:
        return (
            "headless Chromium is not installed "
            "(apt-get install chromium chromium-driver; .ci/run does this)"
        )
    return chromium, driver


class LiveServer:
    """uvicorn serving `app` on a free localhost port, in a background thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self, timeout_s: float = 30.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self._socket.close()


@dataclass
class WebApp:
    """The running service as the browser sees it, plus a keyed HTTP client for checks."""

    url: str
    settings: Settings
    api: httpx.Client
    worker: Any  # service_harness.WorkerProcess
