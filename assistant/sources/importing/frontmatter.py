"""YAML front matter (Jekyll, Hugo, MkDocs, Middleman pages): the ``---`` block at the top of a file.

Only the flat keys a post-mortem's page carries are read (``title``, ``date``, ``author``, ``tags`` and
the like, as ``key: value`` lines, ``[a, b]`` lists or ``- item`` lines); nested YAML is skipped rather
than parsed, so no YAML library is needed and nothing in the block can run or expand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINES = 60
_FENCE = re.compile(r"^---[ \t]*$")
_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
_KEY = re.compile(r"^([A-Za-z_][\w-]{0,40}):[ \t]*(.*)$")
_ITEM = re.compile(r"^[ \t]+-[ \t]+(.+)$|^-[ \t]+(.+)$")
KEPT = frozenset({"title", "date", "author", "authors", "tags", "severity", "services"})


@dataclass
class FrontMatter:
    fields: dict[str, str] = field(default_factory=dict)
    """Scalar keys, lower-cased (a list is joined with ", ")."""
    tags: list[str] = field(default_factory=list)


def _scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value.strip()


def _inline_list(value: str) -> list[str] | None:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        return [_scalar(v) for v in value[1:-1].split(",") if _scalar(v)]
    return None


def split_front_matter(text: str) -> tuple[FrontMatter, str]:
    """The front matter at the very top of ``text`` and the text after it; an empty ``FrontMatter``
    and ``text`` unchanged when there is none (or the block never closes within ``MAX_LINES``)."""
    lines = text.lstrip("\ufeff").split("\n", MAX_LINES + 2)
    if not lines or not _FENCE.match(lines[0]):
        return FrontMatter(), text
    end = next((i for i in range(1, min(len(lines), MAX_LINES + 1)) if _END.match(lines[i])), None)
    if end is None:
        return FrontMatter(), text
    matter = _read(lines[1:end])
    rest = "\n".join(lines[end + 1 :])
    return matter, rest


def _read(lines: list[str]) -> FrontMatter:
    matter = FrontMatter()
    lists: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines:
        item = _ITEM.match(line)
        if item and current is not None:
            lists.setdefault(current, []).append(_scalar(item.group(1) or item.group(2)))
            continue
        m = _KEY.match(line)
        if not m:
            current = None
            continue
        key, value = m.group(1).lower(), m.group(2)
        current = key if key in KEPT else None
        if current is None:
            continue
        listed = _inline_list(value)
        if listed is not None:
            lists[key] = listed
        elif key == "tags" and value.strip():
            lists[key] = [t for t in re.split(r"[,\s]+", _scalar(value)) if t]
        elif value.strip():
            matter.fields[key] = _scalar(value)
    for key, values in lists.items():
        if key == "tags":
            matter.tags.extend(v for v in values if v)
        else:
            matter.fields.setdefault(key, ", ".join(values))
    return matter
