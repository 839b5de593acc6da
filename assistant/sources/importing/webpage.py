"""A saved HTML page (a status-page report, an engineering blog post, a GitHub issue) → Markdown text,
so that the Markdown reader does the rest.

Navigation, headers, footers, scripts and forms are dropped; when the page has an ``<article>`` or
``<main>`` only that is read. A fragment with no ``<body>`` (a static-site generator's source page, the
HTML under its front matter) is read whole. On a GitHub issue page each ``markdown-body`` element (the
issue, then each comment) becomes one part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_SKIP = frozenset(
    {"script", "style", "noscript", "svg", "nav", "header", "footer", "aside", "form", "button"}
)
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "source", "wbr", "area", "col", "base"})
_BLOCK = frozenset(
    {"p", "div", "section", "li", "tr", "pre", "blockquote", "dt", "dd", "table", "ul", "ol", "article"}
)
GITHUB_ISSUE_URL = re.compile(r"https://github\.com/[^/\s]+/[^/\s]+/issues/\d+")


@dataclass
class Page:
    title: str | None = None
    url: str | None = None
    parts: list[str] = field(default_factory=list)
    """Markdown text: the whole page, or one part per issue body / comment on a GitHub issue page."""
    links: list[str] = field(default_factory=list)

    @property
    def is_github_issue(self) -> bool:
        return bool(self.url and GITHUB_ISSUE_URL.match(self.url))


class _Reader(HTMLParser):
    def __init__(self, *, scope: str) -> None:
        super().__init__(convert_charrefs=True)
        self.scope = scope  # "body", "article", "markdown-body" or "fragment" (all of it)
        self.stack: list[tuple[str, bool]] = []  # (tag, opens a captured scope)
        self.skip = 0
        self.inside = 1 if scope == "fragment" else 0
        self.parts: list[list[str]] = [[]] if scope == "fragment" else []
        self.title_parts: list[str] = []
        self.in_title = False
        self.meta: dict[str, str] = {}
        self.links: list[str] = []
        self.pre = 0
        self.cells: list[str] | None = None
        self.data_row = False

    @property
    def out(self) -> list[str]:
        return self.parts[-1]

    def _emit(self, text: str) -> None:
        if self.inside and not self.skip and self.parts:
            if self.cells is not None:
                self.cells[-1:] = [self.cells[-1] + text] if self.cells else [text]
            else:
                self.out.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "title":
            self.in_title = True
        if tag == "meta":
            key = attr.get("property") or attr.get("name") or ""
            if key in ("og:title", "og:url"):
                self.meta[key] = attr.get("content", "")
        if tag == "link" and "canonical" in attr.get("rel", ""):
            self.meta["canonical"] = attr.get("href", "")
        if tag in _VOID:
            if tag == "br":
                self._emit("\n")
            return
        opens = self._opens_scope(tag, attr)
        self.stack.append((tag, opens))
        if opens:
            if self.inside == 0:
                self.parts.append([])
            self.inside += 1
        if tag in _SKIP:
            self.skip += 1
        if tag == "a" and attr.get("href", "").startswith(("http://", "https://")) and self.inside:
            self.links.append(attr["href"])
        if re.fullmatch(r"h[1-6]", tag):
            self._emit("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self._emit("\n- ")
        elif tag == "pre":
            self.pre += 1
            self._emit("\n\n```\n")
        elif tag == "tr":
            self.cells, self.data_row = [], False
        elif tag in ("td", "th") and self.cells is not None:
            self.cells.append("")
            self.data_row = self.data_row or tag == "td"
        elif tag in ("strong", "b"):
            self._emit("**")
        elif tag == "code" and not self.pre:
            self._emit("`")
        elif tag in _BLOCK:
            self._emit("\n\n")

    def _opens_scope(self, tag: str, attr: dict[str, str]) -> bool:
        if self.scope == "fragment":
            return False
        if self.scope == "body":
            return tag == "body"
        if self.scope == "article":
            return tag in ("article", "main")
        return (
            "markdown-body" in attr.get("class", "").split()
            or "comment-body" in attr.get("class", "").split()
        )

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _VOID or not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            top, opened = self.stack.pop()
            self._close(top)
            if opened:
                self.inside -= 1
            if top == tag:
                break

    def _close(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip -= 1
        if tag == "pre":
            self._emit("\n```\n\n")
            self.pre -= 1
        elif tag == "tr" and self.cells is not None:
            cells = [re.sub(r"\s+", " ", c).strip() for c in self.cells]
            self.cells = None
            if any(cells) and self.data_row:
                self._emit("\n- " + " — ".join(c for c in cells if c) + "\n")
        elif tag in ("strong", "b"):
            self._emit("**")
        elif tag == "code" and not self.pre:
            self._emit("`")
        elif re.fullmatch(r"h[1-6]", tag) or tag in _BLOCK:
            self._emit("\n\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
        if self.pre:
            self._emit(data)
        else:
            self._emit(re.sub(r"\s+", " ", data))


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\*\*\s*\*\*", "", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def read_page(html: str) -> Page:
    """The readable text of a saved page, as Markdown."""
    probe = _Reader(scope="body")
    head = html[: html.find("<body")] if "<body" in html else html[:20000]
    probe.feed(head)
    url = probe.meta.get("og:url") or probe.meta.get("canonical") or None
    is_issue = bool(url and GITHUB_ISSUE_URL.match(url))
    if is_issue:
        scope = "markdown-body"
    elif re.search(r"<(article|main)[\s>]", html, re.IGNORECASE):
        scope = "article"
    elif re.search(r"<body[\s>]", html, re.IGNORECASE):
        scope = "body"
    else:
        scope = "fragment"
    reader = _Reader(scope=scope)
    reader.feed(html)
    reader.close()
    title = reader.meta.get("og:title") or "".join(reader.title_parts).strip() or None
    if title and is_issue:
        title = re.split(r"\s+·\s+Issue #\d+", title)[0]
    elif title:
        title = re.split(r"\s+[|·–—-]\s+(?=[^|·–—-]*$)", title)[0].strip()
    parts = [_tidy("".join(p)) for p in reader.parts]
    return Page(
        title=title,
        url=url,
        parts=[p for p in parts if p],
        links=list(dict.fromkeys(reader.links)),
    )
