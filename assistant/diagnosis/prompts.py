"""Prompt templates: Jinja2 files in ``prompts/`` rendered with ``StrictUndefined``.

``Settings.prompts_dir`` points at a folder of your own templates; a template missing there is taken
from the bundled folder, so overriding one file is enough.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError

from assistant.errors import AssistantError

BUNDLED_DIR = Path(__file__).resolve().parent / "templates"
SYSTEM = "system.j2"
DIAGNOSIS = "diagnosis.j2"
PASSAGES = "passages.j2"
QUOTE_PREFIX = "| "


class PromptError(AssistantError):
    """A prompt template is missing or does not render."""

    hint = "check the templates in ASSISTANT_PROMPTS_DIR against the bundled prompts/ folder"


def quote(text: str) -> str:
    """Every line prefixed with ``| ``; ``<<<`` and ``>>>`` defused so data cannot fake a delimiter."""
    text = re.sub(r"<{3,}", "‹‹‹", re.sub(r">{3,}", "›››", str(text)))
    return "\n".join(QUOTE_PREFIX + line for line in text.splitlines() or [""])


class Prompts:
    def __init__(self, folder: Path | None = None) -> None:
        folders = [BUNDLED_DIR]
        if folder is not None:
            if not Path(folder).is_dir():
                raise PromptError(f"prompt folder {folder} does not exist")
            folders.insert(0, Path(folder))
        self.folders = folders
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=False,
        )
        self.env.filters["quote"] = quote

    def render(self, name: str, **data: Any) -> str:
        try:
            return self.env.get_template(name).render(**data).strip()
        except TemplateError as exc:
            raise PromptError(f"prompt {name}: {type(exc).__name__}: {exc}") from None
