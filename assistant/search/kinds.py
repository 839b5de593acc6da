"""How often the index has seen a kind of problem: what a "yes — a known kind of problem" answer says,
and the problem families that recurred over a window (``assistant history``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from assistant.corpus.facts import incident_facts
from assistant.search.manifest import IncidentRecord
from assistant.search.results import Family, KnownKind, Match, Occurrence

RECENT = 3


@dataclass(frozen=True)
class Confirmation:
    """An answer on-call marked "This helped": the kind of its first match happened again, at ``at``."""

    answer_id: str
    incident_id: str
    at: str


def started_at(value: str | None) -> datetime | None:
    """A label's start as an aware datetime (a date alone is its midnight UTC), or None."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class KindHistory:
    """Incidents per subtype, when each happened and what fixed it, read once from the index's records."""

    def __init__(
        self, records: Iterable[IncidentRecord], confirmed: Callable[[], list[Confirmation]] = list
    ) -> None:
        """``confirmed``: the feedback's confirmations as they stand (read on each use: votes arrive
        while the service runs)."""
        self._confirmed = confirmed
        self._subtype_of: dict[str, str] = {}
        self._members: dict[str, list[tuple[Occurrence, datetime | None]]] = {}
        self._category: dict[str, str | None] = {}
        for r in records:
            if r.subtype:
                self._subtype_of[r.id] = r.subtype
                facts = incident_facts(r.raw)
                occurrence = Occurrence(
                    id=r.id,
                    title=r.title,
                    started=facts.started,
                    fix=facts.fixes[0] if facts.fixes else None,
                    outcome=facts.outcome,
                )
                self._members.setdefault(r.subtype, []).append((occurrence, started_at(facts.started)))
                self._category[r.subtype] = r.category
        for members in self._members.values():  # newest first, undated last
            members.sort(key=lambda m: m[1] or datetime.min.replace(tzinfo=UTC), reverse=True)

    def _confirmations(self) -> dict[str, list[datetime]]:
        """When answers were marked helpful, by the subtype of their first match, newest first."""
        by_subtype: dict[str, list[datetime]] = {}
        for c in self._confirmed():
            subtype = self._subtype_of.get(c.incident_id)
            if subtype and (t := started_at(c.at)) is not None:
                by_subtype.setdefault(subtype, []).append(t)
        return {k: sorted(v, reverse=True) for k, v in by_subtype.items()}

    def known_kind(
        self, matches: Sequence[Match], *, exclude: Collection[str] = (), now: datetime | None = None
    ) -> KnownKind | None:
        """The top match's kind: how many incidents of it the index holds (``exclude`` left out) and how
        many started in the last 30 days and year before ``now``, the matches of that kind, the latest
        ones with their fixes, and what fixed the most recent matched one."""
        if not matches or not matches[0].subtype:
            return None
        subtype = matches[0].subtype
        now = now or datetime.now(UTC)
        members = [(o, t) for o, t in self._members.get(subtype, []) if o.id not in exclude]
        same = [m for m in matches if m.subtype == subtype]
        dated = sorted((m for m in same if m.started), key=lambda m: m.started or "", reverse=True)
        latest = next((o.started for o, t in members if t is not None), None)
        confirmed = self._confirmations().get(subtype, [])
        return KnownKind(
            category=self._category.get(subtype),
            subtype=subtype,
            incidents=len(members),
            matched=[m.id for m in same],
            last_seen=latest,
            last_fix=next((m.fix for m in [*dated, *same] if m.fix), None),
            last_30_days=sum(1 for _, t in members if t and now - timedelta(days=30) <= t <= now),
            last_365_days=sum(1 for _, t in members if t and now - timedelta(days=365) <= t <= now),
            recent=[o for o, _ in members[:RECENT]],
            confirmed=len(confirmed),
            confirmed_30_days=sum(1 for t in confirmed if now - timedelta(days=30) <= t <= now),
            last_confirmed=confirmed[0].isoformat(timespec="seconds") if confirmed else None,
        )

    def families(self, *, since: datetime, until: datetime, min_count: int = 2) -> list[Family]:
        """The subtypes with at least ``min_count`` incidents that started between ``since`` and
        ``until`` (labels and confirmations together), most first (then the latest first)."""
        out = []
        confirmations = self._confirmations()  # read once for every family
        for subtype, members in self._members.items():
            inside = [(o, t) for o, t in members if t is not None and since <= t <= until]
            confirmed = [t for t in confirmations.get(subtype, []) if since <= t <= until]
            if len(inside) + len(confirmed) < max(1, min_count):
                continue
            out.append(
                Family(
                    category=self._category.get(subtype),
                    subtype=subtype,
                    incidents=len(inside),
                    total=len(members),
                    first=inside[-1][0].started if inside else None,
                    last=inside[0][0].started if inside else None,
                    occurrences=[o for o, _ in inside],
                    confirmed=len(confirmed),
                    last_confirmed=confirmed[0].isoformat(timespec="seconds") if confirmed else None,
                )
            )
        out.sort(key=lambda f: max(f.last or "", f.last_confirmed or ""), reverse=True)
        return sorted(out, key=lambda f: f.incidents + f.confirmed, reverse=True)
