"""Markdown and plain-text post-mortems → ``Document``.

Headings are Markdown headings (``#`` or underlined), and also the free forms post-mortems are written
in: a line that is only a known section name (``Root cause:``, ``**Impact**``, ``TIMELINE``), or a known
section name followed by its text on the same line (``Resolution: rolled back the deploy``).
``Key: value`` lines for dates, severity, services and the like become ``Document.fields``.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt

from assistant.sources.importing.document import Block, Document, Section, section_key

# Lower-case keys of "Key: value" lines kept as fields (they describe the incident, not a section).
FIELD_KEYS = frozenset(
    {
        "date",
        "incident date",
        "start",
        "start time",
        "started",
        "started at",
        "detected",
        "detected at",
        "time",
        "end",
        "ended",
        "resolved",
        "resolved at",
        "duration",
        "severity",
        "sev",
        "priority",
        "level",
        "service",
        "services",
        "affected service",
        "affected services",
        "services affected",
        "components",
        "affected components",
        "systems",
        "affected systems",
        "cluster",
        "namespace",
        "region",
        "environment",
        "kubernetes version",
        "k8s version",
        "title",
        "incident",
        "incident id",
        "status",
        "authors",
        "author",
        "owner",
        "owners",
        "source",
        "url",
    }
)
_FIELD_LINE = re.compile(r"^\s*[*_]*([A-Za-z][A-Za-z0-9 /'()-]{0,30}?)[*_]*\s*:[*_]*\s+(.+?)\s*$")
_TITLE_PREFIX = re.compile(
    r"^\s*(?:\[?(?:post[- ]?mortem|postmortem|post[- ]incident(?: review| report)?|"
    r"incident(?: report| review| postmortem)?|retrospective|"
    r"rca|pir)\]?\s*[:#\-–—|]\s*)",
    re.IGNORECASE,
)


_CHANGE_LINK = re.compile(r"/(pull|pulls|merge_requests|commit|commits)/\w+")


def clean_title(text: str) -> str:
    title = _TITLE_PREFIX.sub("", text.strip()).strip(" *_#")
    return title or text.strip()


def _inline(token: Any, links: list[str]) -> tuple[str, bool]:
    """Plain text of an inline token (links collected), and whether it was all bold."""
    parts: list[str] = []
    bold_depth = 0
    all_bold = True
    for child in token.children or []:
        if child.type == "strong_open":
            bold_depth += 1
        elif child.type == "strong_close":
            bold_depth -= 1
        elif child.type in ("text", "code_inline"):
            if child.content.strip() and bold_depth == 0:
                all_bold = False
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            if href.startswith(("http://", "https://")):
                links.append(href)
        elif child.type == "image":
            continue
    text = "".join(parts).strip()
    return text, all_bold and bool(text)


class _Builder:
    def __init__(self, doc: Document, extra_sections: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
        self.doc = doc
        self.extra = extra_sections
        self.current = Section(heading="", level=0, key=None)
        doc.sections.append(self.current)

    def heading(self, text: str, level: int) -> None:
        key = section_key(text, self.extra)
        if key is None:
            # an unknown sub-heading belongs to the section it sits in
            parent = next((s for s in reversed(self.doc.sections) if s.level < level), None)
            key = parent.key if parent is not None and level > 1 else None
        if level == 1 and self.doc.title is None and section_key(text, self.extra) is None:
            self.doc.title = clean_title(text)
            return
        self.current = Section(heading=text, level=level, key=key)
        self.doc.sections.append(self.current)

    def add(self, block: Block) -> None:
        self.current.blocks.append(block)

    def text(self, text: str, *, kind: str, bold: bool) -> None:
        """A paragraph or list item: maybe a pseudo-heading, field lines, or body text."""
        lines = [ln for ln in text.split("\n")]
        body: list[str] = []

        def flush() -> None:
            joined = " ".join(x.strip() for x in body if x.strip())
            if joined:
                self.add(Block(kind="item" if kind == "item" else "para", text=joined))
            body.clear()

        for line in lines:
            stripped = line.strip()
            if not stripped:
                continue
            bare = stripped.strip("*_ ").rstrip(":").strip()
            is_heading_line = (
                len(bare) <= 50
                and section_key(bare, self.extra) is not None
                and (stripped.endswith(":") or bold or stripped.isupper() or len(lines) == 1)
                and not re.search(r"[.!]\s*$", bare)
            )
            if is_heading_line and (kind == "para" or bold or stripped.endswith(":")):
                flush()
                self.heading(bare, self.current.level + 1 if self.current.level else 2)
                continue
            field = _FIELD_LINE.match(stripped)
            if field:
                name = field.group(1).strip().lower()
                value = field.group(2).strip(" *_")
                if section_key(name, self.extra) is not None and name not in FIELD_KEYS:
                    flush()
                    self.heading(field.group(1).strip(), self.current.level + 1 if self.current.level else 2)
                    body.append(value)
                    continue
                if name in FIELD_KEYS:
                    if name in ("title", "incident") and self.doc.title is None and " " in value:
                        self.doc.title = clean_title(value)
                    self.doc.fields.setdefault(name, value)
                    continue
            body.append(re.sub(r"^\[[ xX]\]\s+", "", stripped) if kind == "item" else stripped)
        flush()


def parse_markdown(
    text: str,
    *,
    source: str,
    kind: str = "markdown",
    extra_sections: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> Document:
    """Read a Markdown or plain-text post-mortem into a ``Document``."""
    doc = Document(source=source, kind=kind)
    builder = _Builder(doc, extra_sections)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    in_item = 0
    row: list[str] = []
    in_row = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            content, _ = _inline(tokens[i + 1], doc.links)
            builder.heading(content, int(tok.tag[1]))
            i += 3
            continue
        if tok.type == "list_item_open":
            in_item += 1
        elif tok.type == "list_item_close":
            in_item -= 1
        elif tok.type == "tr_open":
            in_row, row = True, []
        elif tok.type == "tr_close":
            in_row = False
            if any(c for c in row):
                header = tokens[i - 1].type == "th_close"
                name = row[0].strip(" *_:").lower()
                if len(row) == 2 and name in FIELD_KEYS and row[1].strip():
                    doc.fields.setdefault(name, row[1].strip(" *_"))
                elif not header:
                    builder.add(Block(kind="row", text=" — ".join(row), cells=tuple(row)))
        elif tok.type == "inline":
            before = len(doc.links)
            content, bold = _inline(tok, doc.links)
            builder.current.links.extend(doc.links[before:])
            if in_row:
                row.append(content.replace("\n", " "))
            elif content:
                builder.text(content, kind="item" if in_item else "para", bold=bold)
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            builder.add(Block(kind="code", text=tok.content.rstrip()))
        i += 1
    doc.sections = [s for s in doc.sections if s.blocks or s.heading]
    # Links worth keeping: a references section's, and pull requests or commits anywhere.
    kept = [x for s in doc.sections if s.key == "links" for x in s.links]
    kept += [x for x in doc.links if _CHANGE_LINK.search(x)]
    doc.links = list(dict.fromkeys(kept))
    return doc
