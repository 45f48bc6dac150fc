"""Jobs and checkpoints in headless Chromium: a tiny pipeline started from the page reaches
`succeeded` with live progress; a job can be cancelled; a failed job shows its error; the
checkpoint view shows metrics, the loss curve and an evaluation table, and animates with it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from web_harness import API_KEY, WebApp
from web_helpers import (
    fill,
    find,
    find_all,
    open_view,
    save_screenshot,
    script_errors,
    visible_text,
    wait_for,
)

from jobcore.db import session_scope
from jobcore.models import CheckpointRow, Job
from stickgen.textmodels import BUNDLED_MODEL

STATE: dict[str, str] = {}  # checkpoint ids of the pipeline's train step, by kind
# an evaluation in the shape `stickgen.evaluate` writes: metric columns, one row per system
PROTOCOL_EVALUATION = {
    "dataset": {"samples": 64, "split": "test", "frames": 250},
    "metrics": [
        {"key": "r_precision_top1", "label": "R@1", "better": "higher"},
        {"key": "fid", "label": "FID", "better": "lower"},
    ],
    "systems": {
        "ground truth": {
            "kind": "reference",
            "metrics": {"r_precision_top1": {"mean": 0.5, "ci": 0.02}, "fid": None},
            "warnings": [],
        },
        "checkpoint": {
            "kind": "checkpoint",
            "metrics": {
                "r_precision_top1": {"mean": 0.125, "ci": 0.01},
                "fid": {"mean": 2.25, "ci": 0.5},
            },
            "warnings": ["only 64 prompts"],
        },
    },
    "warnings": [],
}


def row(driver, job_id: str):
    rows = find_all(driver, f"#jobs-table tr[data-job-id='{job_id}']")
    return rows[0] if rows else None


def row_status(driver, job_id: str) -> str | None:
    found = row(driver, job_id)
    return found.get_attribute("data-status") if found else None


def newest_pipeline(web_app: WebApp) -> dict:
    items = web_app.api.get("/v1/jobs", params={"kind": "pipeline", "limit": 1}).json()["items"]
    return items[0]


def start_pipeline(driver, augment: bool = True, **fields: str) -> None:
    """Fill the pipeline form (opening the advanced settings when needed) and submit it."""
    if find(driver, "#pipe-augment").is_selected() != augment:
        find(driver, "#pipe-augment").click()
    if not find(driver, "#pipe-batch-size").is_displayed():
        find(driver, ".advanced summary").click()
    for name, value in fields.items():
        fill(driver, f"#pipe-{name.replace('_', '-')}", value)
    find(driver, "#pipeline-button").click()
    wait_for(driver, lambda d: "Started pipeline" in find(d, "#pipeline-status").text)


def test_pipeline_started_from_the_page_reaches_succeeded(
    browser, web_app: WebApp, screenshot_dir: Path
) -> None:
    """The form as it comes (no field changed): a pipeline whose checkpoint can be evaluated."""
    open_view(browser, web_app.url, API_KEY, "jobs")
    wait_for(browser, lambda d: find(d, "#pipeline-form").get_attribute("data-limits") == "shown")
    assert "(1–2,000)" in find(browser, "label:has(#pipe-num-base)").text  # the server's limit
    find(browser, "#pipeline-button").click()
    wait_for(browser, lambda d: "Started pipeline" in find(d, "#pipeline-status").text)
    job = newest_pipeline(web_app)
    assert find(browser, "#pipeline-status").text == f"Started pipeline {job['id'][:8]}"
    params = job["params"]
    assert params["generate"] == {"num_base": 100, "augment": True, "seed": 0, "shards": 1}
    assert params["train"]["epochs"] == 2 and params["train"]["batch_size"] == 16
    assert params["train"]["preset"] == "tiny"
    assert params["embed"]["model"] == web_app.settings.embedding_model == BUNDLED_MODEL

    seen: set[tuple[str | None, str | None]] = set()
    deadline = time.monotonic() + 180
    while row_status(browser, job["id"]) != "succeeded":
        assert row_status(browser, job["id"]) not in ("failed", "cancelled"), row(
            browser, job["id"]
        ).text
        assert time.monotonic() < deadline, f"still {row_status(browser, job['id'])}"
        found = row(browser, job["id"])
        if found is not None:
            seen.add(
                (
                    found.get_attribute("data-status"),
                    found.find_element(By.CSS_SELECTOR, ".percent").text,
                )
            )
        time.sleep(0.2)
    # the page followed the job live: it showed it running at some progress short of 100%
    assert any(status == "running" and percent != "100%" for status, percent in seen), seen

    parent = row(browser, job["id"])
    assert parent.find_element(By.CSS_SELECTOR, ".percent").text == "100%"
    assert not parent.find_element(By.CSS_SELECTOR, ".cancel").is_displayed()
    steps = web_app.api.get("/v1/jobs", params={"parent_id": job["id"]}).json()["items"]
    rows = [r.get_attribute("data-job-id") for r in find_all(browser, "#jobs-table tbody tr")]
    start = rows.index(job["id"])
    ordered = sorted(steps, key=lambda step: step["step"])
    following = rows[start + 1 : start + 1 + len(ordered)]
    assert following == [step["id"] for step in ordered]  # the steps follow, in order
    for step in steps:
        assert row_status(browser, step["id"]) == "succeeded"
    finished = web_app.api.get(f"/v1/jobs/{job['id']}").json()
    link = parent.find_element(By.CSS_SELECTOR, ".links a")
    assert link.get_attribute("href").endswith(
        f"#checkpoints/{finished['result']['checkpoint_id']}"
    )
    train_id = finished["result"]["steps"]["train"]
    written = web_app.api.get("/v1/checkpoints", params={"job_id": train_id}).json()["items"]
    STATE.update({c["kind"]: c["id"] for c in written})
    assert STATE["best"] == finished["result"]["checkpoint_id"]
    save_screenshot(browser, screenshot_dir, "jobs")
    assert script_errors(browser) == []


def test_cancel_a_running_pipeline_from_the_page(browser, web_app: WebApp) -> None:
    open_view(browser, web_app.url, API_KEY, "jobs")
    start_pipeline(browser, num_base="2000", epochs="20", train_samples="", val_samples="")
    job = newest_pipeline(web_app)
    button = wait_for(
        browser,
        lambda d: row(d, job["id"]) and row(d, job["id"]).find_element(By.CSS_SELECTOR, ".cancel"),
    )
    button.click()
    wait_for(browser, lambda d: row_status(d, job["id"]) == "cancelled", timeout_s=60)
    assert web_app.api.get(f"/v1/jobs/{job['id']}").json()["status"] == "cancelled"
    assert not row(browser, job["id"]).find_element(By.CSS_SELECTOR, ".cancel").is_displayed()


def test_failed_job_shows_its_error(browser, web_app: WebApp) -> None:
    error = "generate failed: no space left on device (test)"
    with session_scope(web_app.settings.db_url) as session:
        failed = Job(kind="generate", status="failed", error=error, params={"num_base": 1})
        session.add(failed)
        session.flush()
        job_id = failed.id
    open_view(browser, web_app.url, API_KEY, "jobs")
    wait_for(browser, lambda d: row_status(d, job_id) == "failed")
    message = row(browser, job_id).find_element(By.CSS_SELECTOR, ".message")
    assert message.text == error
    assert "error-text" in message.get_attribute("class")


def test_form_errors_stay_until_the_input_changes(browser, web_app: WebApp) -> None:
    """Base scenes 0 is caught before sending; a value only the server refuses shows the
    server's words; either stays while the jobs list refreshes, and goes once the input changes."""
    open_view(browser, web_app.url, API_KEY, "jobs")
    wait_for(browser, lambda d: find(d, "#pipeline-form").get_attribute("data-limits") == "shown")
    before = web_app.api.get("/v1/jobs", params={"kind": "pipeline"}).json()["total"]
    fill(browser, "#pipe-num-base", "0")
    find(browser, "#pipeline-button").click()
    shown = visible_text(browser, "#pipeline-error")
    assert "Base scenes: 0 is below the minimum of 1" in shown
    assert find(browser, "#pipe-num-base").get_attribute("aria-invalid") is not None
    time.sleep(2.5)  # a few refreshes of the jobs list
    assert find(browser, "#pipeline-error").is_displayed()
    assert find(browser, "#pipeline-error").text == shown
    fill(browser, "#pipe-num-base", "20000")
    wait_for(browser, lambda d: not find(d, "#pipeline-error").is_displayed())
    find(browser, "#pipeline-button").click()
    assert "above the limit of 2,000" in visible_text(browser, "#pipeline-error")

    # what only the server knows: a learning rate of 0 (the page allows 0..1)
    fill(browser, "#pipe-num-base", "100")
    if not find(browser, "#pipe-lr").is_displayed():
        find(browser, ".advanced summary").click()
    fill(browser, "#pipe-lr", "0")
    find(browser, "#pipeline-button").click()
    shown = visible_text(browser, "#pipeline-error")
    assert shown.startswith("Invalid request: pipeline.params.train.lr"), shown
    time.sleep(2.5)
    assert find(browser, "#pipeline-error").text == shown
    fill(browser, "#pipe-lr", "0.0003")
    wait_for(browser, lambda d: not find(d, "#pipeline-error").is_displayed())
    assert web_app.api.get("/v1/jobs", params={"kind": "pipeline"}).json()["total"] == before


def set_evaluation(web_app: WebApp, checkpoint_id: str, evaluation: object) -> None:
    with session_scope(web_app.settings.db_url) as session:
        stored = session.get(CheckpointRow, checkpoint_id)
        stored.metrics = {**stored.metrics, "evaluation": evaluation}


def show_checkpoint(driver, checkpoint_id: str) -> None:
    wait_for(driver, lambda d: find_all(d, f"tr[data-checkpoint-id='{checkpoint_id}']"))
    find(driver, f"tr[data-checkpoint-id='{checkpoint_id}']").click()
    heading = "return document.querySelector('#checkpoint-detail h2')?.textContent ?? ''"
    wait_for(driver, lambda d: checkpoint_id[:8] in d.execute_script(heading))


def evaluation_table(driver) -> tuple[list[str], dict[str, list[str]]]:
    """Column headers and {row header: cells} of the evaluation table."""
    columns = [th.text for th in find_all(driver, "#evaluation-table thead th")]
    rows = {
        r.find_element(By.TAG_NAME, "th").text: [
            td.text for td in r.find_elements(By.TAG_NAME, "td")
        ]
        for r in find_all(driver, "#evaluation-table tbody tr")
    }
    return columns, rows


def test_checkpoint_view_shows_metrics_curve_and_evaluation(
    browser, web_app: WebApp, screenshot_dir: Path
) -> None:
    if "best" not in STATE:
        pytest.skip("needs the pipeline of test_pipeline_started_from_the_page_reaches_succeeded")
    checkpoint_id = STATE["best"]
    simple = {
        "procedural": {"fid": 1.25, "diversity": 0.5},
        "model": {"fid": 3.5, "diversity": 0.25},
    }
    set_evaluation(web_app, STATE["last"], simple)
    set_evaluation(web_app, checkpoint_id, PROTOCOL_EVALUATION)
    checkpoint = web_app.api.get(f"/v1/checkpoints/{checkpoint_id}").json()

    open_view(browser, web_app.url, API_KEY, "checkpoints")
    wait_for(browser, lambda d: find_all(d, f"tr[data-checkpoint-id='{checkpoint_id}']"))
    listed = {
        r.get_attribute("data-checkpoint-id")
        for r in find_all(browser, "#checkpoints-table tbody tr")
    }
    every = web_app.api.get("/v1/checkpoints").json()["items"]
    assert listed == {c["id"] for c in every}

    # any plain evaluation object: one row per entry, one column per field
    show_checkpoint(browser, STATE["last"])
    columns, rows = evaluation_table(browser)
    assert columns[1:] == ["fid", "diversity"]
    assert {name: [float(v) for v in cells] for name, cells in rows.items()} == {
        system: list(scores.values()) for system, scores in simple.items()
    }

    show_checkpoint(browser, checkpoint_id)
    curve_size = (
        "const img = document.getElementById('loss-curve'); "
        "return img && img.complete && img.naturalWidth "
        "? [img.naturalWidth, img.naturalHeight] : null"
    )
    size = wait_for(browser, lambda d: d.execute_script(curve_size))
    assert size == [700, 400]  # the trainer's 7 x 4 in figure at 100 dpi
    metrics = {
        r.find_element(By.TAG_NAME, "th").text: r.find_element(By.TAG_NAME, "td").text
        for r in find_all(browser, "#metrics-table tr")
    }
    assert float(metrics["val_loss"]) == pytest.approx(checkpoint["metrics"]["val_loss"], rel=1e-3)
    assert metrics["preset"] == "tiny"
    assert "evaluation" not in metrics

    # the evaluation protocol's result: systems x metrics, mean ± 95% interval, warnings
    columns, rows = evaluation_table(browser)
    assert columns == ["System", "R@1 ↑", "FID ↓"]
    expected = {}
    for name, system in PROTOCOL_EVALUATION["systems"].items():
        cells = [
            "–" if value is None else f"{value['mean']:.3f} ± {value['ci']:.3f}"
            for value in system["metrics"].values()
        ]
        expected[name + (" ⚠" if system["warnings"] else "")] = cells
    assert rows == expected
    assert find(browser, ".warnings").text == "checkpoint: only 64 prompts"
    save_screenshot(browser, screenshot_dir, "checkpoints")

    # "Animate with this checkpoint": the learned model draws a 2 s clip in the playground
    find(browser, "#use-checkpoint").click()
    wait_for(browser, lambda d: find(d, "#checkpoint").get_attribute("value") == checkpoint_id)
    fill(browser, "#prompt", "a person waves")
    fill(browser, "#duration", "2")
    find(browser, "#size option[value='256x256']").click()
    find(browser, "#animate-button").click()
    duration = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        const video = document.getElementById("video");
        video.addEventListener("loadedmetadata", () => done(video.duration), {once: true});"""
    )
    assert duration == pytest.approx(2.0, abs=0.05)
    assert visible_text(browser, ".engine") == "Learned model"
    assert script_errors(browser) == []


def test_evaluate_from_the_button_then_animate_with_it(
    browser, web_app: WebApp, screenshot_dir: Path
) -> None:
    """The default pipeline's checkpoint: Evaluate with settings fitted to its test split, see
    the table (scrolling inside its card), then animate with it and read the notices."""
    if "best" not in STATE:
        pytest.skip("needs the pipeline of test_pipeline_started_from_the_page_reaches_succeeded")
    checkpoint_id = STATE["best"]
    open_view(browser, web_app.url, API_KEY, "checkpoints")
    browser.execute_script("location.hash = arguments[0]", f"#checkpoints/{checkpoint_id[:8]}")
    wait_for(browser, lambda d: find_all(d, "#evaluate-form[data-test-prompts]"))
    prompts = int(find(browser, "#evaluate-form").get_attribute("data-test-prompts"))
    assert prompts >= 2
    assert int(find(browser, "#eval-pool-size").get_attribute("value")) == min(32, prompts)
    find(browser, "#evaluate-button").click()
    wait_for(browser, lambda d: "Evaluating" in find(d, "#evaluate-status").text)
    done = "return document.getElementById('evaluate-status')?.textContent ?? ''"
    wait_for(browser, lambda d: d.execute_script(done).endswith("done"), timeout_s=240)
    columns, rows = evaluation_table(browser)
    assert "R@1 ↑" in columns and "ground truth" in rows
    assert "null" not in find(browser, "#checkpoint-detail").text
    # the 15-column table scrolls inside its card; the page itself never gets wider
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    evaluation = web_app.api.get(f"/v1/checkpoints/{checkpoint_id[:8]}").json()["evaluation"]
    assert evaluation["protocol"]["pool_size"] == min(32, prompts)
    save_screenshot(browser, screenshot_dir, "checkpoint-evaluated")

    find(browser, "#use-checkpoint").click()
    wait_for(browser, lambda d: find(d, "#checkpoint").get_attribute("value") == checkpoint_id)
    fill(browser, "#prompt", "a man does a cartwheel")
    fill(browser, "#duration", "3")
    find(browser, "#size option[value='256x256']").click()
    find(browser, "#animate-button").click()
    wait_for(browser, lambda d: find_all(d, ".segment[data-kind='predicted']"), timeout_s=60)
    assert visible_text(browser, ".engine") == "Learned model"
    body = {"prompt": "a man does a cartwheel", "duration": 3, "seed": 0, "width": 256,
            "height": 256, "checkpoint": checkpoint_id, "format": "json"}  # fmt: skip
    plan = web_app.api.post("/v1/animate", json=body).json()
    report = plan["scene"]["understanding"]
    action = next(r for r in report["recognised"] + report["guessed"] if r["kind"] == "action")
    # the prompt's words under the text box, and what the cartwheel became
    marks = {
        m.text: m.get_attribute("data-status") for m in find_all(browser, ".understanding mark")
    }
    assert marks[action["text"]] in ("recognised", "guessed")
    notice = visible_text(browser, "#understood-notice")
    assert action["text"] in notice and action["meaning"].replace("_", " ") in notice
    # the plan the model was given and, apart, what its action head predicted (smoothed)
    labels = [e.text for e in find_all(browser, ".lane-label")]
    assert "plan" in labels and "model predicted" in labels
    shown = [
        (s.get_attribute("data-name"), float(s.get_attribute("data-start")))
        for s in find_all(browser, ".segment[data-kind='predicted']")
    ]
    expected = [(p["action"].replace("_", " "), p["start"]) for p in plan["actors"][0]["predicted"]]
    assert [name for name, _ in shown] == [name for name, _ in expected]
    assert [start for _, start in shown] == pytest.approx(
        [start for _, start in expected], abs=1e-3
    )
    save_screenshot(browser, screenshot_dir, "playground-model")

    fill(browser, "#prompt", "zorblax the quibbly frandle")
    find(browser, "#animate-button").click()
    wait_for(
        browser, lambda d: find(d, "#understood-notice").get_attribute("data-kind") == "nothing"
    )
    notice = find(browser, "#understood-notice").text
    assert notice.startswith("Nothing in this prompt was understood") and "zorblax" in notice
    assert script_errors(browser) == []


def test_docs_list_the_operations_offline(browser, web_app: WebApp, screenshot_dir: Path) -> None:
    """Swagger UI and ReDoc come from this server (the browser reaches nothing else)."""
    browser.get(f"{web_app.url}/docs")
    wait_for(browser, lambda d: len(find_all(d, ".opblock")) >= 8, timeout_s=30)
    paths = {e.text for e in find_all(browser, ".opblock-summary-path")}
    assert {"/v1/jobs", "/v1/animate", "/v1/limits"} <= paths
    save_screenshot(browser, screenshot_dir, "docs")
    browser.get(f"{web_app.url}/redoc")
    wait_for(browser, lambda d: "/v1/animate" in d.find_element(By.TAG_NAME, "body").text, 30)
