"""Loading a folder of label files without stopping at the first problem: every file is parsed and
validated against the label model (``assistant.corpus.labels``), and what is wrong is reported by file
and JSON path, never raised.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.corpus.labels import DRAFT, Label
from assistant.corpus.taxonomy import BUILTIN, Taxonomy, load_taxonomy
from assistant.corpus.vocabulary import EMPTY, Vocabulary, load_vocabulary
from assistant.errors import LabelProblem

SCHEMA_FILE = "schema.json"
MAX_LABEL_BYTES = 256 * 1024
"""Default size limit of one label file (``ASSISTANT_MAX_LABEL_BYTES``); committed ones are far smaller."""
MAX_DEPTH = 32
"""Deepest nesting of objects and lists in a label (the committed ones nest far less deep)."""
# Text that `labels new` writes for a person to replace; a label holding it is not ready.
PLACEHOLDER = re.compile(r"^\s*(TODO|TBD|FIXME)\b", re.IGNORECASE)
_OLD_SKELETON = frozenset(
    {
        "Describe the incident in one line",
        "What did the first alert or report say?",
        "What did the graphs show?",
        "Who was affected?",
        "One sentence: what caused it.",
    }
)


@dataclass(frozen=True)
class LoadedLabel:
    """A valid label with where it came from. ``raw`` is the document as written."""

    file: str
    checksum: str
    label: Label
    raw: dict[str, Any]


@dataclass
class LabelSet:
    labels: list[LoadedLabel] = field(default_factory=list)
    problems: list[LabelProblem] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)
    """Checksum of every file read, valid or not, keyed like ``LoadedLabel.file``."""
    taxonomy: Taxonomy = BUILTIN
    vocabulary: Vocabulary = EMPTY

    @property
    def files(self) -> int:
        return len(self.checksums)

    @property
    def drafts(self) -> list[LoadedLabel]:
        return [item for item in self.labels if item.label.is_draft]

    def without_drafts(self) -> LabelSet:
        """The same files with drafts left out (they count as skipped files in an index build)."""
        return LabelSet(
            labels=[item for item in self.labels if not item.label.is_draft],
            problems=self.problems,
            checksums=self.checksums,
            taxonomy=self.taxonomy,
            vocabulary=self.vocabulary,
        )


def file_checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_checksum(path: Path) -> str:
    """``file_checksum`` of a file's content, read in chunks (for files too large to load)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def json_path(loc: Iterable[int | str]) -> str:
    """Pydantic's error location as a JSON path, e.g. ``$.analysis.evidence[2]``."""
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def label_files(root: Path) -> list[Path]:
    """Every label file under ``root`` (a folder or a single file), in a stable order."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.json") if p.name != SCHEMA_FILE and not p.name.startswith("."))


def placeholder_problems(raw: Any, *, file: str, loc: tuple[int | str, ...] = ()) -> list[LabelProblem]:
    """Skeleton text (``TODO: ...``) anywhere in a label, one problem per field."""
    if isinstance(raw, dict):
        return [p for k, v in raw.items() for p in placeholder_problems(v, file=file, loc=(*loc, k))]
    if isinstance(raw, list):
        return [p for i, v in enumerate(raw) for p in placeholder_problems(v, file=file, loc=(*loc, i))]
    if isinstance(raw, str) and (PLACEHOLDER.match(raw) or raw.strip() in _OLD_SKELETON):
        text = raw.strip() if len(raw.strip()) <= 60 else raw.strip()[:57] + "..."
        return [
            LabelProblem(
                file, json_path(loc), f"placeholder {text!r}: replace it with what happened, or remove it"
            )
        ]
    return []


def _located(problem: LabelProblem, raw: dict[str, Any]) -> LabelProblem:
    """Pydantic's messages, said in terms of the document as written."""
    path, message = problem.path, problem.message
    if path.startswith("$.perf_observation") and "id" in raw and "perf_observation" not in raw:
        path = "$.id" + path.removeprefix("$.perf_observation")
    if path == "$.perf_observation" and message == "Field required":
        message = "Field required: the incident id, as `perf_observation` or `id`"
    return LabelProblem(problem.file, path, message)


def _unusable_values(raw: dict[str, Any], *, file: str) -> list[LabelProblem]:
    """Text that cannot be written as UTF-8 (lone surrogates from ``\\ud800`` escapes) and nesting
    deeper than ``MAX_DEPTH``, located by JSON path. Iterative: the depth is what is being checked."""
    problems: list[LabelProblem] = []
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(raw, ())]
    while stack and len(problems) < 20:
        value, loc = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                problems.append(
                    LabelProblem(
                        file,
                        json_path(loc),
                        f"text holds a lone surrogate ({value[exc.start]!r}), which is not valid Unicode; "
                        "fix the \\u escape",
                    )
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if len(loc) >= MAX_DEPTH:
            problems.append(
                LabelProblem(file, json_path(loc), f"nested deeper than {MAX_DEPTH} levels; flatten it")
            )
            continue
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        for key, item in reversed(items):
            if isinstance(key, str):
                stack.append((key, loc))  # a key's surrogate is reported at the object holding it
            stack.append((item, (*loc, key)))
    return problems


def parse_label(
    data: bytes, *, file: str, taxonomy: Taxonomy = BUILTIN
) -> tuple[LoadedLabel | None, list[LabelProblem]]:
    """Parse one label document; return it, or every problem found in it."""
    try:
        raw = json.loads(data)
    except UnicodeDecodeError as exc:
        return None, [LabelProblem(file, "$", f"not UTF-8 text ({exc.reason})")]
    except json.JSONDecodeError as exc:
        return None, [
            LabelProblem(file, "$", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        ]
    except RecursionError:
        return None, [LabelProblem(file, "$", f"nested far deeper than {MAX_DEPTH} levels; flatten it")]
    if not isinstance(raw, dict):
        return None, [LabelProblem(file, "$", f"expected a JSON object, got {type(raw).__name__}")]
    if unusable := _unusable_values(raw, file=file):
        return None, unusable
    meta = raw.get("metadata")
    draft = isinstance(meta, dict) and str(meta.get("review") or "").strip().lower() == DRAFT
    problems = placeholder_problems(raw, file=file)
    if raw.get("timestamp") is None and not draft:
        problems.append(
            LabelProblem(
                file,
                "$.timestamp",
                "Field required: when the incident started, e.g. 2025-03-16T01:15:00Z "
                '(only a draft, metadata.review "draft", may leave it out)',
            )
        )
    try:
        label = Label.model_validate(raw, context={"taxonomy": taxonomy})
    except ValidationError as exc:
        found = [_located(LabelProblem(file, json_path(e["loc"]), e["msg"]), raw) for e in exc.errors()]
        return None, found + problems
    if problems:
        return None, problems
    return LoadedLabel(file=file, checksum=file_checksum(data), label=label, raw=raw), []


def load_labels(
    root: Path, *, taxonomy: Taxonomy | None = None, max_bytes: int = MAX_LABEL_BYTES
) -> LabelSet:
    """Load every label under ``root``; invalid files are reported in ``problems``, never raised.

    ``taxonomy``: default, the built-in one extended by ``root/taxonomy.toml`` when ``root`` is a folder.
    Files over ``max_bytes`` are reported without being read into memory.
    """
    result = LabelSet()
    if not root.exists():
        result.problems.append(LabelProblem(str(root), "$", "no such file or folder"))
        return result
    if taxonomy is None:
        taxonomy, problems = load_taxonomy(root) if root.is_dir() else (BUILTIN, [])
        result.problems.extend(problems)
    result.taxonomy = taxonomy
    if root.is_dir():
        result.vocabulary, problems = load_vocabulary(root)
        result.problems.extend(problems)
    seen: dict[str, str] = {}
    for path in label_files(root):
        try:
            size = path.stat().st_size
            if size > max_bytes:
                result.checksums[str(path)] = path_checksum(path)
                result.problems.append(
                    LabelProblem(
                        str(path),
                        "$",
                        f"file is {size} bytes; the limit is {max_bytes} (ASSISTANT_MAX_LABEL_BYTES): "
                        "shorten it, or raise the limit",
                    )
                )
                continue
            data = path.read_bytes()
        except OSError as exc:
            result.problems.append(LabelProblem(str(path), "$", f"cannot read file: {exc.strerror}"))
            continue
        result.checksums[str(path)] = file_checksum(data)
        loaded, problems = parse_label(data, file=str(path), taxonomy=taxonomy)
        result.problems.extend(problems)
        if loaded is None:
            continue
        first = seen.get(loaded.label.id)
        if first is not None:
            result.problems.append(
                LabelProblem(
                    str(path), "$.perf_observation", f"duplicate id {loaded.label.id!r}, also in {first}"
                )
            )
            continue
        seen[loaded.label.id] = str(path)
        result.labels.append(loaded)
    return result


def iter_taxonomy_counts(
    labels: Iterable[LoadedLabel], taxonomy: Taxonomy = BUILTIN
) -> Iterator[tuple[str, str, int]]:
    """(category, subtype, count) for every taxonomy cell, zeros included, then any uncategorised."""
    counts: dict[tuple[str, str], int] = {}
    for item in labels:
        meta = item.label.metadata
        key = (meta.category or "uncategorised", meta.subtype or "-")
        counts[key] = counts.get(key, 0) + 1
    for category, subtypes in taxonomy.cells.items():
        for subtype in subtypes:
            yield category, subtype, counts.pop((category, subtype), 0)
    for (category, subtype), n in sorted(counts.items()):
        yield category, subtype, n
