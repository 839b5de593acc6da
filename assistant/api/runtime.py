"""What the service keeps between requests: settings, metrics, and the Assistant once it is loaded.

The index and encoder load once, in a worker thread started by the app's lifespan, so ``/healthz``
answers while a model loads. If loading fails (no index, stale encoder), the reason is kept for
``/readyz``; loading is tried again when the ``index/current`` pointer changes, e.g. after
``assistant index build``, so the service becomes ready without a restart.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Literal

from ..core import Assistant
from ..encoders import set_torch_threads
from ..errors import AssistantError
from ..index import current_dir
from ..passages import Passage
from ..settings import Settings
from .errors import ApiError
from .instrumented import InstrumentedAssistant
from .metrics import Metrics

log = logging.getLogger("assistant.api")

State = Literal["loading", "ready", "failed"]


@dataclass(frozen=True)
class Status:
    state: State
    reason: str = ""
    hint: str = ""


class Runtime:
    def __init__(self, settings: Settings, *, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.stale_files: list[str] = []
        self._passages: dict[str, list[Passage]] = {}
        self._assistant: Assistant | None = None
        self._status = Status("loading", "the index and encoder are loading")
        self._failed_at: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._loaded = threading.Event()

    # -- loading ---------------------------------------------------------------------------------

    def _pointer(self) -> tuple[str, int]:
        """Which build ``index/current`` points at, to notice a new build after a failed load."""
        current = current_dir(self.settings.index_dir)
        try:
            target = os.readlink(current)
        except OSError:
            target = ""
        try:
            mtime = (current / "manifest.json").stat().st_mtime_ns
        except OSError:
            mtime = 0
        return target, mtime

    def load(self) -> None:
        """Load the index and encoder unless loaded or already loading elsewhere (never raises)."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._assistant is not None:
                return
            pointer = self._pointer()
            self._status = Status("loading", "the index and encoder are loading")
            try:
                assistant = InstrumentedAssistant.from_settings(self.settings)
                if isinstance(assistant, InstrumentedAssistant):
                    assistant.metrics = self.metrics
            except AssistantError as exc:
                self._failed(pointer, Status("failed", Exception.__str__(exc), exc.hint))
                log.warning("index not loaded: %s", exc)
                return
            except Exception as exc:  # a broken model install must not kill the process
                log.exception("index or encoder failed to load")
                reason = f"the index or encoder failed to load ({type(exc).__name__}); see the server log"
                self._failed(pointer, Status("failed", reason, "run `assistant index build`, then restart"))
                return
            self._ready(assistant)
        finally:
            self._lock.release()

    def _failed(self, pointer: tuple[str, int], status: Status) -> None:
        self._failed_at = pointer
        self._status = status
        self._loaded.set()

    def _ready(self, assistant: Assistant) -> None:
        set_torch_threads(1)  # requests already run in parallel on the server's thread pool
        by_incident: dict[str, list[Passage]] = {}
        for passage in assistant.index.passages:
            by_incident.setdefault(passage.incident_id, []).append(passage)
        self._passages = by_incident
        self._assistant = assistant
        try:
            self.stale_files = assistant.stale_files()
        except OSError:
            self.stale_files = []
        manifest = assistant.index.manifest
        self.metrics.ready.set(1)
        self.metrics.incidents.set(len(assistant.index.incidents))
        self.metrics.passages.set(manifest.passages)
        self.metrics.stale.set(len(self.stale_files))
        self._status = Status("ready")
        self._loaded.set()
        log.info(
            "index %s loaded: %d incidents, %d passages, encoder %s",
            manifest.build_id,
            len(assistant.index.incidents),
            manifest.passages,
            manifest.encoder,
        )

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until the first load attempt finished (ready or failed)."""
        return self._loaded.wait(timeout)

    def passages_of(self, incident_id: str) -> list[Passage]:
        return self._passages.get(incident_id, [])

    # -- use ---------------------------------------------------------------------------------------

    def status(self) -> Status:
        """The current state, retrying a failed load if a new index build appeared since."""
        if self._assistant is None and self._status.state == "failed" and self._pointer() != self._failed_at:
            self.load()
        return self._status

    def assistant(self) -> Assistant:
        """The loaded Assistant, or a 503 that says why not and what to run."""
        if self._assistant is not None:
            return self._assistant
        status = self.status()
        if self._assistant is not None:
            return self._assistant
        raise ApiError(
            503,
            type="not_ready",
            message=status.reason or "the index is not loaded",
            hint=status.hint or "retry shortly; /readyz says when the service is ready",
            headers={"Retry-After": "5"},
        )
