"""The incident taxonomy (category → subtypes), its extension by ``labels/taxonomy.toml``, and
inference of a subtype from tags.

The built-in taxonomy is the default. A ``taxonomy.toml`` in the labels folder adds categories and
subtypes, or inference keywords to built-in subtypes, without code changes::

    [categories.messaging]
    description = "Brokers, queues and their consumers"

    [subtypes.consumer_lag]
    category = "messaging"
    description = "Consumers fall behind producers and the backlog grows"
    keywords = ["consumer lag", "backlog", "rebalance"]

    [subtypes.cpu_throttling]          # a built-in subtype: more words to recognise it by
    keywords = ["regex backtracking", "hot loop"]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from assistant.corpus.builtin_taxonomy import BUILTIN_CELLS, TAG_RULES
from assistant.corpus.toml_files import read_toml
from assistant.errors import LabelProblem

TAXONOMY_FILE = "taxonomy.toml"

TAXONOMY: dict[str, tuple[str, ...]] = {c: tuple(subs) for c, subs in BUILTIN_CELLS.items()}
"""The built-in taxonomy, category → subtypes."""

SUBTYPE_TO_CATEGORY: dict[str, str] = {s: c for c, subs in TAXONOMY.items() for s in subs}


def norm_tag(tag: str) -> str:
    return tag.strip().lower().replace("-", "_").replace(" ", "_")


@dataclass(frozen=True)
class Subtype:
    name: str
    category: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    builtin: bool = True


@dataclass(frozen=True)
class Taxonomy:
    """Categories and their subtypes, in order. ``BUILTIN`` unless a ``taxonomy.toml`` extends it."""

    subtypes: dict[str, Subtype]
    categories: dict[str, str] = field(default_factory=dict)
    """category → description."""
    source: str | None = None
    """The file that extended the built-in taxonomy, if any."""

    @property
    def cells(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {c: [] for c in self.categories}
        for sub in self.subtypes.values():
            out.setdefault(sub.category, []).append(sub.name)
        return {c: tuple(s) for c, s in out.items()}

    def category_of(self, subtype: str) -> str | None:
        sub = self.subtypes.get(subtype)
        return sub.category if sub else None

    def infer_from_tags(self, tags: Iterable[str]) -> str | None:
        """The subtype implied by a label's tags: the built-in rules, then a tag that names a subtype
        or one of an added subtype's keywords."""
        normalised = {norm_tag(t) for t in tags}
        for keys, subtype in TAG_RULES:
            if keys <= normalised and subtype in self.subtypes:
                return subtype
        for sub in self.subtypes.values():
            if sub.name in normalised or (
                not sub.builtin and normalised & {norm_tag(k) for k in sub.keywords}
            ):
                return sub.name
        return None

    def suggest(self, name: str, *, n: int = 3) -> list[str]:
        """Subtypes a mistyped or shortened name probably meant (``dns`` → ``dns_resolution``)."""
        key = norm_tag(name)
        if not key:
            return []
        found = [s for s in self.subtypes if key in s or s in key]
        found += [
            s.name
            for s in self.subtypes.values()
            if any(key == norm_tag(k) or key in norm_tag(k).split("_") for k in s.keywords)
        ]
        found += difflib.get_close_matches(key, list(self.subtypes), n=n, cutoff=0.6)
        return list(dict.fromkeys(found))[:n]

    def unknown_subtype_message(self, name: str) -> str:
        hint = self.suggest(name)
        maybe = f"did you mean {' or '.join(hint)}? " if hint else ""
        return (
            f"unknown subtype {name!r}; {maybe}run `assistant labels taxonomy` for the list, or add it "
            f"to {TAXONOMY_FILE} in the labels folder"
        )


BUILTIN = Taxonomy(
    subtypes={
        s: Subtype(name=s, category=c, description=d, keywords=k)
        for c, subs in BUILTIN_CELLS.items()
        for s, (d, k) in subs.items()
    },
    categories={c: "" for c in BUILTIN_CELLS},
)

_NAME = r"^[a-z][a-z0-9_]{1,63}$"


class _CategorySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = ""


class _SubtypeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str | None = Field(None, pattern=_NAME)
    description: str = ""
    keywords: list[str] = []


class _TaxonomyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    categories: dict[str, _CategorySpec] = {}
    subtypes: dict[str, _SubtypeSpec] = {}


def extend(base: Taxonomy, spec: _TaxonomyFile, *, source: str) -> tuple[Taxonomy, list[LabelProblem]]:
    problems: list[LabelProblem] = []
    categories = dict(base.categories)
    for name, cat in spec.categories.items():
        if not _valid_name(name):
            problems.append(LabelProblem(source, f"$.categories.{name}", "use lower_snake_case names"))
            continue
        categories[name] = cat.description or categories.get(name, "")
    subtypes = dict(base.subtypes)
    for name, sub in spec.subtypes.items():
        where = f"$.subtypes.{name}"
        known = subtypes.get(name)
        if not _valid_name(name):
            problems.append(LabelProblem(source, where, "use lower_snake_case names"))
        elif known is not None:
            if sub.category is not None and sub.category != known.category:
                problems.append(
                    LabelProblem(
                        source, where, f"{name!r} already belongs to {known.category!r}; it cannot move"
                    )
                )
                continue
            subtypes[name] = Subtype(
                name=name,
                category=known.category,
                description=sub.description or known.description,
                keywords=(*known.keywords, *(k.lower() for k in sub.keywords)),
                builtin=known.builtin,
            )
        elif sub.category is None:
            problems.append(LabelProblem(source, where, 'a new subtype needs `category = "..."`'))
        elif sub.category not in categories:
            problems.append(
                LabelProblem(
                    source,
                    f"{where}.category",
                    f"category {sub.category!r} is neither built in nor declared under [categories]",
                )
            )
        else:
            subtypes[name] = Subtype(
                name=name,
                category=sub.category,
                description=sub.description,
                keywords=tuple(k.lower() for k in sub.keywords),
                builtin=False,
            )
    return Taxonomy(subtypes=subtypes, categories=categories, source=source), problems


def _valid_name(name: str) -> bool:
    return re.fullmatch(_NAME, name) is not None


def load_taxonomy(labels_dir: Path) -> tuple[Taxonomy, list[LabelProblem]]:
    """The built-in taxonomy extended by ``labels_dir/taxonomy.toml`` when that file exists. Problems in
    the file are returned (and the built-in taxonomy used), never raised."""
    path = labels_dir / TAXONOMY_FILE
    if not path.is_file():
        return BUILTIN, []
    spec, problems = read_toml(path, _TaxonomyFile)
    if spec is None:
        return BUILTIN, problems
    return extend(BUILTIN, spec, source=str(path))


def infer_subtype(tags: Iterable[str]) -> str | None:
    """The built-in subtype implied by a label's tags, or None when no rule matches."""
    return BUILTIN.infer_from_tags(tags)


def category_of(subtype: str) -> str:
    return SUBTYPE_TO_CATEGORY[subtype]
