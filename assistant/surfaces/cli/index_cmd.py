"""``assistant index``: build and inspect the index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant import service
from assistant.corpus.loading import load_labels
from assistant.errors import LabelError
from assistant.search.index import load_current
from assistant.surfaces.cli.output import console, err_console, print_json, progress_bar, settings_with

app = typer.Typer(help="Build and inspect the search index.", no_args_is_help=True)

LabelsOpt = Annotated[
    Path | None,
    typer.Option("--labels", help="Labels folder.", show_default="$ASSISTANT_LABELS_DIR or labels"),
]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder (default: index/).")]


@app.command("build")
def build_cmd(
    labels: LabelsOpt = None,
    index: IndexOpt = None,
    strict: Annotated[bool, typer.Option(help="Fail if any label is invalid.")] = False,
    include_drafts: Annotated[
        bool, typer.Option("--include-drafts", help='Index drafts (metadata.review "draft") too.')
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Embed every valid label and swap index/current to the new build."""
    settings = settings_with(labels_dir=labels, index_dir=index)
    result = load_labels(settings.labels_dir, max_bytes=settings.max_label_bytes)
    for problem in result.problems:
        err_console.print(f"[yellow]skipped[/] {problem}", highlight=False)
    if strict and result.problems:
        raise LabelError(result.problems)
    if not result.labels and result.problems:
        raise LabelError(result.problems)
    drafts = len(result.drafts)
    if drafts and not include_drafts:
        err_console.print(
            f'[yellow]left out {drafts} draft{"s" if drafts != 1 else ""}[/] (metadata.review "draft"): '
            "review them and remove the marker, or pass --include-drafts"
        )
    with err_console.status(f"loading encoder {settings.encoder} ({settings.encoder_runtime})…"):
        encoder = service.settings_encoder(settings, threads=settings.build_threads)

    def waiting() -> None:
        err_console.print(f"another build of {settings.index_dir} is running; waiting for it to finish")

    with progress_bar("embedding passages") as update:
        report = service.build(
            settings,
            labels=result,
            encoder=encoder,
            progress=update,
            on_wait=waiting,
            include_drafts=include_drafts,
        )
    m = report.manifest
    if as_json:
        print_json(m.model_dump(mode="json"))
        return
    console.print(
        f"built {report.path} — {m.labels} labels, {m.passages} passages "
        f"({m.embedded_passages} embedded, {m.reused_passages} reused), {m.skipped_files} files skipped",
        highlight=False,
    )
    if m.drafts:
        console.print(drafts_line(m.drafts), highlight=False)


@app.command()
def info(
    index: IndexOpt = None,
    labels: LabelsOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the current build's manifest and whether labels changed since."""
    settings = settings_with(labels_dir=labels, index_dir=index)
    loaded = load_current(settings.index_dir)
    stale = loaded.stale_files(settings.labels_dir)
    m = loaded.manifest
    if as_json:
        print_json(
            {**m.model_dump(mode="json", exclude={"files"}), "path": str(loaded.path), "stale_files": stale}
        )
        return
    console.print(f"[bold]{loaded.path}[/]", highlight=False)
    console.print(
        f"built {m.built_at:%Y-%m-%d %H:%M:%S} UTC with {m.encoder} on {m.runtime} "
        f"(quantization {m.quantization}, dim {m.dim}), {m.index_type} FAISS index"
    )
    console.print(f"{m.labels} labels, {m.passages} passages")
    if m.drafts:
        console.print(drafts_line(m.drafts), highlight=False)
    if stale:
        console.print(
            f"[yellow]stale: {len(stale)} label files changed since; run `assistant index build`[/]"
        )
        for name in stale[:20]:
            console.print(f"  {name}", highlight=False)
    else:
        console.print("[green]up to date with the labels folder[/]")


def drafts_line(drafts: list[str]) -> str:
    shown = ", ".join(drafts[:5]) + (f" and {len(drafts) - 5} more" if len(drafts) > 5 else "")
    return (
        f"[yellow]includes {len(drafts)} unreviewed draft{'s' if len(drafts) != 1 else ''}[/] ({shown}): "
        "their matches are marked draft; review them and remove metadata.review"
    )
