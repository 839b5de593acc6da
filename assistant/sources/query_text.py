"""The checks every query passes before any search: valid Unicode, not empty, not too long."""

from __future__ import annotations

from assistant.errors import QueryError


def check_text(text: str, *, what: str) -> str:
    """``text`` unchanged, or a ``QueryError`` if it cannot be written as UTF-8 (a lone surrogate such
    as ``\\ud800``, which JSON's ``\\u`` escapes can carry): nothing downstream can encode it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise QueryError(
            f"the {what} holds a character that is not valid Unicode "
            f"({text[exc.start]!r} at character {exc.start})",
            hint="send UTF-8 text; a \\ud800-\\udfff escape must be half of a surrogate pair",
        ) from None
    return text


def clean_query(text: str, *, max_chars: int) -> str:
    text = check_text((text or "").strip(), what="query")
    if not text:
        raise QueryError(
            "the query is empty", hint="describe what you see, e.g. 'checkout p99 2s, pods OOMKilled'"
        )
    if len(text) > max_chars:
        raise QueryError(
            f"the query is {len(text)} characters long; the limit is {max_chars}",
            hint="shorten it to the symptoms, or raise ASSISTANT_MAX_QUERY_CHARS",
        )
    return text
