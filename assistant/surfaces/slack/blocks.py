"""Block Kit for an answer, kept inside Slack's limits.

Limits (Slack reference): at most 50 blocks; section text 3,000 characters; context elements 10; button
text 75 and value 2,000; block and action ids 255. Messages whose blocks hold more than about 12,000
characters in total are refused (``msg_blocks_too_long``), so each part has its own smaller budget and
long text is cut at a word boundary with a link to the incident page when ``public_url`` is set.
"""

from __future__ import annotations

from typing import Any

from assistant.search.results import History
from assistant.service import incident_url
from assistant.surfaces.slack.answer import Answer, Card
from assistant.surfaces.slack.text import clip, escape, printable

MAX_BLOCKS = 50
SECTION_CHARS = 3000
CONTEXT_CHARS = 2000
BUTTON_TEXT_CHARS = 75
BUTTON_VALUE_CHARS = 2000
TOTAL_CHARS = 11000
CARD_CHARS = 1200
SUMMARY_CHARS = 1200
QUESTION_CHARS = 300
FALLBACK_CHARS = 3000
FIXES_SHOWN = 3

FEEDBACK_BLOCK = "feedback"
HELPED = "feedback_up"
NOT_IT = "feedback_down"

Block = dict[str, Any]


def incident_ref(public_url: str | None, incident_id: str) -> str:
    """The incident id as mrkdwn, linked to its page when possible."""
    url = incident_url(public_url, incident_id)
    return f"<{url}|{escape(incident_id)}>" if url else f"`{escape(incident_id)}`"


def link_citations(summary: str, citations: list[str], public_url: str | None) -> str:
    """``[perf-1]`` in an (escaped) summary as a link to the incident's page, for cited ids only."""
    if not public_url:
        return summary
    for incident_id in dict.fromkeys(citations):
        url = incident_url(public_url, incident_id)
        summary = summary.replace(f"[{escape(incident_id)}]", f"[<{url}|{escape(incident_id)}>]")
    return summary


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(clip(text, SECTION_CHARS))}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(clip(t, CONTEXT_CHARS)) for t in texts[:10]]}


def verdict_line(answer: Answer, *, public_url: str | None) -> tuple[str, str]:
    """(mrkdwn, plain) headline: the seen-before verdict, up front."""
    verdict = answer.seen_before
    top = answer.cards[0].match if answer.cards else None
    confidence = f"{verdict.confidence:.0%}"
    if verdict.verdict == "yes" and top and verdict.level == "incident":
        ref = incident_ref(public_url, top.id)
        return (
            f":white_check_mark: *Yes — looks like the same incident as {ref}*: {escape(top.title)} "
            f"(confidence {confidence})",
            f"Yes — looks like the same incident as {top.id}: {top.title}",
        )
    if verdict.verdict == "yes" and top:
        kind = verdict.kind
        name = (kind.subtype if kind else top.subtype or "this kind of problem").replace("_", " ")
        seen = f", {kind.incidents} past incidents" if kind else ""
        fix = f"\nLast fixed by: {escape(kind.last_fix)}" if kind and kind.last_fix else ""
        ref = incident_ref(public_url, top.id)
        return (
            f":white_check_mark: *Yes — a known kind of problem: {escape(name)}*{seen}; closest is {ref}: "
            f"{escape(top.title)} (confidence {confidence}){fix}",
            f"Yes — a known kind of problem: {name}{seen}; closest is {top.id}: {top.title}",
        )
    if verdict.verdict == "maybe" and top:
        ref = incident_ref(public_url, top.id)
        return (
            f":large_yellow_circle: *Maybe the same kind of problem as {ref}*: {escape(top.title)} "
            f"(confidence {confidence}). Check the evidence before acting on it."
            + (
                f"\n:warning: {escape('; '.join(top.reasons.contradictions))}"
                if top.reasons.contradictions
                else ""
            ),
            f"Maybe the same kind of problem as {top.id}: {top.title}",
        )
    return (
        f":new: *Nothing like this in our history* (confidence it was seen before: {confidence}).",
        "Nothing like this in our history",
    )


def card_text(rank: int, card: Card, *, public_url: str | None) -> str:
    m, facts = card.match, card.facts
    lines = [
        f"*{rank}. {incident_ref(public_url, m.id)}* {escape(m.title)}",
        f"`{escape(m.category or 'uncategorised')} / {escape(m.subtype or '-')}` · "
        f"score {m.score:.2f} · similarity {m.similarity:.2f}",
    ]
    if m.reasons.shared:
        shared = "; ".join(f"{escape(s.query)} ↔ _{escape(s.label)}_" for s in m.reasons.shared[:2])
        lines.append(f"*Shared:* {shared}")
    if m.reasons.contradictions:
        lines.append(f"*Contradicts:* {escape('; '.join(m.reasons.contradictions))}")
    if facts.root_cause:
        lines.append(f"*Root cause:* {escape(facts.root_cause)}")
    if facts.fixes:
        shown = "; ".join(escape(f) for f in facts.fixes[:FIXES_SHOWN])
        more = f" (+{len(facts.fixes) - FIXES_SHOWN} more)" if len(facts.fixes) > FIXES_SHOWN else ""
        lines.append(f"*What fixed it:* {shown}{more}")
    if facts.outcome:
        lines.append(f"*Did it hold:* {escape(facts.outcome)}")
    url = incident_url(public_url, m.id)
    return clip("\n".join(lines), CARD_CHARS, suffix=f"<{url}|full incident>" if url else "")


def feedback_actions(answer_id: str) -> Block:
    value = answer_id[:BUTTON_VALUE_CHARS]
    return {
        "type": "actions",
        "block_id": FEEDBACK_BLOCK,
        "elements": [
            {
                "type": "button",
                "action_id": HELPED,
                "text": {"type": "plain_text", "text": "This helped", "emoji": True},
                "style": "primary",
                "value": value,
            },
            {
                "type": "button",
                "action_id": NOT_IT,
                "text": {"type": "plain_text", "text": "Not it", "emoji": True},
                "value": value,
            },
        ],
    }


def answer_message(
    answer: Answer, *, public_url: str | None = None, with_summary: bool = True
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for an answer. ``with_summary=False`` leaves the diagnosis text out (its
    citations stay), for a reply whose text was already streamed above the blocks."""
    head, plain = verdict_line(answer, public_url=public_url)
    blocks: list[Block] = [section(head)]
    asked = (
        f"Asked: “{clip(escape(answer.question), QUESTION_CHARS)}”"
        if answer.question
        else "Asked about the thread above"
    )
    if answer.history_used:
        n = answer.history_used
        asked += f" · with {n} earlier thread message{'s' if n != 1 else ''}"
    blocks.append(context(asked))
    if answer.summary:
        if with_summary:
            summary = clip(escape(answer.summary), SUMMARY_CHARS)
            blocks.append(section("*Diagnosis*\n" + link_citations(summary, answer.citations, public_url)))
        about = []
        if answer.citations:
            about.append("Cites " + ", ".join(incident_ref(public_url, c) for c in answer.citations))
        if answer.backend:
            about.append(f"written by the {escape(answer.backend)} backend")
        if about:
            blocks.append(context(" · ".join(about)))
    if answer.note:
        blocks.append(context(escape(answer.note)))
    if answer.cards:
        blocks.append({"type": "divider"})
        title = (
            "*Closest past incidents* (probably unrelated)"
            if answer.seen_before.verdict == "no"
            else "*Similar past incidents*"
        )
        blocks.append(section(title))
        blocks += [section(card_text(i, c, public_url=public_url)) for i, c in enumerate(answer.cards, 1)]
    blocks.append(feedback_actions(answer.id))
    fallback = plain
    if answer.cards:
        fallback += " · similar: " + ", ".join(c.match.id for c in answer.cards)
    return clip(printable(fallback), FALLBACK_CHARS), fit(blocks)


def block_chars(blocks: list[Block]) -> int:
    """Characters of text in blocks, the quantity Slack's overall limit counts."""
    total = 0

    def walk(node: Any) -> None:
        nonlocal total
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                total += len(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return total


def fit(blocks: list[Block]) -> list[Block]:
    """Drop middle blocks (never the first or the buttons) until the message is within limits."""
    blocks = list(blocks)
    while len(blocks) > 2 and (len(blocks) > MAX_BLOCKS or block_chars(blocks) > TOTAL_CHARS):
        del blocks[-2]
    return blocks


def notice(text: str) -> tuple[str, list[Block]]:
    """A plain message (errors, help) as fallback text and one section."""
    return clip(text, FALLBACK_CHARS), [section(escape(text))]


def partial_message(text: str) -> tuple[str, list[Block]]:
    """The diagnosis written so far, for a reply that is edited as the text arrives."""
    shown = section("*Diagnosis*\n" + clip(escape(text), SUMMARY_CHARS))
    return clip(printable(text), FALLBACK_CHARS), [shown]


def history_message(history: History, *, days: int) -> tuple[str, list[Block]]:
    """(fallback text, blocks) for the kinds of problem that recurred in the last ``days`` days: how
    often, when, and what fixed each occurrence."""
    if not history.families:
        text = (
            f"No kind of problem happened {history.min_count} times or more in the last {days} days "
            f"({history.since[:10]} to {history.until[:10]})."
        )
        return notice(text)
    head = f"*Recurring problems in the last {days} days* ({history.since[:10]} to {history.until[:10]})"
    blocks: list[Block] = [section(head)]
    for family in history.families:
        lines = [
            f"*{escape(family.subtype.replace('_', ' '))}* `{escape(family.category or '-')}` · "
            f"{family.incidents} in the window, {family.total} in all"
        ]
        for o in family.occurrences[:FIXES_SHOWN]:
            fix = f" — fixed by: {escape(o.fix)}" if o.fix else ""
            held = f" ({escape(o.outcome)})" if o.outcome else ""
            lines.append(f"• {escape((o.started or '')[:10])} `{escape(o.id)}` {escape(o.title)}{fix}{held}")
        blocks.append(section(clip("\n".join(lines), CARD_CHARS)))
    kinds = ", ".join(f"{f.subtype} ({f.incidents})" for f in history.families)
    fallback = f"Recurring problems in the last {days} days: {kinds}"
    return clip(printable(fallback), FALLBACK_CHARS), fit(blocks)
