"""A document's timeline as entries: when (date, clock time, zone) and what happened.

Timelines come as table rows, list items or paragraphs that open with a time ("[13:20] ...",
"2026-01-29 10:21 UTC: ...", "**12:37 UTC** – ..."), as one sub-heading per time ("### 16:59 PST"
and the text under it), or as key-event lines with the date and time after a label ("Resolved
2020-02-18 14:59"). A date sub-heading ("### 2020-02-20") or a preamble ("All times in PST, on February
8th 2019") dates the entries after it; an entry without a date whose time is earlier than the one before
it has crossed midnight. Zones come from the entry itself, else its timeline's heading or preamble, else
a declaration anywhere in the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta, tzinfo

from assistant.sources.importing.document import Block, Document, Section
from assistant.sources.importing.markdown import TIME_LED
from assistant.sources.importing.when import (
    Clock,
    declared_zone,
    find_clock,
    find_date,
    heading_zone,
)

MAX_EVENT = 1200
_PREFIX_JUNK = re.compile(r"^[\s\])*_:|–—-]+")
_LABEL_BEFORE_DATE = 40
MIDNIGHT_GAP = 180
UNKNOWN_TIME = "?"
"""``time_text`` of an entry whose time the document marks as not known ("[???] ...", "TBD: ...")."""
_PLACEHOLDER_TIME = re.compile(r"^[\s*_]*\[?\s*(?:\?{2,}|unknown|tbd|n/a)\s*\]?\s*[:\-–—]?\s", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    """One timeline entry. ``clock`` is None for an untimed line of a narrative timeline."""

    event: str
    time_text: str
    clock: Clock | None
    day: date | None
    own_day: bool
    zone: tzinfo | None
    section: int
    block: int
    item: bool = False
    """Written as a list item (an untimed item is still an event; an untimed paragraph is prose)."""


@dataclass
class _State:
    day: date | None
    zone: tzinfo | None
    year: int | None
    last: Clock | None = None


def document_zone(doc: Document) -> tzinfo | None:
    """The zone the document declares for its times anywhere ("All times in UTC, unless otherwise
    stated"), a timeline heading's "(times in UTC)", or a ``Time:`` field's "(UTC)"."""
    for section in doc.sections:
        if section.key == "timeline" and (zone := heading_zone(section.heading)):
            return zone
        for block in section.blocks:
            if block.kind in ("code", "header"):
                if block.kind == "header" and (zone := heading_zone(block.text)):
                    return zone
                continue
            if zone := declared_zone(block.text):
                return zone
    for key in ("time", "timezone", "time zone"):
        if key in doc.fields and (zone := heading_zone(doc.fields[key]) or declared_zone(doc.fields[key])):
            return zone
    return None


def _strip_prefix(text: str, clock: Clock) -> tuple[str, str]:
    """The time as written and the event after it, for a line that opens with its time."""
    end = clock.end
    zone = re.match(r"\s?\(?[A-Z]{1,5}(?:[+-]\d{1,2})?\)?(?![\w-])", text[end:])
    if zone and clock.zone is not None:
        end += zone.end()
    written = text[:end].strip(" []()*_|")
    return written, _PREFIX_JUNK.sub("", text[end:]).strip()


def _timed(text: str, *, year: int | None, bare: bool) -> tuple[Clock, date | None, str, str] | None:
    """The clock, own date, time as written and event of a line that is a timeline entry."""
    clock = find_clock(text, bare_hhmm=bare)
    if clock is None:
        return None
    found = find_date(text[: clock.end], year=year)
    if TIME_LED.match(text) or bare or clock.start == 0:
        written, event = _strip_prefix(text, clock)
        return clock, found.day if found else None, written, event
    if found and found.start <= _LABEL_BEFORE_DATE and found.end >= clock.start - 2:
        event = (text[: found.start] + text[clock.end :]).strip(" :-–—")
        return clock, found.day, text[found.start : clock.end], event
    return None


def _advance(state: _State, clock: Clock, own: date | None) -> date | None:
    """The entry's day: its own, else the running day, moved on a day when the clock went back by
    more than ``MIDNIGHT_GAP`` minutes (a timeline that ran past midnight without a new date)."""
    if own is not None:
        state.day = own
    elif state.day is not None and state.last is not None:
        back = (state.last.hour * 60 + state.last.minute) - (clock.hour * 60 + clock.minute)
        if back >= MIDNIGHT_GAP:
            state.day = state.day + timedelta(days=1)
    state.last = clock
    return state.day


def _block_text(block: Block) -> tuple[str, bool]:
    if block.kind == "row" and block.cells:
        return block.cells[0], True
    return block.text, False


def _preamble(text: str, state: _State, *, first: bool) -> bool:
    """Read an untimed line for the zone and date it declares ("All times in PST, on February 8th
    2019"); a date counts on a declaration or before the section's first entry. Whether it declared."""
    zone = declared_zone(text)
    if zone:
        state.zone = zone
    if (found := find_date(text, year=state.year)) and (first or zone):
        state.day, state.last = found.day, None
    return zone is not None


def _heading_entry(index: int, section: Section, state: _State) -> Entry | None:
    """The entry a timed sub-heading opens ("### 16:59 PST"); a date heading dates what follows."""
    state.zone = heading_zone(section.heading) or state.zone
    head = _timed(section.heading, year=state.year, bare=False)
    if head is None:
        if found := find_date(section.heading, year=state.year):
            state.day, state.last = found.day, None
        return None
    clock, own, written, event = head
    day = _advance(state, clock, own)
    return Entry(event, written, clock, day, own is not None, clock.zone or state.zone, index, -1)


def _section_entries(index: int, section: Section, state: _State) -> list[Entry]:
    out: list[Entry] = []
    pending = _heading_entry(index, section, state)
    for n, block in enumerate(section.blocks):
        if block.kind in ("code", "header"):
            continue
        text, is_row = _block_text(block)
        item = block.kind == "item"
        timed = _timed(text, year=state.year, bare=is_row)
        if timed is None:
            declares = _preamble(text, state, first=not out and pending is None)
            if pending is not None:  # the text under a timed heading is its event
                pending = replace(pending, event=f"{pending.event} {block.text}".strip()[:MAX_EVENT])
            elif not declares:
                written = UNKNOWN_TIME if _PLACEHOLDER_TIME.match(text) else ""
                out.append(Entry(block.text, written, None, state.day, False, state.zone, index, n, item))
            continue
        if pending is not None:
            out.append(pending)
            pending = None
        clock, own, written, event = timed
        if is_row:
            event, written = " ".join(c for c in block.cells[1:] if c).strip(), block.cells[0].strip()
        day = _advance(state, clock, own)
        out.append(
            Entry(event, written, clock, day, own is not None, clock.zone or state.zone, index, n, item)
        )
    if pending is not None:
        out.append(pending)
    return out


def timeline_entries(doc: Document, *, year: int | None = None, zone: tzinfo | None = None) -> list[Entry]:
    """Every entry of the document's timeline sections, in order. ``year`` dates entries written
    without one ("[03-26 23:04]"); ``zone`` is the document's declared zone."""
    state = _State(day=None, zone=zone, year=year)
    out: list[Entry] = []
    for index, section in enumerate(doc.sections):
        if section.key == "timeline":
            out.extend(_section_entries(index, section, state))
    return out
