"""Small Selenium helpers shared by the browser tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

KEY_STORAGE = "stickgen.apiKey"


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout_s: float = 20.0):
    """Poll `condition(driver)` until it is truthy; return its value."""
    return WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(condition)


def find(driver: WebDriver, css: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, css)


def find_all(driver: WebDriver, css: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, css)


def open_view(driver: WebDriver, base_url: str, api_key: str | None, view: str) -> None:
    """Load the page on `#view` with `api_key` already saved (as after answering the dialog)."""
    driver.get(f"{base_url}/healthz")  # same origin: localStorage is shared with the page
    if api_key is None:
        driver.execute_script("localStorage.clear()")
    else:
        driver.execute_script(
            "localStorage.setItem(arguments[0], arguments[1])", KEY_STORAGE, api_key
        )
    driver.get(f"{base_url}/#{view}")
    wait_for(driver, lambda d: d.execute_script("return document.body.dataset.view") == view)


def fill(driver: WebDriver, css: str, value: str) -> None:
    element = find(driver, css)
    element.clear()
    if value:
        element.send_keys(value)


def choose(driver: WebDriver, css: str, value: str) -> None:
    Select(find(driver, css)).select_by_value(value)


def visible_text(driver: WebDriver, css: str) -> str:
    """Text of `css` once it is displayed."""
    return wait_for(driver, lambda d: find(d, css).is_displayed() and find(d, css).text)


def script_errors(driver: WebDriver) -> list[str]:
    """Console errors other than failed HTTP loads (4xx answers the page handles itself)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]


def save_screenshot(driver: WebDriver, folder: Path, name: str) -> Path:
    """A full-page PNG (the window grows to the document's height first)."""
    size = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size["width"], max(size["height"], height + 120))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(size["width"], size["height"])
    return path


def runs(values: list[Any]) -> list[tuple[Any, int, int]]:
    """(value, first frame, end frame) of each run of equal consecutive values."""
    out, frame = [], 0
    for value, group in itertools.groupby(values):
        length = len(list(group))
        out.append((value, frame, frame + length))
        frame += length
    return out
