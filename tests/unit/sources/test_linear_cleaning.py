"""Cleaning pasted text takes time linear in its size: no pattern backtracks over a run of characters,
whatever the text (Hypothesis picks the repeated unit; an attacker would pick the worst one)."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.sources.alerts import clean_value, query_from_text

# Units that made the earlier patterns quadratic, and pieces Hypothesis combines into new ones.
KNOWN = ["a-", "a.", "prometheus-", "*a ", "<http://a|", "a.b=", "b2-", ":a", 'x="', "_a "]
PIECES = st.sampled_from(["a", "b2", "-", ".", "*", "_", "<", "|", "=", ":", " ", '"', "9", "http://", "k8s"])


def _seconds(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        query_from_text("[FIRING:1] " + text)
        clean_value(text)
        best = min(best, time.perf_counter() - start)
    return best


def _growth(unit: str) -> float:
    """Time at 16x the size over time at 1x: about 16 when linear, about 256 when quadratic."""
    small = _seconds(unit * (1000 // len(unit) + 1))
    large = _seconds(unit * (16000 // len(unit) + 1))
    return large / max(small, 2e-4)


def test_known_worst_cases_clean_in_linear_time() -> None:
    growth = {unit: round(_growth(unit), 1) for unit in KNOWN}
    assert {u: g for u, g in growth.items() if g > 48} == {}


@settings(max_examples=25, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=6).map("".join))
def test_any_repeated_unit_cleans_in_linear_time(unit: str) -> None:
    assert _growth(unit) < 48, unit
