"""Importing takes time linear in the document's size: no pattern backtracks over a run of characters,
and no step re-reads the text before each match (the units below made earlier versions quadratic)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.corpus.taxonomy import BUILTIN
from assistant.sources.importing import read_source
from assistant.sources.importing.draft import draft_label

UNITS = [
    "1",
    "~1 -> ",
    "was at 1% ",
    "back to 1% ",
    "10:00 UTC ",
    "- 10:00 a\n",
    "`a ",
    "not a dns ",
    "dns, ",
]


def _seconds(path: Path, text: str) -> float:
    path.write_text("# t\n\n" + text)
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        draft_label(read_source(path), taxonomy=BUILTIN, incident_id="pm-t")
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("unit", UNITS)
def test_a_repeated_unit_imports_in_linear_time(tmp_path: Path, unit: str) -> None:
    """Time at 16x the size over time at 1x: about 16 when linear, about 256 when quadratic."""
    path = tmp_path / "pm.md"
    small = _seconds(path, unit * (1000 // len(unit) + 1))
    large = _seconds(path, unit * (16000 // len(unit) + 1))
    assert large / max(small, 2e-4) < 48
