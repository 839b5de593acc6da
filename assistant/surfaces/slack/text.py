"""Slack text in and out: message markup to plain text (``sources.slack_markup``), and escaped,
length-bounded mrkdwn. Everything we send is escaped (``& < >``) so incident text cannot turn into
mentions or links.
"""

from __future__ import annotations

import re

_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")
ELLIPSIS = "…"

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
