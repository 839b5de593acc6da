"""Optional OpenTelemetry traces: off unless an OTLP endpoint is configured (``ASSISTANT_OTEL_ENDPOINT``,
or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``), and the ``otel`` extra installed.

The core opens spans through ``span(name, **attributes)``; with tracing off that is a no-op costing one
function call, and nothing is exported. Span names and attributes follow the OpenTelemetry GenAI semantic
conventions where one applies (``embeddings <model>`` for the query encoding, ``chat <model>`` for model
calls, ``gen_ai.*`` attributes), and ``assistant.*`` attributes for what only this service knows (the
verdict, the top incident). Queries and answers are never put in spans: only their sizes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from assistant.settings import Settings

log = logging.getLogger("assistant.tracing")
SERVICE = "incident-assistant"
Attribute = str | bool | int | float

_tracer: Any = None
_provider: Any = None


def endpoint(settings: Settings) -> str | None:
    """The OTLP/HTTP endpoint traces go to, or None (tracing off)."""
    return (
        settings.otel_endpoint
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def configure(settings: Settings, *, exporter: Any = None) -> bool:
    """Turn tracing on when an endpoint is configured: spans go, in batches, to the OTLP/HTTP exporter
    (or to ``exporter``, e.g. the SDK's in-memory one, synchronously). Returns whether it is on."""
    global _tracer, _provider
    target = endpoint(settings)
    if not target:
        return False
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        log.warning(
            "tracing is configured (%s) but the otel extra is not installed: "
            "pip install 'incident-assistant[otel]'; no traces are sent",
            target,
        )
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url = target if target.rstrip("/").endswith("/v1/traces") else target.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    shutdown()
    _provider, _tracer = provider, provider.get_tracer("assistant")
    return True


def shutdown() -> None:
    """Flush and stop the exporter; tracing is off afterwards."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _provider = _tracer = None


def enabled() -> bool:
    return _tracer is not None


class _Noop:
    def set_attribute(self, key: str, value: Attribute) -> None:
        pass

    def set_attributes(self, attributes: dict[str, Attribute]) -> None:
        pass

    def end(self) -> None:
        pass


NOOP = _Noop()


@contextmanager
def span(name: str, attributes: dict[str, Attribute] | None = None) -> Iterator[Any]:
    """A span around the block, current inside it (a no-op when tracing is off)."""
    tracer = _tracer
    if tracer is None:
        yield NOOP
        return
    with tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


def start(name: str, attributes: dict[str, Attribute] | None = None) -> Any:
    """A span started now and ended by the caller (``.end()``), for work that spans a generator's
    yields: it is a child of the current span but never made current, so no context is attached in one
    thread and detached in another."""
    tracer = _tracer
    return NOOP if tracer is None else tracer.start_span(name, attributes=attributes)
