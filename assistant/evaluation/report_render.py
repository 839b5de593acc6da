"""Render a report: Markdown (tables) and a self-contained HTML page (tables + base64 PNG figures)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from assistant.evaluation.report_tables import Report, Table

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f8} td{max-width:420px;overflow-wrap:anywhere} .note{color:#666;font-size:12px}
.figures{display:flex;flex-wrap:wrap;gap:1rem} figure{margin:0} figcaption{font-size:12px;color:#555}
"""


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> str:
    lines = [f"## {table.title}", ""]
    if table.note:
        lines += [f"_{table.note}_", ""]
    if not table.rows:
        return "\n".join([*lines, "(none)", ""])
    lines.append("| " + " | ".join(_md_cell(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join([*lines, ""])


def to_markdown(report: Report) -> str:
    return "\n".join([f"# {report.title}", "", *(markdown_table(t) for t in report.tables)])


def _html_table(table: Table) -> str:
    e = html.escape
    parts = [f"<h2>{e(table.title)}</h2>"]
    if table.note:
        parts.append(f'<p class="note">{e(table.note)}</p>')
    if not table.rows:
        parts.append("<p>(none)</p>")
        return "\n".join(parts)
    head = "".join(f"<th>{e(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "\n".join(parts)


def to_html(report: Report, figures: Sequence[tuple[str, bytes]]) -> str:
    """One HTML file with everything inline (CSS, figures as data: URIs): safe to mail or attach."""
    e = html.escape
    figs = "".join(
        f'<figure><img alt="{e(title)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"<figcaption>{e(title)}</figcaption></figure>"
        for title, png in figures
    )
    tables = [_html_table(t) for t in report.tables]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(report.title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{e(report.title)}</h1>"
        + tables[0]
        + (f'<h2>Figures</h2><div class="figures">{figs}</div>' if figs else "")
        + "\n".join(tables[1:])
        + "</body></html>\n"
    )
