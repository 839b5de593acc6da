"""``POST /v1/diagnose``: a grounded diagnosis as JSON, or streamed as server-sent events."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.diagnosis.results import Diagnosis
from assistant.errors import AssistantError
from assistant.live import Runtime
from assistant.schemas import DiagnoseRequest
from assistant.surfaces.http.answers import chosen_backend, final_diagnosis, started, timed_diagnosis
from assistant.surfaces.http.sse import SSE_HEADERS, SSE_MEDIA_TYPE, sse, wants_stream
from assistant.surfaces.web.auth import Authorized
from assistant.surfaces.web.errors import SEARCHES, error_payload

log = logging.getLogger("assistant.surfaces.http")
router = APIRouter(prefix="/v1", tags=["diagnosis"], dependencies=[Authorized])

STREAM_DOC = (
    'With `stream: true` or `Accept: text/event-stream`: `event: token` with `{"text": ...}` as the answer '
    "is written, then one `event: diagnosis` with the Diagnosis JSON (matches and checked citations); "
    "`event: error` with an error body if it fails midway."
)


def diagnosis_events(items: Iterator[str | Diagnosis]) -> Iterator[str]:
    try:
        for item in items:
            if isinstance(item, Diagnosis):
                yield sse(item.model_dump_json(), event="diagnosis")
            else:
                yield sse(json.dumps({"text": item}, ensure_ascii=False), event="token")
    except Exception as exc:
        if not isinstance(exc, AssistantError):
            log.exception("diagnosis stream failed")
        yield sse(error_payload(exc).model_dump_json(), event="error")


@router.post(
    "/diagnose",
    response_model=Diagnosis,
    responses={200: {"content": {SSE_MEDIA_TYPE: {}}, "description": STREAM_DOC}, **SEARCHES},
)
async def diagnose(
    body: DiagnoseRequest, request: Request, accept: Annotated[str | None, Header()] = None
) -> Response:
    """Similar incidents, ranked likely causes, evidence to check and next steps, citing past incidents."""
    runtime: Runtime = request.app.state.runtime
    backend = chosen_backend(body.backend, runtime.settings)
    assistant = await run_in_threadpool(runtime.assistant)
    items = timed_diagnosis(
        assistant,
        runtime.metrics,
        text=body.query,
        k=body.k,
        backend=backend,
        history=body.history,
    )
    if not wants_stream(body.stream, accept):
        diagnosis = await run_in_threadpool(final_diagnosis, items)
        return JSONResponse(diagnosis.model_dump(mode="json"))
    return StreamingResponse(
        diagnosis_events(await started(items)), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS
    )
