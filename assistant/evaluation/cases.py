"""Eval data files: gold cases (``eval/queries.jsonl``) and answers to score (any LLM's or person's).

Formats are documented in ``eval/README.md``. Loading reports every bad line as ``file:line: message``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import AssistantError

BUNDLED_DIR = Path(__file__).resolve().parent / "data"
"""The eval cases and thresholds the package ships; a checkout's ``eval/`` links to them."""


def eval_file(name: str) -> Path:
    """``eval/<name>`` under the working folder when there is one (a checkout, your own cases), else the
    copy the package ships, so ``assistant eval`` works from an installed wheel too."""
    local = Path("eval") / name
    return local if local.exists() else BUNDLED_DIR / name


class EvalDataError(AssistantError):
    """An eval input file is missing or malformed."""

    hint = "see eval/README.md for the file formats"


class GoldCase(BaseModel):
    """One eval query. ``relevant=[]`` means the corpus has no incident for it (a seen-before negative);
    ``relevant=null`` (feedback exports awaiting review) means unlabelled, and retrieval runs skip it.
    Dev-set cases (``eval/real.jsonl``) have no ``relevant``: their gold is the ``subtype`` (null: no
    home in the taxonomy) and the ``root_cause`` line, kept as extra fields."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    query: str = Field(min_length=1)
    category: str | None = None
    subtype: str | None = None
    relevant: list[str] | None = None


class AnswerRecord(BaseModel):
    """One answer to score. ``cited``: the incident ids it cites (found in the text when absent);
    ``contexts``: the passages the answerer was given (our retrieval's when absent)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    query: str | None = None
    answer: str
    cited: list[str] | None = None
    contexts: list[str] | None = None


M = TypeVar("M", bound=BaseModel)


def read_jsonl(path: Path, model: type[M]) -> list[M]:
    if not path.is_file():
        raise EvalDataError(f"{path}: no such file")
    items: list[M] = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                items.append(model.model_validate_json(line))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "line"
                raise EvalDataError(f"{path}:{number}: {where}: {first['msg']}") from None
    return items


def load_cases(path: Path) -> list[GoldCase]:
    """Gold cases, ids unique; unlabelled ones (``relevant: null``) included (callers skip them)."""
    cases = read_jsonl(path, GoldCase)
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise EvalDataError(f"{path}: duplicate case id {case.id!r}")
        seen.add(case.id)
    if not cases:
        raise EvalDataError(f"{path}: no cases")
    return cases


def load_answers(path: Path) -> list[AnswerRecord]:
    answers = read_jsonl(path, AnswerRecord)
    if not answers:
        raise EvalDataError(f"{path}: no answers")
    return answers


def write_jsonl(path: Path, rows: list[BaseModel] | list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            data = row.model_dump(mode="json") if isinstance(row, BaseModel) else row
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
