"""Sentences of a block of text, and the one-line form a draft keeps them in."""

from __future__ import annotations

import re

MAX_LINE = 240
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(`@\[])")
_SPACE = re.compile(r"\s+")


def sentences(text: str) -> list[str]:
    """The sentences of ``text``: split after ``.``, ``!`` or ``?`` before a capital, digit or quote."""
    return [p.strip() for p in _SPLIT.split(text.strip()) if p.strip()]


def shorten(text: str, limit: int = MAX_LINE) -> str:
    """``text`` on one line, cut at a word boundary with "…" when longer than ``limit``."""
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
