"""Domain errors. The core raises these; each surface maps them to a status, exit code or message."""

from __future__ import annotations

from dataclasses import dataclass


class AssistantError(Exception):
    """Base class: a problem the user can fix. ``hint`` says how."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint or self.hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}; {self.hint}" if self.hint else base


@dataclass(frozen=True)
class LabelProblem:
    """One problem in one label file, located by a JSON path such as ``$.analysis.evidence[2]``."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


class LabelError(AssistantError):
    """One or more label files are invalid."""

    def __init__(self, problems: list[LabelProblem]) -> None:
        self.problems = problems
        head = str(problems[0]) if problems else "invalid label"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(head + more, hint="run `assistant labels validate` to list every problem")


class IndexMissing(AssistantError):
    hint = "run `assistant index build` to create it"


class IndexMismatch(AssistantError):
    hint = "run `assistant index build` to rebuild it with the configured encoder"


class IndexCorrupt(AssistantError):
    hint = "run `assistant index build` to write a fresh one"


class QueryError(AssistantError):
    """The query itself is unusable (empty, too long)."""


class NotFound(AssistantError):
    """An incident id that is not in the index."""


class BackendUnavailable(AssistantError):
    """A configured model or endpoint cannot be used."""


class NotReady(AssistantError):
    """A server has not loaded its index yet, or the load failed; ``hint`` says what to run."""

    hint = "retry shortly; /readyz says when the service is ready"
