"""Markdown and plain-text post-mortems → ``Document``.

Headings are Markdown headings (``#`` or underlined), and also the free forms post-mortems are written
in: a line that is only a known section name (``Root cause:``, ``**Impact**``, ``TIMELINE``), or a known
section name followed by its text on the same line (``Resolution: rolled back the deploy``).
``Key: value`` lines for dates, severity, services and the like become ``Document.fields``.

The text before the first section heading (the lead paragraph under the title, often the summary) is
kept as the ``lead`` section key (``summary`` by default). Inline code keeps its backticks, so that a
reader of the text can tell a pasted command or log line from prose; ``<br>`` breaks a line, and a line
that starts with a clock time starts a new block (timelines written as one paragraph per day).
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt

from assistant.sources.importing.document import (
    Block,
    BlockKind,
    Document,
    Section,
    is_retro_question,
    section_key,
)
from assistant.sources.importing.when import find_date

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
        "time to repair",
        "time to resolve",
        "time to recovery",
        "time to detect",
        "time to mitigate",
        "time to resolution",
        "last modified",
        "created by",
        "created",
        "published",
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
_BR = re.compile(r"^<br\s*/?>$", re.IGNORECASE)
# A line that opens with a clock time ("14:05 ...", "[03-26 23:04] ...", "2026-01-29 10:21 UTC: ...").
TIME_LED = re.compile(
    r"^[\s*_\[(-]*(?:(?:\d{4}-)?\d\d-\d\d[ T]|\d{4}/\d\d/\d\d )?(?:ca\.\s)?[0-2]?\d:[0-5]\d(?!\d)"
)
TIMELINE_SHARE = 0.6
LINE_BREAK = "\ue000"
"""Stands for a ``<br>`` or a Markdown hard break inside a paragraph: the line ends there."""
_ENDS = (".", "!", "?", ":")


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text.replace(LINE_BREAK, " ")).strip()


def _dated(heading: str) -> bool:
    """A heading that opens with a date or a clock time ("Feb 21, 13:00", "2019-03-25 7:01am")."""
    found = find_date(heading, year=2000)
    return bool(TIME_LED.match(heading)) or (found is not None and found.start <= 1)


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
            parts.append(f"`{child.content}`" if child.type == "code_inline" else child.content)
        elif child.type == "softbreak":
            parts.append("\n")
        elif child.type == "hardbreak" or (child.type == "html_inline" and _BR.match(child.content.strip())):
            parts.append(f"\n{LINE_BREAK}\n")
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
        self.base_level = 0  # the level of the last Markdown heading: pseudo-headings sit one below it
        self.quoted = 0  # block-quote depth
        doc.sections.append(self.current)

    def pseudo_heading(self, text: str) -> None:
        """A bold line, a ``Name:`` line or a capitalised line naming a section: a sibling of the
        pseudo-headings before it, one level under the last real heading."""
        self.heading(text, self.base_level + 1 if self.base_level else 2, real=False)

    def heading(self, text: str, level: int, *, real: bool = True) -> None:
        # a heading that opens with a time is a timeline entry, whatever words follow it
        key = None if TIME_LED.match(text) else section_key(text, self.extra)
        if real and is_retro_question(text):
            key = "lessons"
        if key is None and _dated(text) and self.current.key == "timeline":
            key = "timeline"  # "## Feb 21, 13:00" after a timeline goes on with it
        if key is None:
            # an unknown sub-heading belongs to the section it sits in
            parent = next((s for s in reversed(self.doc.sections) if s.level < level), None)
            key = parent.key if parent is not None and level > 1 else None
        if real:
            self.base_level = level
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
                block_kind: BlockKind = "item" if kind == "item" else "para"
                self.add(Block(kind=block_kind, text=joined, quoted=self.quoted > 0))
            body.clear()

        for line in lines:
            stripped = line.strip()
            if stripped == LINE_BREAK:
                flush()
                continue
            if not stripped:
                continue
            bare = stripped.strip("*_ ").rstrip(":").strip()
            starts_block = not body or body[-1].endswith(_ENDS)  # not a line that wraps a sentence
            field_line = _FIELD_LINE.match(stripped)
            is_heading_line = (
                starts_block
                and not (field_line and field_line.group(1).strip().lower() in FIELD_KEYS)
                and len(bare) <= 50
                and section_key(bare, self.extra) is not None
                and (stripped.endswith(":") or bold or stripped.isupper() or len(lines) == 1)
                and not re.search(r"[.!]\s*$", bare)
            )
            if is_heading_line and (kind == "para" or bold or stripped.endswith(":")):
                flush()
                self.pseudo_heading(bare)
                continue
            if body and TIME_LED.match(stripped) and (TIME_LED.match(body[0]) or body[-1].endswith(_ENDS)):
                flush()  # a new timeline entry, not a line that wraps a sentence ("(Between\n1:46pm")
            field = _FIELD_LINE.match(stripped)
            if field:
                name = field.group(1).strip().lower()
                value = field.group(2).strip(" *_")
                if section_key(name, self.extra) is not None and name not in FIELD_KEYS:
                    flush()
                    self.pseudo_heading(field.group(1).strip())
                    body.append(value)
                    continue
                if name in FIELD_KEYS:
                    if name in ("title", "incident") and self.doc.title is None and " " in value:
                        self.doc.title = clean_title(value)
                    self.doc.fields.setdefault(name, value)
                    continue
            body.append(re.sub(r"^\[[ xX]\]\s+", "", stripped) if kind == "item" else stripped)
        flush()


def _time_led(section: Section) -> bool:
    """Whether most of a section's blocks open with a clock time: a timeline whatever its heading says
    ("Context", "Key events", no heading at all)."""
    texts = [
        b.cells[0] if b.kind == "row" and b.cells else b.text
        for b in section.blocks
        if b.kind not in ("code", "header")
    ]
    timed = sum(1 for t in texts if TIME_LED.match(t))
    return len(texts) >= 3 and timed >= TIMELINE_SHARE * len(texts)


def _opening_section_as_lead(doc: Document, lead: str | None) -> None:
    """With no summary of its own, a document's first section, when its heading names no known part
    and comes before every known one ("Downtime on the afternoon of 3 August"), is its lead."""
    if lead != "summary" or any(s.key == "summary" for s in doc.sections):
        return
    first = next((s for s in doc.sections if s.blocks or s.key is not None), None)
    if first is not None and first.key is None and first.blocks and first.level <= 2:
        first.key = lead


def parse_markdown(
    text: str,
    *,
    source: str,
    kind: str = "markdown",
    extra_sections: tuple[tuple[str, tuple[str, ...]], ...] = (),
    lead: str | None = "summary",
) -> Document:
    """Read a Markdown or plain-text post-mortem into a ``Document``. ``lead``: the key of the text
    before the first section heading (None: leave it unkeyed)."""
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
            builder.heading(_one_line(content), int(tok.tag[1]))
            i += 3
            continue
        if tok.type == "blockquote_open":
            builder.quoted += 1
        elif tok.type == "blockquote_close":
            builder.quoted -= 1
        elif tok.type == "list_item_open":
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
                else:
                    row_kind: BlockKind = "header" if header else "row"
                    builder.add(Block(kind=row_kind, text=" — ".join(row), cells=tuple(row)))
        elif tok.type == "inline":
            before = len(doc.links)
            content, bold = _inline(tok, doc.links)
            builder.current.links.extend(doc.links[before:])
            if in_row:
                row.append(_one_line(content))
            elif content:
                builder.text(content, kind="item" if in_item else "para", bold=bold)
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            builder.add(Block(kind="code", text=tok.content.rstrip()))
        i += 1
    doc.sections = [s for s in doc.sections if s.blocks or s.heading]
    for section in doc.sections:
        if section.key in (None, "context", "other") and _time_led(section):
            section.key = "timeline"
        elif section.heading == "" and section.key is None and section.blocks:
            section.key = lead
    _opening_section_as_lead(doc, lead)
    # Links worth keeping: a references section's, and pull requests or commits anywhere.
    kept = [x for s in doc.sections if s.key == "links" for x in s.links]
    kept += [x for x in doc.links if _CHANGE_LINK.search(x)]
    doc.links = list(dict.fromkeys(kept))
    return doc
