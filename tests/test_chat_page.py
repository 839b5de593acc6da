"""The chat page in a real headless Chromium (playwright driving /usr/bin/chromium)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.api import create_app
from assistant.core import build
from assistant.settings import Settings
from tests.live_server import serve

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
KAFKA = "perf-2025031606"
QUERY = "kafka consumer lag growing on customer-orders, order processing slow"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed: apt-get install -y chromium (the .ci/run script does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def built(settings: Settings, tmp_path: Path) -> Settings:
    settings = settings.model_copy(update={"data_dir": tmp_path / "data"})
    build(settings)
    return settings


def start(settings: Settings) -> Any:
    return serve(create_app(settings))


def ask_and_wait(page: Any, text: str) -> None:
    """Send a question and wait until its own answer (not an earlier one) is complete."""
    done = page.locator(".turn .answer[data-state=done]")
    before = done.count()
    page.fill("#query", text)
    page.press("#query", "Enter")
    done.nth(before).wait_for(timeout=30_000)


def test_answer_streams_in_with_cited_incidents(browser: Any, built: Settings, tmp_path: Path) -> None:
    with start(built) as live:
        live.wait_loaded()
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(live.url + "/")
        page.wait_for_selector("#status[data-state=ready]")
        assert "6 incidents indexed" in page.inner_text("#status")

        ask_and_wait(page, QUERY)
        answer = page.locator(".turn .answer")
        assert KAFKA in answer.inner_text()
        assert int(answer.get_attribute("data-chunks") or 0) > 5  # rendered as the tokens arrived
        assert page.locator(f".turn .answer .citation[data-id='{KAFKA}']").count() >= 1
        top = page.locator("#matches .match").first
        assert top.get_attribute("data-id") == KAFKA
        assert top.get_attribute("data-cited") == "true"
        assert "database" in top.inner_text() and "score" in top.inner_text()
        assert page.locator("#seen-badge").get_attribute("data-verdict") in {"yes", "maybe", "no"}
        page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)

        page.locator(f".turn .answer .citation[data-id='{KAFKA}']").first.click()
        page.wait_for_selector("#detail[open] .passage pre")
        assert page.inner_text("#detail-id") == KAFKA
        assert "Symptoms" in (page.text_content("#detail-body") or "")
        page.screenshot(path=str(tmp_path / "detail.png"))
        page.click("#detail-close")

        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.click(".turn .copy")
        page.wait_for_selector(".turn .copy:text('Copied ✓')")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert KAFKA in copied and "Similar incidents:" in copied
        assert errors == []
    assert (tmp_path / "answer.png").stat().st_size > 10_000


def test_phone_layout_and_follow_up(browser: Any, built: Settings, tmp_path: Path) -> None:
    with start(built) as live:
        live.wait_loaded()
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        page.goto(live.url + "/")
        ask_and_wait(page, QUERY)
        ask_and_wait(page, "what fixed it last time?")
        assert page.locator(".turn").count() == 2
        assert page.locator(".turn .answer[data-state=done]").count() == 2
        # nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)


def test_deep_link_opens_the_incident(browser: Any, built: Settings) -> None:
    with start(built) as live:
        live.wait_loaded()
        page = browser.new_page()
        page.goto(f"{live.url}/incidents/{KAFKA}")
        page.wait_for_selector("#detail[open] .passage pre")
        assert page.inner_text("#detail-id") == KAFKA


def test_page_asks_for_the_api_key(browser: Any, built: Settings) -> None:
    with start(built.model_copy(update={"api_keys": ["page-key"]})) as live:
        live.wait_loaded()
        page = browser.new_page()
        page.goto(live.url + "/")
        page.fill("#query", QUERY)
        page.press("#query", "Enter")
        page.wait_for_selector("#key-dialog[open]")
        assert "missing API key" in page.inner_text(".turn .answer")
        page.fill("#key-input", "page-key")
        page.click("#key-form button[type=submit]")
        ask_and_wait(page, QUERY)
        assert page.locator(f"#matches .match[data-id='{KAFKA}']").count() == 1
