"""Dates, clock times and time zones as post-mortems write them, read without guessing.

A clock time is a point in time only with its zone: one written next to it ("16:22 PST", "10:21 UTC"),
or one the document declares for its times ("All times in CET", "Timeline (times in UTC)", "All times
PDT (UTC-7)"). An offset wins over an abbreviation in the same declaration ("PST (UTC-7)" is UTC-7),
abbreviations are fixed offsets (PST is UTC-8 all year, as written), and a named region ("US/Pacific",
"Europe/Zurich", "Pacific time") follows its own daylight-saving rules through ``zoneinfo``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Fixed offsets (hours) of the abbreviations post-mortems use. Ambiguous ones (IST, CST in Asia, BST as
# Bangladesh) take their most common reading in English-language operations writing.
ABBREVIATIONS: dict[str, float] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 1,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "MET": 1,
    "MEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "IST": 5.5,
    "SGT": 8,
    "HKT": 8,
    "JST": 9,
    "KST": 9,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
    "HST": -10,
    "AKST": -9,
    "AKDT": -8,
    "PST": -8,
    "PDT": -7,
    "MST": -7,
    "MDT": -6,
    "CST": -6,
    "CDT": -5,
    "EST": -5,
    "EDT": -4,
}
# Regions written as words ("Pacific time", "US/Pacific" mistyped): their IANA zone.
REGION_WORDS: dict[str, str] = {
    "pacific": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "mountain": "America/Denver",
    "central": "America/Chicago",
    "eastern": "America/New_York",
    "et": "America/New_York",
}
_ABBR = "|".join(sorted(ABBREVIATIONS, key=len, reverse=True))
_OFFSET = re.compile(r"\b(?:UTC|GMT)\s?([+-−])\s?(\d{1,2})(?::?([0-5]\d))?(?!\d)")
_REGION = re.compile(r"\b([A-Z][A-Za-z]{1,20}/[A-Z][A-Za-z_]{1,30})\b")
_NAMED = re.compile(rf"(?<![\w-])({_ABBR})(?![\w-])")
_WORD = re.compile(r"\b((?i:pacific|mountain|central|eastern)|PT|ET)\b")
# "All times in PST", "times are in UTC", "All Time in UTC", "All times PDT.", "(times in UTC)".
_DECLARED = re.compile(
    r"\btimes?\b[^.\n]{0,30}?\b(?:in|are)\s+(?P<a>[^\n]{1,60})|\ball\s+times\s+(?P<b>[^\n]{1,60})",
    re.IGNORECASE,
)
_PARENS = re.compile(r"\(([^()\n]{1,40})\)")


def _fixed(hours: float) -> timezone:
    return UTC if hours == 0 else timezone(timedelta(hours=hours))


def _region(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_zone(text: str) -> tzinfo | None:
    """The first time zone ``text`` names: a UTC/GMT offset, else an IANA region, else an
    abbreviation, else a region word ("Pacific"); None when it names none."""
    if m := _OFFSET.search(text):
        sign = -1 if m.group(1) in "-−" else 1
        return _fixed(sign * (int(m.group(2)) + int(m.group(3) or 0) / 60))
    for m in _REGION.finditer(text):
        if zone := _region(m.group(1)):
            return zone
    if m := _NAMED.search(text):
        return _fixed(ABBREVIATIONS[m.group(1)])
    if m := _WORD.search(text):
        return _region(REGION_WORDS[m.group(1).lower()])
    return None


def declared_zone(text: str) -> tzinfo | None:
    """The zone a line declares for the document's times ("All times in CET (GMT+1)"), or None."""
    for m in _DECLARED.finditer(text):
        tail = re.split(r"[.;]\s|,\s(?!\s*(?:UTC|GMT))", m.group("a") or m.group("b") or "", maxsplit=1)[0]
        if zone := parse_zone(tail):
            return zone
    return None


def heading_zone(heading: str) -> tzinfo | None:
    """The zone a timeline's heading gives in parentheses: "Timeline (CEST)", "(All Time in UTC)"."""
    for m in _PARENS.finditer(heading):
        if zone := declared_zone(m.group(1)) or parse_zone(m.group(1)):
            return zone
    return None


# --- dates ---------------------------------------------------------------------------------------------

_MONTHS = {
    m: n
    for n, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}
_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORD = r"(?:st|nd|rd|th)?"
_ISO = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)[-/](?P<m>[01]\d)[-/](?P<d>[0-3]\d)(?!\d)")
_DMY = re.compile(r"(?<![\d.-])(?P<d>[0-3]?\d)(?P<sep>[.-])(?P<m>[01]?\d)(?P=sep)(?P<y>(?:19|20)\d\d)(?!\d)")
_MDY_WORDS = re.compile(
    rf"\b{_MONTH}\.?\s(?P<d>[0-3]?\d){_ORD}(?:(?:,\s?|\s)(?P<y>(?:19|20)\d\d)\b|\b(?!:))",
    re.IGNORECASE,
)
_DMY_WORDS = re.compile(
    rf"\b(?P<d>[0-3]?\d){_ORD}\.?(?:\sof)?\s{_MONTH}\b\.?(?:,?\s(?P<y>(?:19|20)\d\d)\b)?",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(r"(?<![\d-])(?P<m>[01]\d)-(?P<d>[0-3]\d)(?=\s[0-2]?\d:[0-5]\d)")


@dataclass(frozen=True)
class Found:
    """A date in a text, where it is, and whether the text gave its year."""

    day: date
    start: int
    end: int
    has_year: bool = True


def _make(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _word_match(m: re.Match[str], year: int | None) -> tuple[date | None, bool]:
    mon = _MONTHS.get(m.group("mon").lower().rstrip("."))
    given = m.groupdict().get("y")
    day = m.groupdict().get("d")
    if mon is None or day is None or (given is None and year is None):
        return None, False
    return _make(int(given) if given else year or 0, mon, int(day)), given is not None


def find_date(text: str, *, year: int | None = None) -> Found | None:
    """The first date in ``text``: ISO (2019-10-21), day-first with dots or dashes (03.08.2023,
    28-07-2017), or with a month name (Oct. 19, 2018; 3rd of August 2023; February 8th 2019). A date
    without its year ("May 6", "[03-26 23:04]") counts only when ``year`` is given."""
    found: list[Found] = []
    for m in _ISO.finditer(text):
        if d := _make(int(m.group("y")), int(m.group("m")), int(m.group("d"))):
            found.append(Found(d, m.start(), m.end()))
            break
    for m in _DMY.finditer(text):
        if d := _make(int(m.group("y")), int(m.group("m")), int(m.group("d"))):
            found.append(Found(d, m.start(), m.end()))
            break
    for pattern in (_MDY_WORDS, _DMY_WORDS):
        for m in pattern.finditer(text):
            d, has_year = _word_match(m, year)
            if d:
                found.append(Found(d, m.start(), m.end(), has_year))
                break
    if year is not None:
        for m in _MONTH_DAY.finditer(text):
            if d := _make(year, int(m.group("m")), int(m.group("d"))):
                found.append(Found(d, m.start(), m.end(), has_year=False))
                break
    return min(found, key=lambda f: (f.start, not f.has_year)) if found else None


# --- clock times ----------------------------------------------------------------------------------------

_CLOCK = re.compile(
    r"(?<![\d:.,/])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::[0-5]\d)?(?!\d|:\d)"
    r"(?:\s?(?P<ap>[ap]\.?m\.?)(?![a-z]))?",
    re.IGNORECASE,
)
_HHMM = re.compile(r"^(?P<h>[01]\d|2[0-3])(?P<m>[0-5]\d)$")
_ZONE_AFTER = re.compile(
    rf"^\s?\(?(?:(?P<off>(?:UTC|GMT)\s?[+-−]\s?\d{{1,2}}(?::?[0-5]\d)?)|(?P<abbr>{_ABBR}))(?![\w-])"
)


@dataclass(frozen=True)
class Clock:
    """A time of day as written, with the zone written right after it (if any)."""

    hour: int
    minute: int
    start: int
    end: int
    zone: tzinfo | None = None


def _hour(h: str, ampm: str | None) -> int:
    hour = int(h)
    if ampm and ampm[0].lower() == "p" and hour < 12:
        return hour + 12
    if ampm and ampm[0].lower() == "a" and hour == 12:
        return 0
    return hour


def find_clock(text: str, *, bare_hhmm: bool = False) -> Clock | None:
    """The first clock time in ``text`` ("16:22", "1:46pm", "07:30am", "10:21 UTC"); with
    ``bare_hhmm`` a four-digit time that is the whole text ("0730", a timeline table's cell)."""
    if bare_hhmm and (m4 := _HHMM.match(text.strip())):
        return Clock(int(m4.group("h")), int(m4.group("m")), 0, len(text))
    m = _CLOCK.search(text)
    if m is None:
        return None
    zone = None
    if z := _ZONE_AFTER.match(text[m.end() :]):
        zone = parse_zone(z.group("off")) if z.group("off") else _fixed(ABBREVIATIONS[z.group("abbr")])
    return Clock(_hour(m.group("h"), m.group("ap")), int(m.group("m")), m.start(), m.end(), zone)


_ISO_INSTANT = re.compile(
    r"(?<!\d)((?:19|20)\d\d-[01]\d-[0-3]\d)[T ]([0-2]\d:[0-5]\d)(?::[0-5]\d(?:\.\d{1,9})?)?"
    r"(Z|[+-][01]\d:?[0-5]\d)(?![\w:])"
)


def iso_instant(text: str) -> datetime | None:
    """An ISO 8601 instant with its zone (``2026-01-08T14:22:00Z``, ``...+02:00``), in UTC."""
    m = _ISO_INSTANT.search(text)
    if m is None:
        return None
    zone = m.group(3).replace("Z", "+00:00")
    if ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        return datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:00{zone}").astimezone(UTC)
    except ValueError:
        return None


def as_utc(day: date, clock: Clock, zone: tzinfo) -> datetime:
    """``day`` at ``clock`` in ``zone``, as a UTC instant."""
    local = datetime(day.year, day.month, day.day, clock.hour, clock.minute, tzinfo=zone)
    return local.astimezone(UTC)


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
