"""The one core object every surface adapts: ``Assistant`` owns the index and the encoder."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .encoders import Encoder, encoder_spec, make_encoder, spec_of
from .errors import NotFound, QueryError
from .index import (
    BuildReport,
    IncidentRecord,
    IndexType,
    LoadedIndex,
    SearchParams,
    build_index,
    load_current,
)
from .labels import LabelSet, load_labels
from .models import Match, PassageHit, SimilarResult
from .passages import KINDS
from .retrieval import group_by_incident, rrf, seen_before
from .settings import Settings

if TYPE_CHECKING:
    from .diagnosis import Diagnoser
    from .models import Diagnosis


def settings_encoder(settings: Settings, *, threads: int = 1) -> Encoder:
    """The configured encoder on the configured runtime; ``threads``: texts of a batch encoded at once
    (the service encodes one query per request, so 1; ``settings.build_threads`` for index builds)."""
    return make_encoder(
        settings.encoder, runtime=settings.encoder_runtime, cache_dir=settings.models_dir, threads=threads
    )


def clean_query(text: str, *, max_chars: int) -> str:
    text = (text or "").strip()
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


def build(
    settings: Settings,
    *,
    labels: LabelSet | None = None,
    encoder: Encoder | None = None,
    progress: Callable[[int, int], None] | None = None,
    include_drafts: bool = False,
) -> BuildReport:
    """Build the index from ``settings.labels_dir`` (invalid labels skipped; see ``labels.problems``).
    Drafts (``metadata.review: "draft"``) are left out unless ``include_drafts``."""
    labels = labels if labels is not None else load_labels(settings.labels_dir)
    if not include_drafts:
        labels = labels.without_drafts()
    return build_index(
        labels=labels,
        labels_root=settings.labels_dir,
        index_dir=settings.index_dir,
        encoder=encoder or settings_encoder(settings, threads=settings.build_threads),
        batch_size=settings.encode_batch_size,
        keep=settings.keep_builds,
        index_type=IndexType(
            kind=settings.index_type,
            hnsw_m=settings.hnsw_m,
            ivf_lists=settings.ivf_lists,
        ),
        progress=progress,
    )


class Assistant:
    def __init__(self, *, settings: Settings, index: LoadedIndex, encoder: Encoder) -> None:
        self.settings = settings
        self.index = index
        self.encoder = encoder
        self._diagnoser: Diagnoser | None = None
        self._diagnoser_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, encoder: Encoder | None = None) -> Assistant:
        """Load the current index (checked against the configured encoder), then the encoder."""
        settings = settings or Settings()
        expected = (
            spec_of(encoder) if encoder else encoder_spec(settings.encoder, runtime=settings.encoder_runtime)
        )
        index = load_current(
            settings.index_dir,
            expected=expected,
            search=SearchParams(hnsw_ef_search=settings.hnsw_ef_search, ivf_probe=settings.ivf_probe),
        )
        return cls(settings=settings, index=index, encoder=encoder or settings_encoder(settings))

    def similar(
        self,
        text: str,
        k: int | None = None,
        *,
        query_id: str | None = None,
        exclude: Collection[str] = (),
    ) -> SimilarResult:
        """The ``k`` most similar past incidents and the seen-before verdict.

        ``exclude``: incident ids whose passages are dropped from the candidates before fusion, as if
        they were not in the index (the eval harness's leave-one-out mode).
        """
        query = clean_query(text, max_chars=self.settings.max_query_chars)
        k = k or self.settings.default_k
        if k < 1:
            raise QueryError(f"k must be at least 1, got {k}")
        s = self.settings
        vector = self.encoder.encode([query])[0]
        extra = len(KINDS) * len(exclude)
        dense = self.index.dense_search(vector, s.candidates + extra)
        sparse = self.index.sparse_search(query, s.candidates + extra)
        if exclude:
            passages = self.index.passages
            dense = [h for h in dense if passages[h[0]].incident_id not in exclude][: s.candidates]
            sparse = [h for h in sparse if passages[h[0]].incident_id not in exclude][: s.candidates]
        fused = rrf([[r for r, _ in dense], [r for r, _ in sparse]], k=s.rrf_k)
        similarity = self.index.cosine(vector, list(fused))
        hits = group_by_incident(
            fused,
            incident_of=self.index.incident_of,
            similarity=similarity,
            max_score=2.0 / (s.rrf_k + 1),
        )[:k]
        matches = [self._match(h.incident_id, h.score, h.similarity, h.rows) for h in hits]
        verdict = seen_before(
            matches[0].similarity if matches else None,
            center=s.seen_center,
            scale=s.seen_scale,
            yes=s.seen_yes,
            maybe=s.seen_maybe,
        )
        return SimilarResult(id=query_id, query=query, matches=matches, seen_before=verdict)

    def _match(self, incident_id: str, score: float, similarity: float, rows: list[int]) -> Match:
        record = self.incident(incident_id)
        passages = [self.index.passages[r] for r in rows]
        return Match(
            id=record.id,
            title=record.title,
            category=record.category,
            subtype=record.subtype,
            score=round(score, 4),
            similarity=round(similarity, 4),
            passages=[PassageHit(kind=p.kind, text=p.text) for p in passages],
        )

    def diagnose(
        self,
        text: str,
        *,
        k: int | None = None,
        backend: str | None = None,
        history: Sequence[str] | None = None,
    ) -> Diagnosis:
        """A diagnosis grounded in the ``k`` most similar incidents, written by ``backend`` (default:
        ``settings.llm``). ``history``: earlier turns, oldest first, alternating user / assistant."""
        from .models import Diagnosis

        final = None
        for part in self.diagnose_stream(text, k=k, backend=backend, history=history):
            if isinstance(part, Diagnosis):
                final = part
        assert final is not None
        return final

    def diagnose_stream(
        self,
        text: str,
        *,
        k: int | None = None,
        backend: str | None = None,
        history: Sequence[str] | None = None,
    ) -> Iterator[str | Diagnosis]:
        """Text chunks of the answer as they are generated, then exactly one final ``Diagnosis``."""
        return self.diagnoser().stream(text, k=k, backend=backend, history=history)

    def diagnoser(self) -> Diagnoser:
        """The diagnosis pipeline (prompts, token counter, loaded models), built on first use."""
        with self._diagnoser_lock:
            if self._diagnoser is None:
                from .diagnosis import Diagnoser

                self._diagnoser = Diagnoser(self)
            return self._diagnoser

    def incident(self, incident_id: str) -> IncidentRecord:
        try:
            return self.index.incidents[incident_id]
        except KeyError:
            raise NotFound(
                f"no incident {incident_id!r} in the index", hint="check the id with `assistant similar`"
            ) from None

    def stale_files(self) -> list[str]:
        return self.index.stale_files(Path(self.settings.labels_dir))
