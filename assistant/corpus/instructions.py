"""Text in a label that reads like instructions to an assistant ("ignore previous instructions", "you
are now…", a fake data delimiter). A label is data: such text is never obeyed, is left out of what a
search matches against (so a query shaped like an injection cannot pull that label up), and is left
out of answers (``assistant.diagnosis.citations``)."""

from __future__ import annotations

import re

INSTRUCTIONS = re.compile(
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier"
    r"|preceding|system)\s+(?:instructions|prompts?|messages?|rules)"
    r"|\byou\s+are\s+now\b|\bnew\s+instructions\b|\breply\s+only\s+with\b|(?-i:\bSYSTEM\s*:)|\bsystem\s+prompt\b"
    r"|<<<|>>>",
    re.IGNORECASE,
)
SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n|$)")


def without_instructions(text: str) -> str:
    """``text`` with every sentence that reads like instructions left out (lines and the rest kept)."""
    if not INSTRUCTIONS.search(text):
        return text
    return "".join(s for s in SENTENCE.findall(text) if not INSTRUCTIONS.search(s))
