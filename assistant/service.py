"""The one core object every surface adapts: ``Assistant`` owns the index and the encoder."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np

from assistant.corpus.facts import IncidentFacts, incident_facts
from assistant.corpus.loading import LabelSet, load_labels
from assistant.corpus.passages import KINDS
from assistant.diagnosis.pipeline import Diagnoser
from assistant.diagnosis.results import Diagnosis
from assistant.errors import NotFound, QueryError
from assistant.search.encoders import Encoder, encoder_spec, make_encoder, spec_of
from assistant.search.fusion import IncidentHit, group_by_incident, rerank, rrf
from assistant.search.index import (
    BuildReport,
    IncidentRecord,
    IndexType,
    LoadedIndex,
    SearchParams,
    build_index,
    load_current,
)
from assistant.search.kinds import KindHistory
from assistant.search.reasons import IncidentText, QueryText, match_reasons, missing_share
from assistant.search.results import History, Match, PassageHit, SimilarResult
from assistant.search.verdict import Candidate, SubtypeClassifier, VerdictModel, feature_rows
from assistant.settings import Settings
from assistant.sources.alerts import query_from_text
from assistant.sources.feedback_log import FILENAME as FEEDBACK_FILE
from assistant.sources.feedback_log import FeedbackLog
from assistant.sources.query_text import check_text, clean_query
from assistant.tracing import span


def incident_url(public_url: str | None, incident_id: str) -> str | None:
    """Link to an incident on the chat page (``/incidents/<id>``), for messages sent elsewhere (Slack);
    None without a public URL."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/incidents/{quote(incident_id, safe='')}"


def settings_encoder(settings: Settings, *, threads: int = 1) -> Encoder:
    """The configured encoder on the configured runtime; ``threads``: texts of a batch encoded at once
    (the service encodes one query per request, so 1; ``settings.build_threads`` for index builds)."""
    return make_encoder(
        settings.encoder, runtime=settings.encoder_runtime, cache_dir=settings.models_dir, threads=threads
    )


def build(
    settings: Settings,
    *,
    labels: LabelSet | None = None,
    encoder: Encoder | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    include_drafts: bool = False,
) -> BuildReport:
    """Build the index from ``settings.labels_dir`` (invalid labels skipped; see ``labels.problems``).
    Drafts (``metadata.review: "draft"``) are left out unless ``include_drafts``. ``on_wait`` is
    called if another build of the same index folder has to finish first."""
    if labels is None:
        labels = load_labels(settings.labels_dir, max_bytes=settings.max_label_bytes)
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
        on_wait=on_wait,
    )


CLEAR_FIRST = 0.98
"""Fused score of a first hit that one search ranks first and the other about as high (within its top 3)."""


class Assistant:
    def __init__(self, *, settings: Settings, index: LoadedIndex, encoder: Encoder) -> None:
        self.settings = settings
        self.index = index
        self.encoder = encoder
        self._diagnoser: Diagnoser | None = None
        self._diagnoser_lock = threading.Lock()
        self._classifier: SubtypeClassifier | None = None
        self._texts: dict[str, list[str]] = {}
        for p in index.passages:
            if p.kind != "resolution":
                self._texts.setdefault(p.incident_id, []).append(p.searched)
        self._read: dict[str, IncidentText] = {}  # filled as incidents are first matched
        self._facts: dict[str, IncidentFacts] = {}  # likewise
        self._searches = threading.BoundedSemaphore(settings.search_threads)
        self.verdict_model = VerdictModel.load(settings.verdict_model)
        self.feedback = FeedbackLog(settings.data_dir / FEEDBACK_FILE)
        self.kinds = KindHistory(index.incidents.values(), confirmed=self.feedback.confirmations)

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
        return self.search(text, k, query_id=query_id, exclude=exclude)[0]

    def search(
        self,
        text: str,
        k: int | None = None,
        *,
        query_id: str | None = None,
        exclude: Collection[str] = (),
    ) -> tuple[SimilarResult, list[dict[str, float]]]:
        """``similar``, plus the verdict features of each match (what ``eval fit-verdict`` learns from)."""
        query = self.query_of(text)
        if query_id is not None:
            check_text(query_id, what="id")
        k = k or self.settings.default_k
        if k < 1:
            raise QueryError(f"k must be at least 1, got {k}")
        with (
            self._searches,
            span("search incidents", {"assistant.k": k, "assistant.query.chars": len(query)}) as current,
        ):
            result, features = self._search(query, k, query_id=query_id, exclude=exclude)
            verdict = result.seen_before
            current.set_attributes(
                {
                    "assistant.matches": len(result.matches),
                    "assistant.top_incident": verdict.incident_id or "",
                    "assistant.verdict": verdict.verdict,
                    "assistant.verdict.confidence": verdict.confidence,
                }
            )
            return result, features

    def _search(
        self, query: str, k: int, *, query_id: str | None, exclude: Collection[str]
    ) -> tuple[SimilarResult, list[dict[str, float]]]:
        s = self.settings
        searched = self.index.vocabulary.expand(query) if s.expand_names else query
        model = self.encoder.id
        with span(
            f"embeddings {model}", {"gen_ai.operation.name": "embeddings", "gen_ai.request.model": model}
        ):
            vector = self.encoder.encode([searched])[0]
        kinds = set(s.search_kinds)
        extra = len(KINDS) * len(exclude) + (s.candidates if len(kinds) < len(KINDS) else 0)
        dense = self.index.dense_search(vector, s.candidates + extra)
        sparse = self.index.sparse_search(searched, s.candidates + extra)
        if extra:
            passages = self.index.passages

            def kept(row: int) -> bool:
                return passages[row].incident_id not in exclude and passages[row].kind in kinds

            dense = [h for h in dense if kept(h[0])][: s.candidates]
            sparse = [h for h in sparse if kept(h[0])][: s.candidates]
        fused = rrf([[r for r, _ in dense], [r for r, _ in sparse]], k=s.rrf_k)
        similarity = self.index.cosine(vector, list(fused))
        hits = group_by_incident(
            fused,
            incident_of=self.index.incident_of,
            similarity=similarity,
            max_score=2.0 / (s.rrf_k + 1),
        )
        with span("rerank", {"assistant.candidates": len(hits), "assistant.subtype_prior": s.subtype_prior}):
            subtype_probs = self.subtype_classifier().probabilities(vector, exclude=exclude)
            hits = self._adjusted(hits, subtype_probs)[: max(k, 5)]
        incident_of = self.index.incident_of
        matches, features = self._matches(
            query,
            hits,
            dense_first=incident_of[dense[0][0]] if dense else None,
            sparse_first=incident_of[sparse[0][0]] if sparse else None,
            subtype_probs=subtype_probs,
        )
        matches, features = matches[:k], features[:k]
        top = matches[0] if matches else None
        with span("verdict"):
            verdict = self.verdict_model.verdict(
                top.same_problem if top else None,
                incident_id=top.id if top else None,
                contradictions=top.reasons.contradictions if top else (),
                kind=self.kinds.known_kind(matches, exclude=exclude),
                same_incident=bool(features) and self.verdict_model.same_incident(features[0]),
                title=top.title if top else "",
            )
        return SimilarResult(id=query_id, query=query, matches=matches, seen_before=verdict), features

    def history(self, *, days: int = 90, until: datetime | None = None, min_count: int = 2) -> History:
        """The kinds of problem with at least ``min_count`` incidents in the ``days`` before ``until``
        (default: now), from the labels' timestamps and the answers on-call marked helpful: how often, when,
        what fixed each, whether it held."""
        if days < 1 or min_count < 1:
            raise QueryError(f"days and min_count must be at least 1, got {days} and {min_count}")
        end = until or datetime.now(UTC)
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        start = end - timedelta(days=days)
        return History(
            since=start.isoformat(timespec="seconds"),
            until=end.isoformat(timespec="seconds"),
            min_count=min_count,
            families=self.kinds.families(since=start, until=end, min_count=min_count),
        )

    def _adjusted(self, hits: list[IncidentHit], subtype_probs: dict[str, float]) -> list[IncidentHit]:
        """The first ``rerank_pool`` hits re-ranked with the subtype prior: each gains ``subtype_prior``
        times the classifier's probability of its subtype for the query (docs/evaluation.md, "Retrieval
        choices", has the comparison that chose it)."""
        s = self.settings
        if not s.subtype_prior:
            return hits
        # A first hit that dense and BM25 search both put at the top keeps its place: the query describes
        # that incident, whatever kind the classifier guesses (on eval/queries.jsonl the prior without
        # this rule lost 23 first places).
        kept = hits[:1] if hits and hits[0].score >= CLEAR_FIRST else []
        pool, rest = hits[len(kept) : s.rerank_pool], hits[s.rerank_pool :]
        subtype = {h.incident_id: self.incident(h.incident_id).subtype or "" for h in pool}
        adjust = {i: s.subtype_prior * subtype_probs.get(t, 0.0) for i, t in subtype.items()}
        return [*kept, *rerank(pool, adjust), *rest]

    def query_of(self, text: str) -> str:
        """What is searched for ``text``, on every surface alike: a pasted alert without its boilerplate
        (links, pod hashes, scraping labels), then checked against the query limits."""
        text = text or ""
        limit = self.settings.max_input_chars
        if len(text) > limit:  # before any processing: cleaning is linear, but not free
            raise QueryError(
                f"the text is {len(text)} characters long; the limit is {limit} before cleaning",
                hint="paste only the alert or the symptoms, or raise ASSISTANT_MAX_INPUT_CHARS",
            )
        return clean_query(query_from_text(text), max_chars=self.settings.max_query_chars)

    def subtype_classifier(self) -> SubtypeClassifier:
        if self._classifier is None:
            dense = self.index.dense
            self._classifier = SubtypeClassifier(
                vectors=dense.reconstruct_n(0, dense.ntotal) if dense.ntotal else np.zeros((0, 1)),
                incident_of=self.index.incident_of,
                subtype_of={i: r.subtype for i, r in self.index.incidents.items()},
            )
        return self._classifier

    def _matches(
        self,
        query: str,
        hits: list[IncidentHit],
        *,
        dense_first: str | None,
        sparse_first: str | None,
        subtype_probs: dict[str, float],
    ) -> tuple[list[Match], list[dict[str, float]]]:
        """Matches with their reasons and ``same_problem`` probability, in retrieval order, and the
        verdict features of each."""
        matches: list[Match] = []
        candidates: list[Candidate] = []
        read_query = QueryText.of(query)
        for h in hits:
            match = self._match(h.incident_id, h.score, h.similarity, h.rows)
            incident = self._incident_text(h.incident_id)
            match.reasons = match_reasons(read_query, incident)
            matches.append(match)
            candidates.append(
                Candidate(
                    incident_id=match.id,
                    subtype=match.subtype,
                    similarity=h.similarity,
                    fused=h.score,
                    contradictions=len(match.reasons.contradictions),
                    missing_terms=missing_share(read_query, incident),
                )
            )
        rows = feature_rows(
            candidates,
            dense_first=dense_first,
            sparse_first=sparse_first,
            subtype_probs=subtype_probs,
            query_words=len(query.split()),
        )
        for match, features in zip(matches, rows, strict=True):
            match.same_problem = round(self.verdict_model.probability(features), 4)
        return matches, rows

    def _incident_text(self, incident_id: str) -> IncidentText:
        """The incident's symptom and evidence text as the reason rules read it, read on first use."""
        read = self._read.get(incident_id)
        if read is None:
            read = self._read[incident_id] = IncidentText.of(self._texts.get(incident_id, []))
        return read

    def _match(self, incident_id: str, score: float, similarity: float, rows: list[int]) -> Match:
        record = self.incident(incident_id)
        passages = [self.index.passages[r] for r in rows]
        facts = self._facts.get(incident_id)
        if facts is None:
            facts = self._facts[incident_id] = incident_facts(record.raw)
        return Match(
            id=record.id,
            title=record.title,
            category=record.category,
            subtype=record.subtype,
            score=round(score, 4),
            similarity=round(similarity, 4),
            passages=[PassageHit(kind=p.kind, text=p.text) for p in passages],
            fix=facts.fixes[0] if facts.fixes else None,
            outcome=facts.outcome,
            started=facts.started,
            draft=facts.draft,
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
        query = self.query_of(text)
        for turn in history or ():
            check_text(turn, what="conversation history")
        return self.diagnoser().stream(query, k=k, backend=backend, history=history)

    def diagnoser(self) -> Diagnoser:
        """The diagnosis pipeline (prompts, token counter, loaded models), built on first use."""
        with self._diagnoser_lock:
            if self._diagnoser is None:
                self._diagnoser = Diagnoser(settings=self.settings, index=self.index, search=self.similar)
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
