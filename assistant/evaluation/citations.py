"""Finding cited incident ids in free text, for answers that do not list their citations."""

from __future__ import annotations

import re
from collections.abc import Collection

# An id-looking token inside square brackets: letters, digits, dot, dash, underscore, with a digit.
_BRACKETED = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9._-]{2,63})\]")


def find_cited(text: str, *, known: Collection[str]) -> list[str]:
    """Ids the text cites, in order of first appearance: every known id that occurs as a whole word,
    and any bracketed id-like token (``[perf-123]``) even when unknown, so made-up ids are caught."""
    found: dict[int, str] = {}
    for ident in known:
        for m in re.finditer(rf"(?<![A-Za-z0-9._-]){re.escape(ident)}(?![A-Za-z0-9_-])", text):
            found.setdefault(m.start(), ident)
    for m in _BRACKETED.finditer(text):
        token = m.group(1)
        if any(c.isdigit() for c in token) and "-" in token:
            found.setdefault(m.start(1), token)
    ordered = [ident for _, ident in sorted(found.items())]
    return list(dict.fromkeys(ordered))
