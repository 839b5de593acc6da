"""The alert and metric vocabulary (``labels/vocabulary.toml``): well-known alert names, metric names and
error tokens (``OOMKilled``, ``SERVFAIL``), each with what it shows in the words incidents are written in.

An on-call query often carries little more than an alert name (``CPUThrottlingHigh``,
``KubeHpaMaxedOut``) or a metric name (``etcd_disk_wal_fsync_duration_seconds``); an embedding model
reads them as opaque tokens. Search appends the meaning of every name the query carries, so the name
finds the incidents that describe what it measures. Meanings say what the alert or metric *shows*, never
a cause::

    [alerts]
    KubeHpaMaxedOut = "HPA running at max replicas; autoscaler capped and cannot add pods"

    [metrics]
    container_cpu_cfs_throttled_seconds_total = "CPU throttling: containers throttled by the CFS quota"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from assistant.corpus.toml_files import read_toml
from assistant.errors import LabelProblem

VOCABULARY_FILE = "vocabulary.toml"
MAX_MEANING = 200


class _VocabularyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alerts: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, str] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_:]{2,99}")
"""Alert names (CamelCase) and Prometheus metric names (snake_case, colons in recording rules)."""


@dataclass(frozen=True)
class Vocabulary:
    """Name → meaning, looked up case-insensitively; metric names also match with a ``_total``,
    ``_bucket``, ``_count`` or ``_sum`` suffix, as queries paste them from PromQL."""

    meanings: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.meanings)

    def named_in(self, text: str) -> list[str]:
        """The meanings of the names ``text`` carries, first mention first, each once."""
        found: dict[str, None] = {}
        for token in _NAME.findall(text):
            key = token.lower()
            meaning = self.meanings.get(key) or self.meanings.get(_SUFFIX.sub("", key))
            if meaning:
                found.setdefault(meaning, None)
        return list(found)

    def expand(self, text: str) -> str:
        """``text`` followed by the meanings of the names it carries (unchanged when it has none)."""
        meanings = self.named_in(text)
        return f"{text}\n({'; '.join(meanings)})" if meanings else text

    def to_json(self) -> dict[str, str]:
        return dict(self.meanings)


_SUFFIX = re.compile(r"_(?:total|bucket|count|sum)$")

EMPTY = Vocabulary()


def load_vocabulary(labels_dir: Path) -> tuple[Vocabulary, list[LabelProblem]]:
    """``labels_dir/vocabulary.toml`` when it exists (else an empty vocabulary). Problems are returned
    with their path: a file that cannot be read or parsed is not used, a bad entry is left out."""
    path = labels_dir / VOCABULARY_FILE
    if not path.is_file():
        return EMPTY, []
    source = str(path)
    spec, problems = read_toml(path, _VocabularyFile)
    if spec is None:
        return EMPTY, problems
    meanings: dict[str, str] = {}
    for table, entries in (("alerts", spec.alerts), ("metrics", spec.metrics), ("errors", spec.errors)):
        for name, meaning in entries.items():
            where = f"$.{table}.{name}"
            if not _NAME.fullmatch(name):
                problems.append(LabelProblem(source, where, "not an alert or metric name"))
            elif not 3 <= len(meaning.strip()) <= MAX_MEANING:
                problems.append(LabelProblem(source, where, f"meaning must be 3 to {MAX_MEANING} characters"))
            else:
                meanings[name.lower()] = meaning.strip()
    return Vocabulary(meanings), problems
