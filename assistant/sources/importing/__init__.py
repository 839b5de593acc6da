"""Post-mortems and issue threads → draft labels.

``read_source`` reads a file into a ``Document`` (``markdown``: Markdown and plain text; ``webpage``: saved
HTML pages; ``github``: issue threads; ``frontmatter``: a page's YAML front matter), ``draft.draft_label``
maps it onto the label format: ``cause`` picks the sentence that states the root cause, ``fix`` what
restored service, ``timeline`` and ``started`` (with ``when`` for dates and zones) when it began in UTC,
``classify`` (with the phrases in ``cues``) the taxonomy cell, ``metrics`` the before → after figures,
``infer`` services, severity and versions; ``conversation`` reads a saved Slack thread or an Alertmanager
alert group. ``model_fill`` optionally asks a model for the fields the
structure did not give, and checks every answer against the source.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from assistant.errors import AssistantError
from assistant.sources.alerts import AlertmanagerPayload
from assistant.sources.importing.conversation import (
    alert_group_document,
    chat_document,
    is_alert_group,
    is_slack_thread,
    slack_messages,
)
from assistant.sources.importing.document import Document, content_hash
from assistant.sources.importing.frontmatter import FrontMatter, split_front_matter
from assistant.sources.importing.github import (
    is_issue_json,
    thread_document,
    thread_from_json,
    thread_from_page,
)
from assistant.sources.importing.markdown import clean_title, parse_markdown
from assistant.sources.importing.webpage import read_page

SUFFIXES = (".md", ".markdown", ".txt", ".text", ".json", ".html", ".htm")
COMMENTS_SUFFIX = ".comments.json"
MAX_BYTES = 5_000_000


class SourceError(AssistantError):
    """A source file that cannot be imported."""


def source_files(paths: list[Path]) -> list[Path]:
    """The files to import: the paths given, and the importable files inside folders given."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.endswith(COMMENTS_SUFFIX)
            )
        else:
            out.append(path)
    return out


def read_source(path: Path, *, link: str | None = None) -> Document:
    """The document in one file. ``link``: the public address of the source, kept in ``links``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file", hint="check the path") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read it ({exc.strerror})", hint="check the path") from None
    if len(data) > MAX_BYTES:
        raise SourceError(
            f"{path}: {len(data):,} bytes is more than a post-mortem",
            hint=f"import files under {MAX_BYTES:,} bytes, or cut it to the write-up",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not UTF-8 text", hint="save it as UTF-8 and import it again") from None
    doc = _document(path, text, link=link)
    doc.content_hash = content_hash(text)
    return doc


def _document(path: Path, text: str, *, link: str | None) -> Document:
    suffix = path.suffix.lower()
    source = link or str(path)
    if suffix == ".json":
        return _json_source(path, text, link=link)
    matter, body = split_front_matter(text)
    if suffix in (".html", ".htm") or body.lstrip()[:200].lower().startswith(("<!doctype html", "<html")):
        page = read_page(body)
        if page.is_github_issue:
            return thread_document(thread_from_page(page), source=link or page.url or source)
        doc = parse_markdown("\n\n".join(page.parts), source=link or page.url or source, kind="html")
        doc.title = doc.title or page.title
        return _with_front_matter(doc, matter)
    if not body.strip():
        raise SourceError(f"{path}: the file is empty", hint="import the post-mortem's text")
    kind = "markdown" if suffix in (".md", ".markdown") else "text"
    doc = _with_front_matter(parse_markdown(body, source=source, kind=kind), matter)
    if link is None:
        stated = doc.fields.get("source") or doc.fields.get("url")
        if stated and stated.startswith(("http://", "https://")):
            doc.source = stated
    return doc


def _with_front_matter(doc: Document, matter: FrontMatter) -> Document:
    """The page's front matter under what the document itself says: its title when the text has no
    top heading, its fields where the text has none of the same name, its tags as the source's tags."""
    if doc.title is None and matter.fields.get("title"):
        doc.title = clean_title(matter.fields["title"])
    for key, value in matter.fields.items():
        if key != "title":
            doc.fields.setdefault(key, value)
    doc.labels = list(dict.fromkeys([*doc.labels, *matter.tags]))
    return doc


def _json_source(path: Path, text: str, *, link: str | None) -> Document:
    """A GitHub issue, a saved Slack thread or an Alertmanager alert group, told apart by shape."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            hint="save the API's answer as it came (gh api repos/OWNER/REPO/issues/N > issue.json)",
        ) from None
    if is_slack_thread(data):
        return chat_document(slack_messages(data), source=link or str(path))
    if is_alert_group(data):
        try:
            payload = AlertmanagerPayload.model_validate(data)
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise SourceError(
                f"{path}: not an Alertmanager webhook payload ($.{where}: {exc.errors()[0]['msg']})",
                hint="save the body Alertmanager posts to a webhook receiver (version 4)",
            ) from None
        return alert_group_document(payload, source=link or payload.external_url or str(path))
    if not is_issue_json(data):
        raise SourceError(
            f"{path}: not a GitHub issue, a Slack thread or an alert group (expected an issue's title, "
            "body and html_url, a thread's messages, or Alertmanager's alerts)",
            hint="save an issue with `gh api repos/OWNER/REPO/issues/N`, a thread with "
            "`conversations.replies`, or the body Alertmanager posts to a webhook",
        )
    comments = None
    sibling = path.with_name(path.name.removesuffix(".json") + COMMENTS_SUFFIX)
    if sibling.is_file():
        try:
            comments = json.loads(sibling.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(f"{sibling}: unreadable comments ({exc})", hint="save it again") from None
        if not isinstance(comments, list):
            raise SourceError(f"{sibling}: expected a JSON list of comments", hint="save it again")
    thread = thread_from_json(data, comments)
    return thread_document(thread, source=link or thread.url or str(path))
