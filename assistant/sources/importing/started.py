"""When the incident started, as the document states it, in UTC.

The start is the start of impact: a timeline entry the document marks as the start ("outage starts",
"start of incident"), else a sentence of the summary or impact that says when it began ("started to
increase at 13:35 UTC", "between 09:12 and 10:05 UTC"), else the first entry of the timeline. A clock
time becomes a timestamp only with a zone (written with it, or declared for the document's times); with
none, the draft keeps the date and says why. The date is the entry's own, else the one its timeline
gives, else the incident's (a ``Date:`` line, the title, the lead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta, tzinfo

from assistant.sources.importing.document import Document
from assistant.sources.importing.timeline import UNKNOWN_TIME, Entry, document_zone, timeline_entries
from assistant.sources.importing.when import Clock, as_utc, find_clock, find_date, iso_instant, stamp

START_MARK = re.compile(
    r"\b(?:outage|incident|impact|problem|degradation|downtime|disruption)\s(?:starts|started|begins|began)\b"
    r"|\bstart\sof\s(?:the\s)?(?:incident|outage|impact|degradation|downtime)\b",
    re.IGNORECASE,
)
_STATEMENT = re.compile(r"\b(?:start(?:ed|s|ing)?|began|begins?|beginning|between|since)\b", re.IGNORECASE)
_UNTIL = re.compile(r"^\s?(?:and|to|until|till|-|–|—)\s?", re.IGNORECASE)
STATEMENT_REACH = 50
SENTENCE_REACH = 300
DATE_FIELDS = (
    "incident date",
    "date",
    "start",
    "start time",
    "started",
    "started at",
    "detected",
    "detected at",
)
START_FIELDS = ("start", "start time", "started", "started at", "incident start")


@dataclass(frozen=True)
class Started:
    """``value``: ISO 8601 in UTC, or a date alone; ``note``: why the time was left out, if it was."""

    value: str | None
    note: str | None = None


def _year(doc: Document) -> int | None:
    for text in (*(doc.fields.get(k, "") for k in DATE_FIELDS), doc.title or "", doc.text("summary")):
        if found := find_date(text):
            return found.day.year
    found = find_date(doc.full_text())
    return found.day.year if found else None


def incident_date(doc: Document, *, year: int | None) -> date | None:
    """The incident's date: a date line, the title, the lead or summary, the issue's creation."""
    texts = [*(doc.fields.get(k, "") for k in DATE_FIELDS), doc.title or "", doc.text("summary")]
    for text in texts:
        if text and (found := find_date(text, year=year)):
            return found.day
    if doc.created_at and (found := find_date(doc.created_at)):
        return found.day
    return None


def _marked(entries: list[Entry]) -> Entry | None:
    return next((e for e in entries if e.clock and START_MARK.search(e.event)), None)


def _in_order(entry: Entry, entries: list[Entry]) -> Entry:
    """A start entry dated like the entries after it but later in the day than they are belongs to the
    day before (a timeline that labelled an evening entry with the next morning's date)."""
    later = [e for e in entries if e.clock and e.section == entry.section and e.block > entry.block]
    nxt = later[0] if later else None
    if (
        entry.clock
        and entry.day
        and nxt
        and nxt.clock
        and nxt.day == entry.day
        and (nxt.clock.hour, nxt.clock.minute) < (entry.clock.hour, entry.clock.minute)
    ):
        return replace(entry, day=entry.day - timedelta(days=1))
    return entry


@dataclass(frozen=True)
class _Statement:
    clock: Clock
    zone: tzinfo | None
    day: date | None


def _statement(text: str, *, year: int | None) -> _Statement | None:
    """A sentence saying when it began: the clock after "started", "began", "between", "since"."""
    for m in _STATEMENT.finditer(text):
        reach = text[m.end() : m.end() + STATEMENT_REACH]
        clock = find_clock(reach)
        if clock is None or "." in reach[: clock.start].replace("approx.", "").replace("ca.", ""):
            continue
        zone = clock.zone
        if zone is None and (until := _UNTIL.match(reach[clock.end :])):
            second = find_clock(reach[clock.end + until.end() :])
            zone = second.zone if second and second.start == 0 else None
        sentence_start = max(text.rfind(". ", max(0, m.start() - SENTENCE_REACH), m.start()) + 1, 0)
        found = find_date(text[sentence_start : m.end() + clock.start], year=year)
        return _Statement(clock, zone, found.day if found else None)
    return None


def _stated(doc: Document, *, year: int | None) -> _Statement | None:
    for key in START_FIELDS:
        if key in doc.fields and (clock := find_clock(doc.fields[key])):
            dated = find_date(doc.fields[key], year=year)
            return _Statement(clock, clock.zone, dated.day if dated else None)
    for line in [*doc.lines("summary"), *doc.lines("impact")]:
        if said := _statement(line, year=year):
            return said
    return None


def document_timeline(doc: Document) -> list[Entry]:
    """The document's timeline entries, dated with the incident's year and its declared zone."""
    return timeline_entries(doc, year=_year(doc), zone=document_zone(doc))


def find_started(doc: Document) -> Started:
    """When the incident started (see the module's docstring)."""
    year = _year(doc)
    zone = document_zone(doc)
    entries = timeline_entries(doc, year=year, zone=zone)
    timed = [e for e in entries if e.clock is not None]
    first_day = next((e.day for e in entries if e.day), None)
    day_of_incident = incident_date(doc, year=year)
    marked = _marked(timed)
    if marked is not None:
        marked = _in_order(marked, entries)
        return _at(marked.day or day_of_incident, marked.clock, marked.zone or zone)
    if stated := _stated(doc, year=year):
        return _at(stated.day or first_day or day_of_incident, stated.clock, stated.zone or zone)
    if timed and any(e.time_text == UNKNOWN_TIME for e in entries[: entries.index(timed[0])]):
        day = timed[0].day or day_of_incident
        note = "the timeline says the start time is not known; kept the date only"
        return Started(day.isoformat() if day else None, note)
    if timed:
        first = _in_order(timed[0], entries)
        return _at(first.day or day_of_incident, first.clock, first.zone or zone)
    if doc.created_at and (instant := iso_instant(doc.created_at)):
        return Started(stamp(instant))
    day = day_of_incident or first_day
    return Started(day.isoformat() if day else None)


def _at(day: date | None, clock: Clock | None, zone: tzinfo | None) -> Started:
    if day is None:
        return Started(None)
    if clock is None:
        return Started(day.isoformat())
    if zone is None:
        return Started(
            day.isoformat(),
            f"the document gives {clock.hour:02d}:{clock.minute:02d} with no time zone; kept the date "
            "only — add the time with its zone",
        )
    return Started(stamp(as_utc(day, clock, zone)))
