"""The console in a real browser (headless Chromium, Selenium): log in, upload a CSV with bad
rows and see the rejects, start the demo campaign on the persona trunk and watch the wallboard
move as calls finish, open a call and play its audio; a viewer sees masked numbers and cannot
start a campaign; an unauthenticated request is refused. Screenshots go to out/web-artifacts/."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.web.browser import chromium, screenshot, serve
from tests.web.conftest import PASSWORD
from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.store import Store
from voicebot.web.auth import add_user

pytestmark = pytest.mark.e2e
PERSONAS = ("cooperative", "refuses")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("console")
    store = Store(f"sqlite:///{root / 'console.db'}")
    for role in ("viewer", "operator"):
        add_user(store, role, role, PASSWORD)
    window = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
    config = CampaignConfig(window=window, max_attempts=1, concurrency=2, cps=5)
    store.create("demo", str(ROOT / "prompts" / "survey_en.yaml"), config)
    contacts = root / "demo.csv"
    contacts.write_text(
        "phone,name,persona\n"
        + "".join(f"+1 212 555 {100 + i:04d},Caller {i},{p}\n" for i, p in enumerate(PERSONAS))
    )
    import_contacts(store, "demo", contacts)
    store.create("upload", str(ROOT / "prompts" / "survey_en.yaml"), config)
    with serve(store, root / "out", ROOT / "prompts") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = chromium()
    yield driver
    driver.quit()


def _login(browser: Any, site: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(f"{site}/login")
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    _until(lambda: browser.find_elements(By.ID, "who"), 10)


def _until(predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out waiting in the browser"
        time.sleep(0.2)
    return value


def _texts(browser: Any, css: str) -> list[str]:
    """The text of every match, read in one step: the wallboard may redraw between two reads."""
    return list(
        browser.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText.trim())",
            css,
        )
    )


def test_unauthenticated_requests_are_refused(site: str, browser: Any) -> None:
    browser.delete_all_cookies()
    browser.get(f"{site}/campaigns/demo")
    assert browser.current_url.startswith(f"{site}/login")
    for path in ("/api/campaigns", "/api/calls/1/recording", "/metrics", "/openapi.json"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{site}{path}", timeout=10)
        assert refused.value.code == 401


def test_operator_uploads_runs_the_demo_and_plays_a_call(
    site: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _login(browser, site, "operator")
    browser.find_element(By.CSS_SELECTOR, "#create input[name=name]").send_keys("fresh")
    browser.find_element(By.CSS_SELECTOR, "#create button").click()
    _until(lambda: "created" in browser.find_element(By.ID, "create-result").text, 10)
    browser.refresh()
    assert "fresh" in browser.find_element(By.ID, "campaigns").text
    upload = tmp_path / "contacts.csv"
    upload.write_text("phone,name\n+1 415 555 0101,Ann\nnot a number,Bob\n+1 415 555 0102,Cy\n")
    Select(browser.find_element(By.ID, "upload-campaign")).select_by_visible_text("upload")
    browser.find_element(By.ID, "upload-file").send_keys(str(upload))
    browser.find_element(By.ID, "upload-button").click()
    rejects = _until(lambda: browser.find_elements(By.CSS_SELECTOR, "#rejects li"), 20)
    assert rejects[0].text.startswith("row 3: phone")
    assert "2 imported" in browser.find_element(By.ID, "upload-result").text
    screenshot(browser, "campaigns")

    browser.get(f"{site}/campaigns/demo")
    ended = browser.find_element(By.ID, "ended")
    assert ended.text == "0"
    ringing = browser.find_element(By.CSS_SELECTOR, "[data-k=ringing]")
    talking = browser.find_element(By.CSS_SELECTOR, "[data-k=talking]")
    assert ringing.text == talking.text == "–"  # this server placed none of its calls yet
    Select(browser.find_element(By.ID, "trunk")).select_by_value("personas")
    browser.find_element(By.ID, "virtual").click()
    browser.find_element(By.ID, "start").click()
    seen = [0]
    deadline = time.monotonic() + 300  # models load, then two calls through the pipeline
    while seen[-1] < len(PERSONAS):
        assert time.monotonic() < deadline, f"the wallboard stayed at {seen}"
        value = int(ended.text)
        if value != seen[-1]:
            seen.append(value)
        time.sleep(0.2)
    assert seen == sorted(seen) and seen[-1] == len(PERSONAS)  # it moved as calls finished
    _until(lambda: ringing.text == talking.text == "0", 10)  # counted, and none left over
    assert browser.execute_script("return window.voicebotUpdates") >= 2
    phones = _texts(browser, "#recent .phone")
    assert all(p.startswith("+1212555") for p in phones)  # an operator sees full numbers
    screenshot(browser, "wallboard")

    browser.get(browser.execute_script("return document.querySelector('#recent a').href"))
    _until(lambda: browser.find_elements(By.ID, "turns"), 10)
    assert browser.find_elements(By.CSS_SELECTOR, "#turns td.said")
    played = browser.execute_async_script("""
        const done = arguments[arguments.length - 1], audio = document.getElementById('audio');
        audio.play().then(() => setTimeout(() => done({t: audio.currentTime, d: audio.duration,
                          err: audio.error && audio.error.code}), 1200))
             .catch((e) => done({failed: String(e), d: audio.duration}));
    """)
    assert played.get("d", 0) > 1 and not played.get("err"), played
    assert played.get("t", 0) > 0, played
    _until(lambda: browser.find_element(By.ID, "channels").get_attribute("data-drawn"), 10)
    assert browser.find_element(By.ID, "channels").get_attribute("data-drawn") == "2"
    screenshot(browser, "call")
    browser.get(f"{site}/campaigns/demo/script")
    assert "calls" in browser.find_element(By.ID, "flow").text
    screenshot(browser, "script")
    browser.get(f"{site}/campaigns/demo/report")
    _until(
        lambda: browser.execute_script(
            "return document.getElementById('r-outcomes').clientHeight > 0"
        ),
        10,
    )
    screenshot(browser, "report")


def test_viewer_sees_masked_numbers_and_cannot_start(site: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _login(browser, site, "viewer")
    browser.get(f"{site}/campaigns/demo")
    assert not browser.find_elements(By.ID, "controls")
    assert "+1212555" not in browser.page_source and "Caller 0" not in browser.page_source
    phones = _texts(browser, "#recent .phone")
    assert phones and all("*" in p for p in phones)
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/api/campaigns/demo/start', {method: 'POST', headers: {'X-CSRF-Token':
              document.body.dataset.csrf, 'Content-Type': 'application/json'}, body: '{}'})
          .then((r) => done(r.status));
    """)
    assert status == 403
    browser.get(browser.execute_script("return document.querySelector('#recent a').href"))
    page = browser.page_source
    assert "+1212555" not in page and not re.search(
        r"Caller \d", page
    )  # nor the name in a bot line
    assert not browser.find_elements(By.ID, "audio")
    said = _texts(browser, "#turns td.said")
    assert said and all(s == "(hidden: operators only)" for s in said)
    screenshot(browser, "call_viewer")
    browser.get(f"{site}/campaigns/demo/report")
    assert "survey.recommend" in browser.page_source  # numeric answers: counts for everyone
    assert "survey.comment" not in browser.page_source  # free text: operators only
    assert (
        json.loads(browser.execute_script("return JSON.stringify(window.voicebotLags || [])")) == []
    )
