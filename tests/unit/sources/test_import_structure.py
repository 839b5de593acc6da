"""How an imported document is read into sections: the lead paragraph, front matter, HTML fragments,
headings that are questions or times, and a hash of what the document says.

Every document here is written for the test.
"""

from __future__ import annotations

from pathlib import Path

from assistant.corpus.taxonomy import BUILTIN
from assistant.sources.importing import read_source
from assistant.sources.importing.document import content_hash
from assistant.sources.importing.draft import draft_label

FRONT = '---\nlayout: post\ntitle: "Post-mortem: Slow builds on May 3, 2026"\nauthor: Build team\n'


def test_the_lead_paragraph_under_the_title_is_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "pm.md"
    path.write_text(
        "# Slow builds\n\nBuilds took three times longer than usual for a morning.\n\n"
        "## Impact\n\nDevelopers waited.\n"
    )
    label = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="pm-t").label
    assert label["summary"] == "Builds took three times longer than usual for a morning."


def test_front_matter_gives_title_date_author_and_tags(tmp_path: Path) -> None:
    path = tmp_path / "pm.md"
    path.write_text(f"{FRONT}date: 2026-05-04\ntags: [ci, disk]\n---\n\nThe build cache filled the disk.\n")
    doc = read_source(path)
    assert doc.title == "Slow builds on May 3, 2026"
    assert (doc.fields["date"], doc.fields["author"]) == ("2026-05-04", "Build team")
    assert doc.labels == ["ci", "disk"]
    assert "layout" not in doc.full_text()


def test_an_html_fragment_under_front_matter_is_read(tmp_path: Path) -> None:
    path = tmp_path / "pm.html"
    path.write_text(
        f"{FRONT}---\n<p>During the upgrade the build hosts ran out of disk space.</p>\n"
        "<h2>Resolution</h2>\n<p>We deleted the old caches and restarted the agents.</p>\n"
    )
    label = draft_label(read_source(path), taxonomy=BUILTIN, incident_id="pm-t").label
    assert label["title"] == "Slow builds on May 3, 2026"
    assert label["analysis"]["root_cause"] == "During the upgrade the build hosts ran out of disk space."
    assert label["resolution"]["immediate_actions"] == ["We deleted the old caches and restarted the agents."]


def test_the_same_text_laid_out_differently_has_the_same_hash(tmp_path: Path) -> None:
    one, two = tmp_path / "a.md", tmp_path / "b.markdown"
    one.write_text("# Slow builds\n\nThe **cache** filled the disk.\n")
    two.write_text("#  Slow   builds\r\n\r\nThe cache filled\r\nthe disk.\r\n")
    assert (
        read_source(one).content_hash
        == read_source(two).content_hash
        == content_hash("slow builds the cache filled the disk")
    )
    assert read_source(one).content_hash != content_hash("The cache filled the memory.")
    label = draft_label(read_source(one), taxonomy=BUILTIN, incident_id="pm-t").label
    assert label["metadata"]["import"]["content_hash"] == read_source(one).content_hash


def test_retro_questions_and_sibling_pseudo_headings(tmp_path: Path) -> None:
    path = tmp_path / "pm.md"
    path.write_text(
        "# Cache outage\n\n## Review\n\n### Were we able to fix it quickly?\n\nNo, the fix took an hour.\n\n"
        "- **Impact**: the shop was slow\n- **Resolution**: restarted the cache nodes\n"
        "- **Review actions**:\n  - add a cache alert\n"
    )
    doc = read_source(path)
    keys = [(s.heading, s.key, s.level) for s in doc.sections if s.heading]
    assert ("Were we able to fix it quickly?", "lessons", 3) in keys
    # pseudo-headings in one list are siblings under the last real heading, not nested in each other
    assert [(k, level) for h, k, level in keys if h in ("Impact", "Resolution", "Review actions")] == [
        ("impact", 4),
        ("resolution", 4),
        ("action_items", 4),
    ]


def test_a_list_of_timed_events_is_a_timeline_whatever_its_heading(tmp_path: Path) -> None:
    path = tmp_path / "pm.md"
    path.write_text(
        "# Cache outage\n\n## Context\n\n- 2026-02-01 10:00: cache errors\n- 2026-02-01 10:05: paged\n"
        "- 2026-02-01 10:20: cache restarted\n"
    )
    assert [s.key for s in read_source(path).sections if s.heading == "Context"] == ["timeline"]
