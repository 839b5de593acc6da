"""GitHub issue threads → ``Document``: the REST API's JSON (an issue, with its comments in a sibling
``<name>.comments.json`` or inline), ``gh issue view --json title,body,url,createdAt,labels,comments``,
or a saved issue page.

The issue body is what the reporter saw (its "What happened?" part gives the symptoms); a comment that
says what caused it becomes a root-cause section, one that says what fixed it a resolution section.
Bot comments and comments made only of ``/commands`` are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.sources.importing.document import Document, Section
from assistant.sources.importing.markdown import parse_markdown
from assistant.sources.importing.webpage import Page

# Issue templates (Kubernetes and most projects) use these headings.
ISSUE_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("detection", ("what happened", "describe the bug", "bug description", "current behavior", "problem")),
    ("other", ("what did you expect to happen", "expected behavior", "expected behaviour")),
    (
        "reproduction",
        ("how can we reproduce it", "how to reproduce", "steps to reproduce", "reproduction", "to reproduce"),
    ),
    ("other", ("anything else we need to know", "additional context")),
    (
        "environment",
        (
            "kubernetes version",
            "cloud provider",
            "os version",
            "install tools",
            "container runtime",
            "related plugins",
            "versions",
        ),
    ),
)
# A comment states the cause only in so many words; a "because" or "due to" in a comment is as often a
# guess or an aside ("might be due to the upgrade?"), so it stays discussion, weighed by the cause reader.
_CAUSE = re.compile(
    r"\b(root cause (?:is|was)|caused by|the (?:problem|issue|cause|bug) (?:is|was)|turns out|turned out|"
    r"the reason (?:is|was))\b",
    re.IGNORECASE,
)
_FIX = re.compile(
    r"\b(fixed (?:in|by)|the fix|workaround|mitigat\w*|resolved (?:by|in)|we (?:rolled back|reverted)|"
    r"/pull/\d+|fix(?:es)? #\d+|upgrad\w* to|setting \S+ to)\b",
    re.IGNORECASE,
)
_BOTS = re.compile(r"(\[bot\]$|-bot$|-robot$|^github-actions$|^k8s-ci-robot$|^k8s-triage-robot$)")
_COMMANDS_ONLY = re.compile(r"^(\s*/[a-z][\w-]*(?:\s+\S+)*\s*\n?)+$", re.IGNORECASE)
# Issue labels that say nothing about the mechanism.
_GENERIC_LABELS = frozenset(
    "kind bug enhancement question triage needs-triage priority lifecycle good-first-issue help-wanted "
    "duplicate wontfix invalid stale".split()
)
_PULL = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+/pull/\d+")


@dataclass(frozen=True)
class Comment:
    author: str
    body: str
    created_at: str | None = None


@dataclass(frozen=True)
class Thread:
    url: str
    title: str
    body: str
    created_at: str | None
    labels: list[str]
    comments: list[Comment]


def _login(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("login") or "")
    return str(value or "")


def is_issue_json(data: Any) -> bool:
    if isinstance(data, dict) and isinstance(data.get("issue"), dict):
        return True
    return (
        isinstance(data, dict)
        and "title" in data
        and ("html_url" in data or "url" in data)
        and ("body" in data)
    )


def thread_from_json(data: Any, comments: Any = None) -> Thread:
    """The REST issue object, ``{"issue": ..., "comments": [...]}``, or ``gh issue view --json``."""
    if isinstance(data, dict) and isinstance(data.get("issue"), dict):
        comments = data.get("comments") if comments is None else comments
        data = data["issue"]
    if comments is None and isinstance(data.get("comments"), list):
        comments = data["comments"]
    url = str(data.get("html_url") or data.get("url") or "")
    labels = [str(x.get("name") if isinstance(x, dict) else x) for x in data.get("labels") or []]
    parsed = [
        Comment(
            author=_login(c.get("user") or c.get("author")),
            body=str(c.get("body") or ""),
            created_at=c.get("created_at") or c.get("createdAt"),
        )
        for c in comments or []
        if isinstance(c, dict)
    ]
    return Thread(
        url=url,
        title=str(data.get("title") or "").strip(),
        body=str(data.get("body") or ""),
        created_at=data.get("created_at") or data.get("createdAt"),
        labels=labels,
        comments=parsed,
    )


def thread_from_page(page: Page) -> Thread:
    body, *rest = page.parts or [""]
    return Thread(
        url=page.url or "",
        title=page.title or "",
        body=body,
        created_at=None,
        labels=[],
        comments=[Comment(author="", body=text) for text in rest],
    )


def reply_key(body: str) -> str:
    """Where a reply belongs: ``resolution`` when it says what fixed it, ``root_cause`` when it states
    (not asks) a cause, else ``discussion``."""
    if _FIX.search(body):
        return "resolution"
    if _CAUSE.search(body) and not body.rstrip().endswith("?"):
        return "root_cause"
    return "discussion"


def thread_document(thread: Thread, *, source: str) -> Document:
    doc = parse_markdown(
        thread.body, source=source, kind="github-issue", extra_sections=ISSUE_SECTIONS, lead="detection"
    )
    doc.title = thread.title or doc.title
    doc.created_at = thread.created_at
    doc.labels = [
        label.rsplit("/", 1)[-1]
        for label in thread.labels
        if label.split("/", 1)[0] not in _GENERIC_LABELS and label not in _GENERIC_LABELS
    ]
    for n, comment in enumerate(thread.comments, start=1):
        if _BOTS.search(comment.author) or not comment.body.strip() or _COMMANDS_ONLY.match(comment.body):
            continue
        part = parse_markdown(comment.body, source=source, extra_sections=ISSUE_SECTIONS, lead=None)
        who = f" by {comment.author}" if comment.author else ""
        for section in part.sections:
            if not section.blocks:
                continue
            key = section.key
            if key is None or section.heading == "":
                key = reply_key("\n".join(section.lines()))
            doc.sections.append(
                Section(
                    heading=section.heading or f"comment {n}{who}", level=2, key=key, blocks=section.blocks
                )
            )
        doc.links.extend(part.links)
    pulls = _PULL.findall("\n".join([thread.body, *(c.body for c in thread.comments)]))
    doc.links = list(dict.fromkeys([*pulls, *(x for x in doc.links if x != source)]))
    return doc
