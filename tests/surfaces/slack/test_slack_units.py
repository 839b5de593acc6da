"""The Slack bot's parts without Slack: message text, Block Kit limits, incident facts, the feedback
store's schema, settings names, the app manifest and the CLI's configuration errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.models.blocks import Block
from typer.testing import CliRunner

from assistant.corpus.facts import IncidentFacts, incident_facts
from assistant.search.results import Family, History, KnownKind, Match, Occurrence, PassageHit, SeenBefore
from assistant.settings import Settings
from assistant.sources.slack_markup import message_text, to_plain
from assistant.surfaces.cli import app as cli
from assistant.surfaces.slack.answer import Answer, Card, compose_query
from assistant.surfaces.slack.app import SlackNotConfigured
from assistant.surfaces.slack.blocks import (
    MAX_BLOCKS,
    TOTAL_CHARS,
    answer_message,
    block_chars,
    history_message,
)
from assistant.surfaces.slack.dedupe import EventLog
from assistant.surfaces.slack.feedback import FeedbackStore
from assistant.surfaces.slack.handlers import COMMAND, SHORTCUT
from assistant.surfaces.slack.postmortem import SHORTCUT as DRAFT_SHORTCUT
from assistant.surfaces.slack.reply import Throttle
from assistant.surfaces.slack.text import clip, escape

ROOT = Path(__file__).resolve().parents[3]


def card(
    incident_id: str, *, title: str = "t", root: str | None = "r", fixes: list[str] | None = None
) -> Card:
    match = Match(
        id=incident_id,
        title=title,
        category="database",
        subtype="connection_pool_exhaustion",
        score=0.9,
        similarity=0.7,
        passages=[PassageHit(kind="symptom", text="x")],
    )
    return Card(match=match, facts=IncidentFacts(root_cause=root, fixes=fixes or ["Scale pods"]))


def answer(verdict: str = "yes", cards: list[Card] | None = None, **extra: Any) -> Answer:
    return Answer(
        id="a" * 32,
        query="q",
        question=extra.pop("question", "pods OOMKilled"),
        history_used=extra.pop("history_used", 0),
        seen_before=extra.pop("seen_before", None)
        or SeenBefore(verdict=verdict, confidence=0.91 if verdict == "yes" else 0.1),  # type: ignore[arg-type]
        cards=[card("perf-1"), card("perf-2")] if cards is None else cards,
        **extra,
    )


def test_slack_markup_becomes_plain_text() -> None:
    text = (
        "<@UBOT> <@U123|bob> saw <https://grafana/d/1|the dashboard> in <#C1|ops> &lt;p99&gt; &amp; <!here>"
    )
    assert to_plain(text, bot_user_id="UBOT") == "@bob saw the dashboard in #ops <p99> & @here"
    assert to_plain("<https://x.example/a>") == "https://x.example/a"


def test_message_text_reads_alert_bot_attachments_and_blocks() -> None:
    alert = {"text": "", "attachments": [{"title": "[FIRING] KafkaConsumerLagCritical", "text": "lag 250k"}]}
    assert message_text(alert) == "[FIRING] KafkaConsumerLagCritical\nlag 250k"
    rich = {"text": "", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "etcd slow"}}]}
    assert message_text(rich) == "etcd slow"


def test_clip_cuts_at_a_word_and_never_inside_an_entity() -> None:
    assert clip("short", 10) == "short"
    cut = clip("alpha beta gamma delta", 15)
    assert cut == "alpha beta…" and len(cut) <= 15
    escaped = escape("a" * 8 + " <b>")
    assert clip(escaped, 13) == "aaaaaaaa…", "no half entity like '&l' is left behind"
    linked = clip("word " * 100, 60, suffix="<https://x/incidents/1|full incident>")
    assert linked.endswith("… <https://x/incidents/1|full incident>") and len(linked) <= 60


def test_verdict_comes_first_in_plain_words() -> None:
    _, blocks = answer_message(answer("yes"), public_url=None)
    assert blocks[0]["text"]["text"].startswith(
        ":white_check_mark: *Yes — a known kind of problem: connection pool exhaustion*"
    )
    kind = KnownKind(
        category="database",
        subtype="connection_pool_exhaustion",
        incidents=7,
        matched=["perf-1", "perf-2"],
        last_fix="Raise the pool size",
    )
    seen = SeenBefore(verdict="yes", confidence=0.95, level="kind", kind=kind)
    text, blocks = answer_message(answer(seen_before=seen), public_url=None)
    head = blocks[0]["text"]["text"]
    assert "7 past incidents" in head and "Last fixed by: Raise the pool size" in head
    assert text.startswith("Yes — a known kind of problem: connection pool exhaustion, 7 past incidents")
    seen = SeenBefore(verdict="yes", confidence=0.97, level="incident", incident_id="perf-1")
    _, blocks = answer_message(answer(seen_before=seen), public_url=None)
    assert blocks[0]["text"]["text"].startswith(
        ":white_check_mark: *Yes — looks like the same incident as `perf-1`*"
    )
    text, blocks = answer_message(answer("no"), public_url=None)
    assert "Nothing like this in our history" in blocks[0]["text"]["text"]
    assert text.startswith("Nothing like this in our history")
    assert "probably unrelated" in json.dumps(blocks)
    _, blocks = answer_message(answer("maybe"), public_url=None)
    assert blocks[0]["text"]["text"].startswith(
        ":large_yellow_circle: *Maybe the same kind of problem as `perf-1`*"
    )


def test_buttons_carry_the_answer_id() -> None:
    _, blocks = answer_message(answer(), public_url=None)
    actions = blocks[-1]
    assert actions["type"] == "actions"
    assert [(e["text"]["text"], e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("This helped", "feedback_up", "a" * 32),
        ("Not it", "feedback_down", "a" * 32),
    ]


def test_huge_answers_stay_within_slacks_limits_and_link_to_the_incident() -> None:
    big = [
        card(
            f"perf-{i}",
            title="T" * 5000,
            root="root cause with <!channel> & friends " * 400,
            fixes=[f"fix {n} " * 50 for n in range(40)],
        )
        for i in range(3)
    ]
    huge = answer("yes", cards=big, question="q " * 5000, summary="s " * 20000, citations=["perf-0"] * 30)
    text, blocks = answer_message(huge, public_url="https://assistant.example.com/")
    assert len(blocks) <= MAX_BLOCKS and block_chars(blocks) <= TOTAL_CHARS
    assert len(text) <= 3000
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk's own checks of every Block Kit limit
    cards = [
        b["text"]["text"] for b in blocks if b["type"] == "section" and "perf-" in b["text"]["text"][:80]
    ]
    assert cards and all(
        c.endswith(
            "… <https://assistant.example.com/incidents/"
            + c.split("/incidents/")[1].split("|")[0]
            + "|full incident>"
        )
        for c in cards
    )
    assert "<!channel>" not in json.dumps(blocks), "incident text cannot ping a channel"
    assert blocks[-1]["type"] == "actions", "the buttons survive any trimming"


def test_incident_facts_read_every_resolution_shape() -> None:
    labels = {p.stem: json.loads(p.read_text()) for p in (ROOT / "labels").rglob("perf-202503160*.json")}
    one = incident_facts(labels["perf-2025031601"])  # immediate_action (a dict) + root_cause_fix
    assert one.root_cause == "Memory leak in connection pool"
    assert one.fixes[:2] == ["Pod restart", "Code fix (Connection pool configuration update)"]
    six = incident_facts(labels["perf-2025031606"])  # immediate_actions list + long_term_fixes
    assert six.fixes[0] == "Scale consumer pods (replicas 5 to 8)"
    three = incident_facts(labels["perf-2025031603"])  # long_term_solutions
    assert any("Architecture changes" in f for f in three.fixes)
    assert incident_facts({}) == IncidentFacts(root_cause=None, fixes=[])


def test_compose_query_keeps_the_latest_thread_messages_that_fit() -> None:
    query, used = compose_query(
        "db pool maxed", ["old " * 30, "kafka lag 200k", "consumers slow"], max_chars=60
    )
    assert query == "kafka lag 200k\nconsumers slow\ndb pool maxed" and used == 2
    assert compose_query("x" * 100, [], max_chars=40) == ("x" * 40, 0)


def test_feedback_table_has_the_agreed_schema(tmp_path: Path) -> None:
    store = FeedbackStore.in_dir(tmp_path / "data")
    assert store.path == tmp_path / "data" / "feedback.sqlite3"
    columns = sqlite3.connect(store.path).execute("PRAGMA table_info(feedback)").fetchall()
    assert [(c[1], c[2]) for c in columns] == [
        ("query", "TEXT"),
        ("matches", "JSON"),
        ("verdict", "TEXT"),
        ("user", "TEXT"),
        ("vote", "TEXT"),
        ("created_at", "TEXT"),
    ]
    matches = [{"id": "perf-1", "title": "t", "score": 1.0, "similarity": 0.8}]
    store.remember(answer_id="a1", query="etcd slow", matches=matches, verdict="yes")
    assert store.vote(answer_id="unknown", user="U1", vote="up") is None
    row = store.vote(answer_id="a1", user="U1", vote="up")
    assert row is not None and row.matches == matches and row.vote == "up"
    assert [(f.query, f.user, f.vote) for f in store.all()] == [("etcd slow", "U1", "up")]
    with pytest.raises(sqlite3.IntegrityError):  # the table itself refuses other votes
        sqlite3.connect(store.path).execute(
            "INSERT INTO feedback VALUES ('q', '[]', 'no', 'U', 'meh', '2026-01-01T00:00:00+00:00')"
        )


def test_event_log_reports_each_key_once_across_instances(tmp_path: Path) -> None:
    first, second = EventLog.in_dir(tmp_path), EventLog.in_dir(tmp_path)  # e.g. two worker processes
    assert first.first_time("event:Ev1") is True
    assert second.first_time("event:Ev1") is False
    assert second.first_time("event:Ev2") is True


def test_slack_settings_accept_plain_and_prefixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-plain")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "plain-secret")
    monkeypatch.setenv("ASSISTANT_SLACK_APP_TOKEN", "xapp-prefixed")
    settings = Settings()
    assert (
        settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == "xoxb-plain"
    )
    assert settings.slack_signing_secret is not None
    assert (
        settings.slack_app_token is not None
        and settings.slack_app_token.get_secret_value() == "xapp-prefixed"
    )
    monkeypatch.setenv("ASSISTANT_SLACK_BOT_TOKEN", "xoxb-prefixed")
    assert Settings().slack_bot_token.get_secret_value() == "xoxb-prefixed"  # type: ignore[union-attr]
    assert "xoxb" not in repr(Settings()), "tokens never show in logs or reprs"


def test_manifest_matches_the_handlers() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == [SHORTCUT, DRAFT_SHORTCUT]
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [
        "app_mention",
        "assistant_thread_started",
        "assistant_thread_context_changed",
        "message.im",
    ]
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "channels:history"} <= scopes
    assert {"assistant:write", "im:history"} <= scopes, "assistant threads: status, prompts, history"
    assert "files:write" in scopes, "post-mortem drafts are attached to their thread"
    assert manifest["features"]["assistant_view"]["assistant_description"]


def test_the_throttle_sends_the_first_text_then_by_size_or_time() -> None:
    now = [100.0]
    throttle = Throttle(chars=10, seconds=1.0, clock=lambda: now[0])
    assert not throttle.due(0), "nothing new, nothing to send"
    assert throttle.due(1), "the first text goes at once"
    throttle.sent()
    assert not throttle.due(9)
    assert throttle.due(10), "enough new characters"
    now[0] += 1.0
    assert throttle.due(1), "or enough time"
    throttle.sent()
    assert not throttle.due(1)


def test_recurring_problems_are_listed_with_what_fixed_them() -> None:
    occurrence = Occurrence(
        id="perf-7",
        title="Pool <exhausted>",
        started="2025-03-10T10:00:00Z",
        fix="Raise the pool",
        outcome="held",
    )
    history = History(
        since="2025-02-15T00:00:00+00:00",
        until="2025-03-17T00:00:00+00:00",
        min_count=2,
        families=[
            Family(
                category="database",
                subtype="connection_pool_exhaustion",
                incidents=2,
                total=3,
                occurrences=[occurrence, occurrence.model_copy(update={"id": "perf-8"})],
            )
        ],
    )
    text, blocks = history_message(history, days=30)
    assert text == "Recurring problems in the last 30 days: connection_pool_exhaustion (2)"
    shown = blocks[1]["text"]["text"]
    assert "*connection pool exhaustion*" in shown and "2 in the window, 3 in all" in shown
    assert "`perf-7` Pool &lt;exhausted&gt; — fixed by: Raise the pool (held)" in shown, "escaped"
    assert "`perf-8`" in shown and "2025-03-10" in shown
    empty, blocks = history_message(history.model_copy(update={"families": []}), days=30)
    assert empty.startswith("No kind of problem happened 2 times or more in the last 30 days")
    assert len(blocks) == 1


def test_a_streamed_answer_leaves_only_the_diagnosis_out_of_its_blocks() -> None:
    streamed = answer(summary="Likely [perf-1].", citations=["perf-1"], backend="fake")
    _, full = answer_message(streamed)
    _, below = answer_message(streamed, with_summary=False)
    assert [b for b in full if "*Diagnosis*" not in json.dumps(b)] == below
    assert len(below) == len(full) - 1 and "Cites `perf-1`" in json.dumps(below)


CLEAN_ENV = {
    name: None
    for base in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
    for name in (base, "ASSISTANT_" + base)
}


@pytest.mark.parametrize(
    ("args", "env", "missing"),
    [
        (["slack", "--socket"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN is not set"),
        (["slack"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        (["slack", "--socket"], {"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN is not set"),
    ],
)
def test_cli_names_the_missing_setting_before_loading_anything(
    args: list[str], env: dict[str, str], missing: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, [*args, "--index", str(tmp_path / "none")], env={**CLEAN_ENV, **env})
    assert isinstance(result.exception, SlackNotConfigured)
    assert str(result.exception).startswith(missing)


def test_cli_missing_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if "SLACK" not in k}
    done = subprocess.run(
        [sys.executable, "-c", "from assistant.surfaces.cli import main; main()", "slack", "--socket"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: SLACK_BOT_TOKEN is not set; set it to the bot token (xoxb-...) from the app's OAuth page"
    ]


def test_control_and_bidi_override_characters_never_reach_slack() -> None:
    hostile = card("perf-1")
    hostile.match.title = "etcd\x00 slow \u202eyrros\u202c \x1b[31mred"
    text, blocks = answer_message(answer("yes", cards=[hostile]), public_url=None)
    posted = text + json.dumps(blocks, ensure_ascii=False)
    assert "etcd slow" in posted
    for bad in ("\x00", "\u202e", "\u202c", "\x1b"):
        assert bad not in posted, repr(bad)
