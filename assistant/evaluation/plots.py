"""Report figures as PNG bytes (matplotlib's object API with the Agg canvas: no pyplot state)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

DPI = 80
SIZE = (6.0, 3.6)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE)
    return fig, fig.add_subplot()


def curve(series: Mapping[str, Mapping[str, float | None]], *, title: str, ylabel: str) -> bytes:
    """Lines of metric@k against k, one per series (e.g. recall and hit)."""
    fig, ax = _figure()
    for name, points in series.items():
        ks = [int(k) for k in points]
        ax.plot(ks, [points[str(k)] or 0.0 for k in ks], marker="o", label=name)
    ax.set(title=title, xlabel="k", ylabel=ylabel, ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _png(fig)


def grouped_bars(
    groups: Mapping[str, Mapping[str, float | None]], *, metrics: Sequence[str], title: str
) -> bytes:
    """Bars per group (e.g. category) for each metric."""
    fig, ax = _figure()
    names = list(groups)
    width = 0.8 / max(1, len(metrics))
    for i, metric in enumerate(metrics):
        xs = [g + i * width for g in range(len(names))]
        ax.bar(xs, [groups[n].get(metric) or 0.0 for n in names], width=width, label=metric)
    ax.set_xticks([g + width * (len(metrics) - 1) / 2 for g in range(len(names))])
    ax.set_xticklabels([n.replace("_", "\n") for n in names], fontsize=8)
    ax.set(title=title, ylim=(0, 1.05))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(metrics), frameon=False)
    return _png(fig)


def reliability(bins: Sequence[Mapping[str, Any]], *, title: str) -> bytes:
    """Observed positive rate per confidence bin against the diagonal of perfect calibration."""
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    filled = [b for b in bins if b["n"]]
    centres = [(b["lo"] + b["hi"]) / 2 for b in filled]
    ax.bar(centres, [b["observed"] for b in filled], width=0.09, alpha=0.7, label="observed share in corpus")
    for x, b in zip(centres, filled, strict=True):
        ax.annotate(str(b["n"]), (x, b["observed"]), ha="center", va="bottom", fontsize=7)
    ax.set(
        title=title,
        xlabel="seen-before confidence",
        ylabel="share really in corpus",
        xlim=(0, 1),
        ylim=(0, 1.08),
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2, frameon=False)
    return _png(fig)


def histogram(values: Sequence[float], *, title: str, xlabel: str) -> bytes:
    fig, ax = _figure()
    ax.hist(values, bins=min(30, max(5, len(values) // 4)), color="#4c72b0")
    ax.set(title=title, xlabel=xlabel, ylabel="queries")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def bars(values: Mapping[str, float | None], *, title: str) -> bytes:
    """One horizontal bar per metric (mean answer scores)."""
    fig, ax = _figure()
    names = list(values)
    ax.barh(names, [values[n] or 0.0 for n in names], color="#55a868")
    ax.set(title=title, xlim=(0, 1.02))
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)
