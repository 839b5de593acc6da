"""The chat page in a real headless Chromium (playwright driving /usr/bin/chromium)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.fakes.live_server import serve

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
KAFKA = "perf-2025031606"
ETCD = "perf-2025031603"  # has a duration
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
        # the whole answer: every cause, check, next step and past fix of the diagnosis
        d = httpx.post(live.url + "/v1/diagnose", json={"query": QUERY}, timeout=60).json()
        for title, items in [
            ("Likely causes:", [h["cause"] for h in d["hypotheses"]]),
            ("Check:", d["evidence_to_check"]),
            ("Next steps:", d["next_steps"]),
            ("What fixed it before:", [r["action"] for r in d["resolutions"]]),
        ]:
            assert items and f"\n{title}\n" in copied
            assert all(item in copied for item in items), title
        assert errors == []
    assert (tmp_path / "answer.png").stat().st_size > 10_000


def test_phone_layout_and_follow_up(browser: Any, built: Settings, tmp_path: Path) -> None:
    with start(built) as live:
        live.wait_loaded()
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        page.goto(live.url + "/")
        ask_and_wait(page, QUERY)
        # the similar incidents are at the top of the answer, not below the whole (long) answer
        first = page.locator(".turn").first
        first.scroll_into_view_if_needed()
        page.evaluate("document.querySelector('.turn').scrollIntoView({block: 'start'})")
        top_match = first.locator(".turn-matches .turn-match").first
        assert top_match.get_attribute("data-id") == KAFKA
        box, answer = top_match.bounding_box(), first.locator(".answer-card").bounding_box()
        assert box is not None and answer is not None
        assert answer["height"] > 844  # a long answer, taller than the screen
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844  # yet the match is on screen
        top_match.click()
        page.wait_for_selector("#detail[open] .passage pre")
        assert page.inner_text("#detail-id") == KAFKA
        page.click("#detail-close")
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
        page.goto(f"{live.url}/incidents/{ETCD}")
        page.wait_for_selector("#detail[open] .passage pre")
        assert page.inner_text("#detail-id") == ETCD
        incident = httpx.get(f"{live.url}/v1/incidents/{ETCD}", timeout=30).json()
        assert page.title().startswith(f"{ETCD}: {incident['title']}")
        # severity, date and duration at the top; root cause and fix before anything else
        facts = page.inner_text("#detail-facts")
        assert (incident["severity"], incident["duration"]) == ("critical", "4h")
        assert "severity critical" in facts and "lasted 4h" in facts
        assert incident["started"][:10] in facts
        headings = page.locator("#detail-body > section h3").all_inner_texts()
        assert [h.lower() for h in headings[:3]] == ["root cause", "what fixed it", "symptoms"]
        assert incident["root_cause"] in page.inner_text("#detail-body .root-cause")
        assert page.locator("#detail-body .fix li").count() == len(incident["fixes"]) > 0
        page.click("#detail-close")
        # The dialog's close event, which restores the title, is dispatched after the click returns:
        # expect() retries until it holds (wait_for_function would evaluate a string, which the page's
        # Content-Security-Policy forbids).
        from playwright.sync_api import expect

        expect(page).to_have_title("incident-assistant", timeout=10_000)


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


def test_match_reasons_and_the_verdicts_reason_are_shown(browser: Any, built: Settings) -> None:
    """Matches say why they matched and what contradicts the query, and the verdict says why (fields of
    the similar/diagnose JSON: reasons, same_problem, seen_before.reason). The test replaces the server's
    own values with known ones on the answer's way to the page, so it can check every one is shown."""
    reasons = {
        "shared": [{"query": "consumer lag growing", "label": "Consumer lag at 250k on customer-orders"}],
        "contradictions": ["query says order processing slow; this incident: payments also failing"],
    }
    why = "The top match names the same consumer group falling behind on the same topic."

    def add_reasons(route: Any) -> None:
        response = route.fetch()
        events = []
        for block in response.text().split("\n\n"):
            if block.startswith("event: diagnosis"):
                head, _, data = block.partition("data: ")
                diagnosis = json.loads(data)
                for match in diagnosis["matches"]:
                    match["reasons"] = reasons
                    match["same_problem"] = 0.83
                diagnosis["seen_before"]["reason"] = why
                block = head + "data: " + json.dumps(diagnosis)
            events.append(block)
        route.fulfill(response=response, body="\n\n".join(events))

    with start(built) as live:
        live.wait_loaded()
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.route("**/v1/diagnose", add_reasons)
        page.goto(live.url + "/")
        ask_and_wait(page, QUERY)
        top = page.locator("#matches .match").first
        assert "consumer lag growing" in top.inner_text() and "Consumer lag at 250k" in top.inner_text()
        assert "payments also failing" in top.locator(".contradictions").inner_text()
        assert "83%" in top.locator(".same-problem").inner_text()
        assert page.inner_text("#seen-reason") == why
        assert page.inner_text(".turn .verdict-reason") == why
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.click(".turn .copy")
        page.wait_for_selector(".turn .copy:text('Copied ✓')")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert why in copied.splitlines()[0]
        assert '"consumer lag growing" ↔ Consumer lag at 250k' in copied and "but: query says" in copied


def test_reasons_render_exactly_where_the_server_gives_them(browser: Any, built: Settings) -> None:
    with start(built) as live:
        live.wait_loaded()
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(live.url + "/")
        ask_and_wait(page, QUERY)
        d = httpx.post(live.url + "/v1/diagnose", json={"query": QUERY}, timeout=60).json()

    def given(m: dict[str, Any]) -> bool:
        r = m.get("reasons") or {}
        return bool(r.get("shared") or r.get("contradictions") or m.get("same_problem") is not None)

    shown = page.locator("#matches .match").evaluate_all("ms => ms.map(m => !!m.querySelector('.reasons'))")
    assert shown == [given(m) for m in d["matches"]]
    assert page.locator("#seen-reason").is_hidden() == (not d["seen_before"].get("reason"))
