"""Fixtures of the browser tests: the real API (uvicorn, in a thread) with an API key, a real
Celery worker process on SQLite and the filesystem broker, and headless Chromium driven by
Selenium through the system chromedriver (nothing is downloaded)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_harness import API_KEY, CHROMIUM_FLAGS, LiveServer, WebApp, browser_paths

from app.main import create_app
from jobcore.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from service_harness import FAST_JOB_SETTINGS, WorkerProcess, settings_env


@pytest.fixture(scope="package")
def web_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """API (with an API key) + worker on SQLite and the filesystem broker, with the default
    text model and no hub (HF_HUB_OFFLINE)."""
    if isinstance(browser_paths(), str):
        pytest.skip(str(browser_paths()))
    values: dict[str, Any] = {
        **FAST_JOB_SETTINGS,
        "data_dir": tmp_path_factory.mktemp("web") / "data",
        # no text model named: the default (the bundled one) must work offline as it comes
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
