"""Post-mortem drafts from incident threads.

``@assistant postmortem`` (or "draft a post-mortem") in a thread, or the message shortcut "Draft a
post-mortem" on any of its messages, reads the whole thread — alert bots' posts included, our own answers
and the request left out — into a draft label through the importer (``sources.importing.conversation``),
links the most similar past incidents, saves it in the drafts folder and posts it in the thread: what was
read, what is left to fill, and the JSON as a file. A draft is searched only once a person has reviewed it
and put it in the labels folder, as with ``assistant labels import``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.corpus.taxonomy import Taxonomy
from assistant.errors import AssistantError
from assistant.search.results import Match
from assistant.service import Assistant
from assistant.sources.importing.conversation import chat_document, slack_messages
from assistant.sources.importing.draft import Draft, draft_label
from assistant.sources.slack_markup import to_plain
from assistant.surfaces.slack.blocks import Block, context, incident_ref, notice, section
from assistant.surfaces.slack.handlers import shortcut_target
from assistant.surfaces.slack.text import clip, escape
from assistant.surfaces.slack.thread import thread_messages

log = logging.getLogger(__name__)

SHORTCUT = "postmortem_draft"
ASKED = re.compile(r"^\s*(?:please\s+)?(?:draft\s+(?:an?\s+|the\s+)?)?post[- ]?mortem\b", re.IGNORECASE)
RELATED = 3
REVIEW = (
    'To add it to the history: replace every TODO, check the kind, delete `"review": "draft"`, put it in '
    "the labels folder, then run `assistant labels validate` and `assistant index build`."
)
NO_THREAD = "Ask me in the incident's thread: I draft the post-mortem from the whole thread."
EMPTY = "This thread has no messages I can read; invite me to the channel (`/invite @assistant`)."


def asks_for_draft(event: dict[str, Any], context: BoltContext) -> bool:
    """A mention whose words start with "postmortem" (or "draft a post-mortem")."""
    return bool(ASKED.match(to_plain(event.get("text") or "", bot_user_id=context.bot_user_id)))


@dataclass(frozen=True)
class Drafter:
    assistant: Callable[[], Assistant]
    folder: Path
    taxonomy: Taxonomy
    public_url: str | None

    def on_mention(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        channel, ts, parent = event["channel"], event["ts"], event.get("thread_ts")
        if not parent or parent == ts:
            text, blocks = notice(NO_THREAD)
            client.chat_postMessage(channel=channel, thread_ts=ts, text=text, blocks=blocks)
            return
        self.reply(client, context, channel=channel, thread_ts=parent)

    def on_shortcut(
        self, ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
    ) -> None:
        ack()
        target = shortcut_target(shortcut, respond, name="Draft a post-mortem")
        if target is None:
            return
        channel, message = target
        self.reply(client, context, channel=channel, thread_ts=message.get("thread_ts") or message["ts"])

    def reply(self, client: WebClient, context: BoltContext, *, channel: str, thread_ts: str) -> None:
        try:
            text, blocks = self.drafted(client, context, channel=channel, thread_ts=thread_ts)
        except AssistantError as exc:
            text, blocks = notice(f"Sorry, I cannot draft it: {exc}")
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)

    def drafted(
        self, client: WebClient, context: BoltContext, *, channel: str, thread_ts: str
    ) -> tuple[str, list[Block]]:
        raw = thread_messages(client, channel=channel, thread_ts=thread_ts)
        messages = [
            m
            for m in slack_messages(raw, skip_user=context.bot_user_id, skip_bot=context.bot_id)
            if not ASKED.match(m.text)
        ]
        if not messages:
            return notice(EMPTY)
        incident_id = f"slack-{channel.lower()}-{thread_ts.replace('.', '-')}"
        doc = chat_document(messages, source=_permalink(client, channel, thread_ts))
        draft = draft_label(doc, taxonomy=self.taxonomy, incident_id=incident_id)
        related = self._related(draft)
        draft.link_related(m.id for m in related)
        file = draft.save(self.folder, taxonomy=self.taxonomy)
        attached = _attach(client, draft, channel=channel, thread_ts=thread_ts)
        return draft_message(
            draft, related, saved=file, attached=attached, messages=len(messages), public_url=self.public_url
        )

    def _related(self, draft: Draft) -> list[Match]:
        query = draft.query()
        if not query:
            return []
        try:
            return self.assistant().similar(query, k=RELATED).matches
        except AssistantError as exc:  # no index yet: the draft is still worth having
            log.warning("similar incidents not linked: %s", exc)
            return []


def _permalink(client: WebClient, channel: str, thread_ts: str) -> str:
    try:
        link = client.chat_getPermalink(channel=channel, message_ts=thread_ts).get("permalink")
    except SlackApiError:
        link = None
    return str(link or f"slack://channel?id={channel}&message={thread_ts}")


def _attach(client: WebClient, draft: Draft, *, channel: str, thread_ts: str) -> str | None:
    """Upload the draft's JSON into the thread; the Slack error when that fails (say, no files:write)."""
    try:
        client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            filename=f"{draft.label['id']}.json",
            title=f"Draft post-mortem {draft.label['id']}",
            content=json.dumps(draft.label, indent=4, ensure_ascii=False) + "\n",
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "error")
        log.warning("cannot attach draft %s: %s", draft.label["id"], error)
        return error
    return None


def _said(value: Any) -> str:
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value if not str(v).startswith("TODO"))
    text = str(value or "")
    return "" if text.startswith("TODO") else text


def draft_message(
    draft: Draft,
    related: list[Match],
    *,
    saved: Path,
    attached: str | None,
    messages: int,
    public_url: str | None,
) -> tuple[str, list[Block]]:
    """The reply: what the draft says, its similar incidents, where it is and what is left to do."""
    label = draft.label
    meta = label["metadata"]
    kind = meta.get("subtype") or meta.get("category")
    cause = _said(label["analysis"].get("root_cause"))
    fix = _said(label["resolution"].get("immediate_actions"))
    lines = [
        f"*Draft post-mortem* from {messages} message{'s' if messages != 1 else ''}: "
        f"*{clip(escape(label.get('title') or ''), 200)}*",
        f"*Kind (a guess):* {escape(kind) if kind else '_not clear from the thread_'}"
        + (f" ({draft.inference.confidence:.0%})" if kind and meta.get("subtype") else ""),
        f"*Started:* {escape(label['timestamp']) if label.get('timestamp') else '_not found_'}",
        f"*Root cause:* {clip(escape(cause), 600) if cause else '_not said in the thread yet_'}",
        f"*What fixed it:* {clip(escape(fix), 600) if fix else '_not said in the thread yet_'}",
    ]
    blocks = [section("\n".join(lines))]
    if related:
        refs = [f"• {incident_ref(public_url, m.id)} {clip(escape(m.title), 150)}" for m in related]
        blocks.append(section("*Similar past incidents (linked in the draft)*\n" + "\n".join(refs)))
    missing = sorted({item.split(":", 1)[0] for item in draft.unfilled})
    if missing:
        blocks.append(context("Not found in the thread: " + ", ".join(f"`{m}`" for m in missing)))
    where = f"Saved as `{escape(str(saved))}` on the bot's host"
    where += (
        " and attached below." if attached is None else f"; attaching the JSON failed ({escape(attached)})."
    )
    blocks.append(context(f"{where} {REVIEW}"))
    text = f"Draft post-mortem: {label.get('title') or label['id']}"
    return clip(text, 3000), blocks


def register_postmortem(
    app: App,
    *,
    assistant: Callable[[], Assistant],
    folder: Path,
    taxonomy: Taxonomy,
    public_url: str | None,
) -> None:
    """Before the other mention listener: bolt runs the first listener whose matchers accept an event."""
    drafter = Drafter(assistant=assistant, folder=folder, taxonomy=taxonomy, public_url=public_url)
    app.event("app_mention", matchers=[asks_for_draft])(drafter.on_mention)
    app.shortcut(SHORTCUT)(drafter.on_shortcut)
