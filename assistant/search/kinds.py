"""How often the index has seen a kind of problem: what a "yes — a known kind of problem" answer says."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from assistant.corpus.facts import incident_facts
from assistant.search.manifest import IncidentRecord
from assistant.search.results import KnownKind, Match


class KindHistory:
    """Incidents per subtype and when each happened, read once from the index's records."""

    def __init__(self, records: Iterable[IncidentRecord]) -> None:
        self._members: dict[str, dict[str, str | None]] = {}
        self._category: dict[str, str | None] = {}
        for r in records:
            if r.subtype:
                self._members.setdefault(r.subtype, {})[r.id] = incident_facts(r.raw).started
                self._category[r.subtype] = r.category

    def known_kind(self, matches: Sequence[Match], *, exclude: Collection[str] = ()) -> KnownKind | None:
        """The top match's kind: how many incidents of it the index holds (``exclude`` left out), the
        matches of that kind, the latest date, and what fixed the most recent matched one."""
        if not matches or not matches[0].subtype:
            return None
        subtype = matches[0].subtype
        members = {i: t for i, t in self._members.get(subtype, {}).items() if i not in exclude}
        same = [m for m in matches if m.subtype == subtype]
        dated = sorted((m for m in same if m.started), key=lambda m: m.started or "", reverse=True)
        latest = max((t for t in members.values() if t), default=None)
        return KnownKind(
            category=self._category.get(subtype),
            subtype=subtype,
            incidents=len(members),
            matched=[m.id for m in same],
            last_seen=latest,
            last_fix=next((m.fix for m in [*dated, *same] if m.fix), None),
        )
