"""Slack text in and out: message markup to plain text, and escaped, length-bounded mrkdwn.

Slack sends ``<@U123>``, ``<#C1|general>``, ``<https://x|label>`` and HTML entities; the core wants
the words. Everything we send is escaped (``& < >``) so incident text cannot turn into mentions or links.
"""

from __future__ import annotations

import html
import re
from typing import Any

_USER = re.compile(r"<@([UWB][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+\|)?([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")
ELLIPSIS = "…"


def to_plain(text: str, *, bot_user_id: str | None = None) -> str:
    """Slack message markup as plain text; mentions of the bot itself are dropped."""

    def user(m: re.Match[str]) -> str:
        if bot_user_id and m.group(1) == bot_user_id:
            return ""
        return f"@{m.group(2) or m.group(1)}"

    text = _USER.sub(user, text or "")
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub(lambda m: "@" + (m.group(2) or m.group(1)).lstrip("@"), text)
    text = html.unescape(text)
    return re.sub(r"[ \t]+", " ", text).strip()


def _block_texts(blocks: list[Any]) -> list[str]:
    """Words from the text-bearing parts of Block Kit blocks (rich text, sections, context)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text", "text") and isinstance(node.get("text"), str):
                out.append(node["text"])
                return
            for key in ("text", "fields", "elements"):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return out


def message_text(message: dict[str, Any]) -> str:
    """The readable text of a Slack message: its text, else its blocks, plus any attachments.

    Alert bots often post an empty ``text`` with everything in attachments or blocks.
    """
    parts = [str(message.get("text") or "")]
    if not parts[0].strip() and isinstance(message.get("blocks"), list):
        parts.append(" ".join(_block_texts(message["blocks"])))
    for att in message.get("attachments") or []:
        if isinstance(att, dict):
            for key in ("pretext", "title", "text", "fallback"):
                value = att.get(key)
                if isinstance(value, str) and value.strip() and value not in parts:
                    parts.append(value)
            for field in att.get("fields") or []:
                if isinstance(field, dict):
                    parts.append(f"{field.get('title', '')}: {field.get('value', '')}")
    return "\n".join(p for p in parts if p.strip())


UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Control characters and the bidirectional overrides and marks that can make a message read backwards."""


def printable(text: str) -> str:
    """``text`` without control characters (newlines and tabs kept) or bidirectional overrides."""
    return UNPRINTABLE.sub("", text)


def escape(text: str) -> str:
    """Text safe to put inside mrkdwn: printable, no accidental mentions, links or entities."""
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int, *, suffix: str = "") -> str:
    """``text`` cut to at most ``limit`` characters (``suffix`` included), at a word boundary.

    ``text`` must already be escaped: the cut never splits an ``&amp;``-style entity. ``suffix`` (a
    "more" link, say) is only added when something was cut.
    """
    if len(text) <= limit:
        return text
    tail = ELLIPSIS + (f" {suffix}" if suffix else "")
    room = limit - len(tail)
    if room <= 0:
        return ELLIPSIS[:limit]
    cut = text[:room]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= room * 0.6:
        cut = cut[:space]
    cut = _ENTITY_TAIL.sub("", cut).rstrip(" \n,;:-—")
    return cut + tail
