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
    ("prompt", "duration", "expected"),
    [
        ("", "", "Prompt: write a prompt"),
        ("   ", "", "Prompt: write a prompt"),
        ("walk " * 50, "", "Prompt: 249 characters, the limit is 200"),
        ("a person waves", "99", "Duration (s): 99 is above the limit of 10"),
    ],
    ids=["empty", "blank", "too-long", "bad-duration"],
)
def test_bad_input_is_caught_before_sending_and_stays(
    browser, web_app: WebApp, prompt: str, duration: str, expected: str
) -> None:
    open_view(browser, web_app.url, API_KEY, "playground")
    wait_for(browser, lambda d: find(d, "#checkpoint").get_attribute("data-loaded"))
    wait_for(browser, lambda d: find(d, "#animate-form").get_attribute("data-limits") == "shown")
    fill(browser, "#prompt", prompt)
    fill(browser, "#duration", duration)
    find(browser, "#animate-button").click()
    shown = visible_text(browser, "#animate-error")
    assert shown == f"Please fix: {expected}"
    assert not find(browser, "#result").is_displayed()
    # the server says the same in its own words
    body = {"prompt": prompt, "seed": 0, "width": 512, "height": 512}
    if duration:
        body["duration"] = float(duration)
    assert 400 <= web_app.api.post("/v1/animate", json=body).status_code < 500
    find(browser, "#seed").send_keys("1")  # any change of the input clears it
    wait_for(browser, lambda d: not find(d, "#animate-error").is_displayed())


def test_an_error_only_the_server_finds_shows_its_words(browser, web_app: WebApp) -> None:
    open_view(browser, web_app.url, API_KEY, "playground")
    wait_for(browser, lambda d: find(d, "#checkpoint").get_attribute("data-loaded"))
    browser.execute_script(
        "const s = document.getElementById('checkpoint');"
        "s.append(new Option('gone', 'ffffffff')); s.value = 'ffffffff';"
    )
    fill(browser, "#prompt", "a person waves")
    find(browser, "#animate-button").click()
    problem = web_app.api.post(
        "/v1/animate", json={"prompt": "a person waves", "checkpoint": "ffffffff"}
    ).json()
    shown = visible_text(browser, "#animate-error")
    assert shown == f"{problem['title']}: {problem['detail']}"
    assert find(browser, "#animate-error").is_displayed()


def test_the_upper_body_layer_and_the_words_are_shown(
    browser, web_app: WebApp, screenshot_dir: Path
) -> None:
    """ "waves and dances": the dance on the action lane, the wave on the upper-body lane; the
    prompt's words marked under it, the left-out word named."""
    open_view(browser, web_app.url, API_KEY, "playground")
    wait_for(browser, lambda d: find(d, "#checkpoint").get_attribute("data-loaded"))
    fill(browser, "#prompt", "a man waves and dances zorblax")
    fill(browser, "#duration", "2")
    choose(browser, "#size", "256x256")
    find(browser, "#animate-button").click()
    wait_for(browser, lambda d: find_all(d, ".segment[data-kind='upper']"))
    assert [name for name, _, _ in segments(browser, "upper")] == ["wave"]
    assert "dance" in [name for name, _, _ in segments(browser, "action")]
    labels = [e.text for e in find_all(browser, ".lane-label")]
    assert labels[:3] == ["time", "actions", "upper body"]
    marks = {m.text: m.get_attribute("data-status") for m in find_all(browser, "mark")}
    assert marks["waves"] == "recognised" and marks["dances"] == "recognised"
    assert marks["zorblax"] == "ignored"
    assert "zorblax was left out" in visible_text(browser, "#understood-notice")
    save_screenshot(browser, screenshot_dir, "playground-upper")
    assert script_errors(browser) == []
