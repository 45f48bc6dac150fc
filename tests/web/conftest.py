"""Fixtures of the browser tests: the real API (uvicorn, in a thread) with an API key, a real
Celery worker process on SQLite and the filesystem broker, and headless Chromium driven by
Selenium through the system chromedriver (nothing is downloaded)."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from service_harness import FAST_JOB_SETTINGS, WorkerProcess, settings_env

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
    worker: WorkerProcess


@pytest.fixture(scope="package")
def web_app(tmp_path_factory: pytest.TempPathFactory, text_model_path: Path) -> Iterator[WebApp]:
    """API (with an API key) + worker on SQLite and the filesystem broker."""
    if isinstance(browser_paths(), str):
        pytest.skip(str(browser_paths()))
    values: dict[str, Any] = {
        **FAST_JOB_SETTINGS,
        "data_dir": tmp_path_factory.mktemp("web") / "data",
        "embedding_model": str(text_model_path),
        "worker_concurrency": 2,
        "api_key": API_KEY,
        "max_prompt_chars": 200,
        "max_duration_s": 10.0,
        "max_base_samples": 2000,
        "max_epochs": 20,
    }
    settings = Settings(**values)
    worker = WorkerProcess(settings_env(values), settings.data_path.parent / "worker.log")
    server = LiveServer(create_app(settings))
    server.start()
    try:
        worker.start()
        with httpx.Client(base_url=server.url, headers={"X-API-Key": API_KEY}) as api:
            yield WebApp(server.url, settings, api, worker)
    finally:
        worker.stop()
        server.stop()


@pytest.fixture(scope="package")
def browser(web_app: WebApp) -> Iterator[Any]:
    """Headless Chromium with a fresh profile; the system chromedriver (no Selenium Manager)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    chromium, driver_path = browser_paths()  # type: ignore[misc]
    profile = tempfile.mkdtemp(prefix="stickgen-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=DriverService(executable_path=driver_path), options=options)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="package")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests save screenshots of each view ($STICKGEN_SCREENSHOT_DIR to keep them)."""
    folder = os.environ.get("STICKGEN_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")
