"""incident-assistant: find similar past incidents and draft a diagnosis that cites them.

``Assistant`` (the service facade) and ``Settings`` are the two names a program needs; they load on first
use, so importing a lower layer (``assistant.corpus``) does not load the search stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.search.results import Match, SeenBefore, SimilarResult
    from assistant.service import Assistant
    from assistant.settings import Settings

__all__ = ["Assistant", "Match", "SeenBefore", "Settings", "SimilarResult"]

_HOME = {
    "Assistant": "assistant.service",
    "Settings": "assistant.settings",
    "Match": "assistant.search.results",
    "SeenBefore": "assistant.search.results",
    "SimilarResult": "assistant.search.results",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOME[name]), name)
