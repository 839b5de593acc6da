"""``assistant labels import`` and ``assistant labels export``: post-mortems in, training pairs out."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from assistant.corpus.loading import load_labels
from assistant.corpus.taxonomy import Taxonomy, load_taxonomy
from assistant.corpus.training import FORMATS, ExportFormat, pairs, record, split
from assistant.diagnosis.prompts import Prompts
from assistant.errors import AssistantError
from assistant.llm.chat import ChatModel, create_chat_model
from assistant.search.results import SimilarResult
from assistant.settings import Settings
from assistant.surfaces.cli.output import console, err_console, print_json, settings_with

if TYPE_CHECKING:  # the parsers load on use (import_cmd says why)
    from assistant.sources.importing.document import Document


@dataclass(frozen=True)
class _Imported:
    file: str
    id: str


def _known(folders: list[Path]) -> tuple[set[str], dict[str, _Imported]]:
    """Ids in use, and the label each source went into, by its link (a label's first link) and by its
    content (``hash:<metadata.import.content_hash>``, so a copy under another name or link is known).
    Files that do not validate yet (drafts with TODOs) count too."""
    ids: set[str] = set()
    by_source: dict[str, _Imported] = {}
    for folder in dict.fromkeys(folders):
        for path in sorted(folder.rglob("*.json")) if folder.is_dir() else []:
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue
            ident = raw.get("id") or raw.get("perf_observation") if isinstance(raw, dict) else None
            if not isinstance(ident, str):
                continue
            ids.add(ident)
            links = raw.get("links")
            if isinstance(links, list) and links and isinstance(links[0], str):
                by_source.setdefault(links[0], _Imported(file=str(path), id=ident))
            meta = raw.get("metadata")
            imported = meta.get("import") if isinstance(meta, dict) else None
            if isinstance(imported, dict) and isinstance(imported.get("content_hash"), str):
                by_source.setdefault("hash:" + imported["content_hash"], _Imported(file=str(path), id=ident))
    return ids, by_source


def _chat_model(settings: Settings, backend: str | None, use_model: bool | None) -> ChatModel | None:
    if use_model is False:
        return None
    name = backend or ("openai" if settings.openai_base_url else None)
    if name is None:
        if use_model:
            raise AssistantError(
                "--model needs an endpoint", hint="set ASSISTANT_OPENAI_BASE_URL (and _MODEL), or --backend"
            )
        return None
    return create_chat_model(name, settings)


def _search(settings: Settings, wanted: bool | None) -> Callable[[str], SimilarResult] | None:
    """The built index's search, for linking similar incidents; None when not wanted, or when no index
    is built and linking was not asked for (asked for, a missing index is an error saying what to run)."""
    if wanted is False:
        return None
    from assistant.service import Assistant

    try:
        assistant = Assistant.from_settings(settings)
    except AssistantError:
        if wanted:
            raise
        return None
    return lambda text: assistant.similar(text, k=3)


def register(app: typer.Typer) -> None:
    """``labels import`` and ``labels export`` on the ``labels`` app."""
    app.command("import")(import_cmd)
    app.command("export")(export_cmd)


def import_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Post-mortems (.md, .txt, .html) or GitHub issues (.json), or folders."),
    ],
    out: Annotated[Path | None, typer.Option(help="Where drafts go (default: the labels folder).")] = None,
    subtype: Annotated[str | None, typer.Option(help="Set the subtype instead of inferring it.")] = None,
    link: Annotated[
        str | None, typer.Option(help="Public address of the source (one PATH), kept in links.")
    ] = None,
    use_model: Annotated[
        bool | None,
        typer.Option(
            "--model/--no-model",
            help="Ask the configured model to fill gaps (default: if ASSISTANT_OPENAI_BASE_URL is set).",
        ),
    ] = None,
    backend: Annotated[str | None, typer.Option(help="Model backend for --model (default: openai).")] = None,
    force: Annotated[
        bool, typer.Option(help="Re-import a source already imported, replacing its draft.")
    ] = False,
    similar: Annotated[
        bool | None,
        typer.Option(
            "--similar/--no-similar",
            help="Link the most similar past incidents in related_incidents (default: if an index is built).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Turn post-mortems and issue threads into draft labels, and say what each could not fill."""
    # Here, not at the top: importing the parsers (markdown-it, HTML, GitHub threads) would slow every
    # other command's start-up.
    from assistant.sources.importing import source_files

    settings = settings_with()
    target = out or settings.labels_dir
    taxonomy, problems = load_taxonomy(settings.labels_dir)
    for problem in problems:
        err_console.print(f"[yellow]taxonomy:[/] {problem}", highlight=False)
    if subtype is not None and taxonomy.category_of(subtype) is None:
        err_console.print(f"[red]error:[/] {taxonomy.unknown_subtype_message(subtype)}", highlight=False)
        raise typer.Exit(2)
    files = source_files(paths)
    if link is not None and len(files) != 1:
        err_console.print("[red]error:[/] --link names the source of one file; give one PATH with it")
        raise typer.Exit(2)
    model = _chat_model(settings, backend, use_model)
    search = _search(settings, similar)
    ids, by_source = _known([target, settings.labels_dir])
    importer = _Importer(
        target=target,
        taxonomy=taxonomy,
        subtype=subtype,
        link=link,
        force=force,
        model=model,
        prompts=Prompts(settings.prompts_dir) if model else None,
        ids=ids,
        by_source=by_source,
        similar=search,
    )
    results: list[dict[str, Any]] = []
    for path in files:
        result = importer.one(path)
        results.append(result)
        if "file" in result and not as_json:
            _print_drafted(result)
    written = sum(1 for r in results if "file" in r)
    if as_json:
        print_json(results)
    elif written:
        err_console.print(
            f"{written} draft{'s' if written != 1 else ''} written. Review each: replace every TODO, "
            'check the subtype, then delete "review": "draft" from its metadata and run '
            "`assistant labels validate` and `assistant index build`."
        )
    if any("error" in r for r in results):
        raise typer.Exit(1)


@dataclass
class _Importer:
    """Imports one source file after another into ``target``, keeping ``ids`` and ``by_source`` up to
    date so that later files neither reuse an id nor import a source twice."""

    target: Path
    taxonomy: Taxonomy
    subtype: str | None
    link: str | None
    force: bool
    model: ChatModel | None
    prompts: Prompts | None
    ids: set[str]
    by_source: dict[str, _Imported]
    similar: Callable[[str], SimilarResult] | None = None
    """Searches the built index for incidents like a draft, to link them (None: no index)."""

    def one(self, path: Path) -> dict[str, Any]:
        """Import ``path``; its entry in the results: ``file`` when drafted, ``skipped`` or ``error``."""
        from assistant.sources.importing import SourceError, read_source
        from assistant.sources.importing.draft import suggest_id

        try:
            doc = read_source(path, link=self.link)
        except SourceError as exc:
            err_console.print(f"[red]cannot import[/] {exc}", highlight=False)
            return {"source": str(path), "error": str(exc)}
        same = self.by_source.get(f"hash:{doc.content_hash}") if doc.content_hash else None
        previous = self.by_source.get(doc.source) or same
        if previous is not None and not self.force:
            err_console.print(
                f"[yellow]skipped[/] {path}: already imported as {previous.file} (--force replaces it)",
                highlight=False,
            )
            return {"source": doc.source, "skipped": previous.file}
        if previous is not None:
            incident_id = previous.id
            Path(previous.file).unlink(missing_ok=True)
        else:
            incident_id = suggest_id(doc, fallback=_fallback_id(doc.source, path))
            base, n = incident_id, 2
            while incident_id in self.ids:
                incident_id, n = f"{base[:60]}-{n}", n + 1
        self.ids.add(incident_id)
        return self._draft(doc, path, incident_id)

    def _draft(self, doc: Document, path: Path, incident_id: str) -> dict[str, Any]:
        from assistant.sources.importing.draft import DraftError, draft_label
        from assistant.sources.importing.model_fill import fill

        draft = draft_label(doc, taxonomy=self.taxonomy, incident_id=incident_id, subtype=self.subtype)
        notes = (
            fill(draft, doc, model=self.model, taxonomy=self.taxonomy, prompts=self.prompts)
            if self.model and self.prompts
            else []
        )
        if self.similar is not None and (query := draft.query()):
            draft.link_related(m.id for m in self.similar(query).matches)
        try:
            file = draft.save(self.target, taxonomy=self.taxonomy)
        except DraftError as exc:  # the importer wrote something the label model refuses: write nothing
            err_console.print(f"[red]cannot import[/] {path}: {exc}", highlight=False)
            return {"source": doc.source, "error": str(exc)}
        meta = draft.label["metadata"]
        self.by_source[doc.source] = _Imported(file=str(file), id=incident_id)
        if doc.content_hash:
            self.by_source[f"hash:{doc.content_hash}"] = self.by_source[doc.source]
        info = draft.inference
        return {
            "source": doc.source,
            "file": str(file),
            "id": incident_id,
            "category": meta.get("category"),
            "subtype": meta.get("subtype"),
            "confidence": info.confidence,
            "alternatives": [name for name, _ in info.alternatives],
            "related": draft.label.get("related_incidents", []),
            "unfilled": draft.unfilled,
            "model_fields": meta["import"].get("model_fields", []),
            "notes": notes,
        }


def _print_drafted(result: dict[str, Any]) -> None:
    alternatives = result["alternatives"]
    also = f"; also {', '.join(alternatives)}" if alternatives else ""
    console.print(
        f"[green]drafted[/] {result['file']} — {result['category']}/{result['subtype']} "
        f"(confidence {result['confidence']:.2f}{also})",
        highlight=False,
    )
    if result["related"]:
        console.print(f"  similar past incidents: {', '.join(result['related'])}", highlight=False)
    for item in result["unfilled"]:
        console.print(f"  could not fill {item}", highlight=False)
    for note in result["notes"]:
        console.print(f"  {note}", highlight=False)


def export_cmd(
    path: Annotated[Path | None, typer.Argument(help="Labels folder (default: the labels folder).")] = None,
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = "chat-jsonl",
    out: Annotated[
        Path, typer.Option(help="Folder for train.jsonl, validation.jsonl, manifest.json.")
    ] = Path("export"),
    fraction: Annotated[
        float,
        typer.Option("--split", min=0.0, max=0.9, help="Share of incidents held out for validation."),
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the train/validation split.")] = 0,
    include_drafts: Annotated[bool, typer.Option("--include-drafts", help="Export drafts too.")] = False,
) -> None:
    """Write supervised pairs (symptoms → diagnosis, remediation, prevention), split by incident."""
    if fmt not in FORMATS:
        err_console.print(f"[red]error:[/] unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    export_format: ExportFormat = "chat-jsonl" if fmt == "chat-jsonl" else "alpaca"
    root = path or settings_with().labels_dir
    result = load_labels(root)
    if result.problems:
        err_console.print(
            f"[yellow]{len({p.file for p in result.problems})} invalid label files left out[/]; "
            "see `assistant labels validate`"
        )
    chosen = result.labels if include_drafts else [x for x in result.labels if not x.label.is_draft]
    made, skipped = pairs(chosen)
    if not made:
        err_console.print(f"[red]error:[/] no labels to export from {root}; check the folder")
        raise typer.Exit(2)
    train, validation = split(made, fraction=fraction, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("validation", validation)):
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for pair in part:
                fh.write(json.dumps(record(pair, export_format), ensure_ascii=False) + "\n")
    manifest = {
        "format": export_format,
        "split": fraction,
        "seed": seed,
        "train": sorted(p.incident_id for p in train),
        "validation": sorted(p.incident_id for p in validation),
        "skipped": [{"id": i, "reason": why} for i, why in skipped],
        "drafts_left_out": 0 if include_drafts else len(result.labels) - len(chosen),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    console.print(
        f"wrote {len(train)} train and {len(validation)} validation examples ({export_format}) to {out}"
        + (f"; {len(skipped)} labels skipped (see manifest.json)" if skipped else ""),
        highlight=False,
    )


def _fallback_id(source: str, path: Path) -> str:
    m = re.match(r"https://github\.com/([\w.-]+)/([\w.-]+)/issues/(\d+)", source)
    if m:
        return f"gh-{m.group(1)}-{m.group(2)}-{m.group(3)}"
    return path.stem
