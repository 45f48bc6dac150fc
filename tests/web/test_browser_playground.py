"""Playground in headless Chromium: a prompt becomes a playable MP4 of the requested duration
with the derived action/expression timeline under it; bad input shows the API's own words."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_harness import API_KEY, WebApp
from web_helpers import (
    choose,
    fill,
    find,
    find_all,
    open_view,
    runs,
    save_screenshot,
    script_errors,
    visible_text,
    wait_for,
)

VIDEO_METADATA = """
const done = arguments[arguments.length - 1];
const video = document.getElementById("video");
const report = () => done({duration: video.duration, width: video.videoWidth,
                           height: video.videoHeight, error: video.error && video.error.code});
if (video.currentSrc && video.readyState >= 1) report();
else video.addEventListener("loadedmetadata", report, {once: true});
"""


def video(driver, prop: str):
    return driver.execute_script(f"return document.getElementById('video').{prop}")


def segments(driver, kind: str) -> list[tuple[str, float, float]]:
    return [
        (s.get_attribute("data-name"), float(s.get_attribute("data-start")),
         float(s.get_attribute("data-end")))
        for s in find_all(driver, f".segment[data-kind='{kind}']")
    ]  # fmt: skip


def test_prompt_plays_video_of_requested_duration_with_timeline(
    browser, web_app: WebApp, screenshot_dir: Path
) -> None:
    open_view(browser, web_app.url, API_KEY, "playground")
    prompt = "a person walks forward, then jumps happily"
    fill(browser, "#prompt", prompt)
    fill(browser, "#duration", "3")
    fill(browser, "#seed", "7")
    choose(browser, "#size", "256x256")
    find(browser, "#animate-button").click()

    metadata = browser.execute_async_script(VIDEO_METADATA)
    assert metadata["error"] is None
    assert metadata["duration"] == pytest.approx(3.0, abs=0.05)
    assert (metadata["width"], metadata["height"]) == (256, 256)
    # it really plays (muted autoplay), not just loads
    wait_for(browser, lambda d: not video(d, "paused") and video(d, "currentTime") > 0.2)
    assert find(browser, ".engine").text == "Procedural engine"
    link = find(browser, "#download-mp4")
    assert link.get_attribute("href").startswith("blob:")
    assert link.get_attribute("download").endswith("-seed7.mp4")

    # the timeline shows what the API's JSON view of the same request says, frame run by run
    wait_for(browser, lambda d: find_all(d, ".segment[data-kind='expression']"))
    body = {"prompt": prompt, "duration": 3, "seed": 7, "width": 256, "height": 256}
    plan = web_app.api.post("/v1/animate", json={**body, "format": "json"}).json()
    actor, fps = plan["actors"][0], plan["fps"]
    expected_actions = [
        (name.replace("_", " "), start / fps, end / fps)
        for name, start, end in runs(actor["actions"])
    ]
    expressions = ["neutral", "happy", "sad", "surprised", "angry", "excited"]
    expected_faces = [
        (expressions[int(e)], start / fps, end / fps)
        for e, start, end in runs([row[0] for row in actor["face"]])
    ]
    assert len(expected_actions) >= 2 and len(expected_faces) >= 2
    for shown, expected in ((segments(browser, "action"), expected_actions),
                            (segments(browser, "expression"), expected_faces)):  # fmt: skip
        assert [name for name, _, _ in shown] == [name for name, _, _ in expected]
        for (_, start, end), (_, want_start, want_end) in zip(shown, expected, strict=True):
            assert start == pytest.approx(want_start, abs=1e-3)
            assert end == pytest.approx(want_end, abs=1e-3)
    assert "happy" in [name for name, _, _ in expected_faces]  # the prompt's emotion word
    assert find(browser, "#download-json").is_displayed()

    # clicking a segment seeks the video to its start
    last = find_all(browser, ".segment[data-kind='action']")[-1]
    browser.execute_script("document.getElementById('video').pause()")
    last.click()
    jump_start = expected_actions[-1][1]
    wait_for(browser, lambda d: abs(video(d, "currentTime") - jump_start) < 0.05)
    save_screenshot(browser, screenshot_dir, "playground")
    assert script_errors(browser) == []


@pytest.mark.parametrize(
    ("prompt", "duration"),
    [("", ""), ("   ", ""), ("walk " * 50, ""), ("a person waves", "99")],
    ids=["empty", "blank", "too-long", "bad-duration"],
)
def test_bad_input_shows_the_api_error(
    browser, web_app: WebApp, prompt: str, duration: str
) -> None:
    open_view(browser, web_app.url, API_KEY, "playground")
    wait_for(browser, lambda d: find(d, "#checkpoint").get_attribute("data-loaded"))
    fill(browser, "#prompt", prompt)
    fill(browser, "#duration", duration)
    find(browser, "#animate-button").click()

    body = {"prompt": prompt, "seed": 0, "width": 512, "height": 512}
    if duration:
        body["duration"] = float(duration)
    answer = web_app.api.post("/v1/animate", json=body)
    assert 400 <= answer.status_code < 500
    problem = answer.json()
    shown = visible_text(browser, "#animate-error")
    assert shown == f"{problem['title']}: {problem['detail']}"
    assert not find(browser, "#result").is_displayed()
