"""What the service keeps between requests: settings, metrics, and the loaded index build.

The index and encoder load once, in a worker thread started by the app's lifespan, so ``/healthz``
answers while a model loads. If loading fails (no index, stale encoder), the reason is kept for
``/readyz``. A new ``index/current`` (``assistant index build``) is noticed by a watcher thread every
``ASSISTANT_INDEX_RELOAD_SECONDS`` and on every ``/readyz``: the new build is loaded beside the one
serving, with the same encoder, then swapped in with one assignment. Requests that already hold the
old build finish on it. A new build that cannot be loaded is refused (logged, shown by ``/readyz``)
and the old one keeps serving.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import anyio

from assistant.corpus.passages import Passage
from assistant.errors import AssistantError, NotReady
from assistant.instrumented import InstrumentedAssistant
from assistant.metrics import Metrics
from assistant.search.encoders import set_torch_threads, spec_of
from assistant.search.index import SearchParams, current_dir, load_current
from assistant.service import Assistant
from assistant.settings import Settings

log = logging.getLogger("assistant.surfaces.http")

T = TypeVar("T")
State = Literal["loading", "ready", "failed"]
Pointer = tuple[str, int]


@dataclass(frozen=True)
class Status:
    state: State
    reason: str = ""
    hint: str = ""


@dataclass(frozen=True)
class Live:
    """One loaded build and the ``index/current`` pointer it was loaded from; swapped as a whole."""

    assistant: Assistant
    pointer: Pointer

    def passages_of(self, incident_id: str) -> list[Passage]:
        return self.assistant.index.passages_of(incident_id)


@dataclass(frozen=True)
class Refused:
    """A newer build that could not be loaded; the live one keeps serving."""

    pointer: Pointer
    reason: str


class Runtime:
    def __init__(self, settings: Settings, *, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._live: Live | None = None
        self._status = Status("loading", "the index and encoder are loading")
        self._failed_at: Pointer | None = None
        self.refused: Refused | None = None
        self._lock = threading.Lock()
        self._loaded = threading.Event()
        self._searches = anyio.CapacityLimiter(settings.search_threads)

    # -- loading ---------------------------------------------------------------------------------

    def _pointer(self) -> Pointer:
        """Which build ``index/current`` points at (and when its manifest was written)."""
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
            if self._live is not None:
                return
            pointer = self._pointer()
            self._status = Status("loading", "the index and encoder are loading")
            try:
                assistant = InstrumentedAssistant.from_settings(self.settings)
            except AssistantError as exc:
                self._failed(pointer, Status("failed", Exception.__str__(exc), exc.hint))
                log.warning("index not loaded: %s", exc)
                return
            except Exception as exc:  # a broken model install must not kill the process
                log.exception("index or encoder failed to load")
                reason = f"the index or encoder failed to load ({type(exc).__name__}); see the server log"
                self._failed(pointer, Status("failed", reason, "run `assistant index build`, then restart"))
                return
            set_torch_threads(1)  # requests already run in parallel on the server's thread pool
            self._swap(assistant, pointer)
        finally:
            self._lock.release()

    def refresh(self) -> None:
        """Load the build ``index/current`` points at if it is not the one serving (never raises)."""
        pointer = self._pointer()
        live = self._live
        if live is None:
            if self._status.state == "failed" and pointer != self._failed_at:
                self.load()
            return
        if pointer == live.pointer or (self.refused is not None and self.refused.pointer == pointer):
            return
        if not self._lock.acquire(blocking=False):
            return  # another thread is loading it
        try:
            try:
                index = load_current(
                    self.settings.index_dir,
                    expected=spec_of(live.assistant.encoder),
                    search=SearchParams(
                        hnsw_ef_search=self.settings.hnsw_ef_search, ivf_probe=self.settings.ivf_probe
                    ),
                )
            except AssistantError as exc:
                self._refuse(pointer, Exception.__str__(exc))
                return
            except Exception as exc:
                log.exception("index build %s failed to load", pointer[0])
                self._refuse(pointer, f"it failed to load ({type(exc).__name__}; see the server log)")
                return
            assistant = InstrumentedAssistant(
                settings=self.settings, index=index, encoder=live.assistant.encoder
            )
            self._swap(assistant, pointer)
        finally:
            self._lock.release()

    def _refuse(self, pointer: Pointer, reason: str) -> None:
        self.refused = Refused(pointer, reason)
        serving = self._live.assistant.index.manifest.build_id if self._live else "none"
        log.warning("new index build %s refused, still serving %s: %s", pointer[0], serving, reason)

    def _failed(self, pointer: Pointer, status: Status) -> None:
        self._failed_at = pointer
        self._status = status
        self._loaded.set()

    def _swap(self, assistant: Assistant, pointer: Pointer) -> None:
        if isinstance(assistant, InstrumentedAssistant):
            assistant.metrics = self.metrics
        previous = self._live
        self._live = Live(assistant=assistant, pointer=pointer)  # the swap
        self.refused = None
        manifest = assistant.index.manifest
        self.metrics.ready.set(1)
        self.metrics.incidents.set(len(assistant.index.incidents))
        self.metrics.passages.set(manifest.passages)
        self._status = Status("ready")
        self._loaded.set()
        log.info(
            "index %s %s: %d incidents, %d passages, encoder %s",
            manifest.build_id,
            "loaded" if previous is None else f"swapped in for {previous.assistant.index.manifest.build_id}",
            len(assistant.index.incidents),
            manifest.passages,
            manifest.encoder,
        )

    def watch(self, stop: threading.Event) -> None:
        """Look for a new build every ``index_reload_seconds`` until ``stop`` is set."""
        interval = self.settings.index_reload_seconds
        while interval > 0 and not stop.wait(interval):
            self.refresh()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Block until the first load attempt finished (ready or failed)."""
        return self._loaded.wait(timeout)

    # -- use ---------------------------------------------------------------------------------------

    def status(self) -> Status:
        """The current state, after loading a build that appeared since the last look."""
        self.refresh()
        return self._status

    def stale_files(self, live: Live) -> list[str]:
        """Label files added, removed or changed since ``live`` was built, read now."""
        try:
            stale = live.assistant.stale_files()
        except OSError:
            stale = []
        self.metrics.stale.set(len(stale))
        return stale

    def live(self) -> Live:
        """The build serving now (hold on to it for the whole request), or ``NotReady`` that says why not."""
        live = self._live
        if live is not None:
            return live
        status = self.status()
        live = self._live
        if live is not None:
            return live
        raise NotReady(status.reason or "the index is not loaded", hint=status.hint)

    def assistant(self) -> Assistant:
        """The loaded Assistant, or ``NotReady`` that says why not and what to run."""
        return self.live().assistant

    async def search(self, run: Callable[[Assistant], T]) -> T:
        """``run(assistant)`` in a worker thread, at most ``search_threads`` at once. The other requests
        wait their turn on the event loop, first come first served, instead of as threads blocked
        inside the search: under load that lowers p99 and saves CPU (docs/evaluation.md, "Service load")."""
        return await anyio.to_thread.run_sync(lambda: run(self.assistant()), limiter=self._searches)
