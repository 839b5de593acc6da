"""Slack message markup read as plain text: what a person or an alert bot wrote in a message.

Slack sends ``<@U123>``, ``<#C1|general>``, ``<https://x|label>`` and HTML entities; the core wants the
words. Alert bots often post an empty ``text`` with everything in attachments or blocks. Pure functions on
the message dicts Slack's Web API returns (``conversations.replies``), used by the Slack bot and by the
importer reading a saved thread.
"""

from __future__ import annotations

import html
import re
from typing import Any

_USER = re.compile(r"<@([UWB][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+\|)?([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")


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
