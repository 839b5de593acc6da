"""The TOML files beside the labels (``taxonomy.toml``, ``vocabulary.toml``): read and checked against a
model, every problem reported with its file and path, never raised."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from assistant.errors import LabelProblem

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path, model: type[M]) -> tuple[M | None, list[LabelProblem]]:
    """``path`` parsed as ``model``, or None with the problems that stopped it."""
    source = str(path)
    try:
        return model.model_validate(tomllib.loads(path.read_text(encoding="utf-8"))), []
    except (OSError, UnicodeDecodeError) as exc:
        return None, [LabelProblem(source, "$", f"cannot read file: {exc}")]
    except tomllib.TOMLDecodeError as exc:
        return None, [LabelProblem(source, "$", f"invalid TOML: {exc}")]
    except ValidationError as exc:
        return None, [
            LabelProblem(source, "$." + ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()
        ]
