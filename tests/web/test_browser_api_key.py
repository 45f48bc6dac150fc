"""The API key in headless Chromium: asked for once when the API answers 401, kept in
localStorage and sent with every request; a refused key asks again, and declining shows the
API's own error."""

from __future__ import annotations

from web_harness import API_KEY, WebApp
from web_helpers import KEY_STORAGE, fill, find, open_view, script_errors, visible_text, wait_for


def dialog_open(driver) -> bool:
    return find(driver, "#key-dialog").get_attribute("open") is not None


def picker_loaded(driver) -> bool:
    return find(driver, "#checkpoint").get_attribute("data-loaded") == "true"


def test_page_asks_for_the_key_once_and_sends_it(browser, web_app: WebApp) -> None:
    open_view(browser, web_app.url, None, "playground")
    wait_for(browser, dialog_open)
    assert "needs an API key" in find(browser, "#key-note").text
    assert not picker_loaded(browser)
    fill(browser, "#key-input", API_KEY)
    find(browser, "#key-save").click()
    wait_for(browser, picker_loaded)  # the refused request was retried with the key
    assert not dialog_open(browser)
    stored = browser.execute_script("return localStorage.getItem(arguments[0])", KEY_STORAGE)
    assert stored == API_KEY

    # later visits send the saved key with every request and never ask again
    browser.refresh()
    wait_for(browser, picker_loaded)
    browser.get(f"{web_app.url}/#jobs")
    total = web_app.api.get("/v1/jobs").json()["total"]
    summary = wait_for(browser, lambda d: find(d, "#jobs-summary").text)
    assert summary.startswith(f"{total} job(s)")
    assert not dialog_open(browser)
    assert script_errors(browser) == []


def test_refused_key_asks_again_and_declining_shows_the_api_error(browser, web_app: WebApp) -> None:
    open_view(browser, web_app.url, "not-the-key", "playground")
    wait_for(browser, dialog_open)
    assert "refused" in find(browser, "#key-note").text
    find(browser, "#key-cancel").click()
    problem = web_app.api.get("/v1/checkpoints", headers={"X-API-Key": "not-the-key"}).json()
    assert visible_text(browser, "#animate-error") == f"{problem['title']}: {problem['detail']}"
    assert not dialog_open(browser)

    # the header button replaces the key; the view reloads with it
    find(browser, "#key-button").click()
    wait_for(browser, dialog_open)
    fill(browser, "#key-input", API_KEY)
    find(browser, "#key-save").click()
    wait_for(browser, picker_loaded)
    assert not find(browser, "#animate-error").is_displayed()
