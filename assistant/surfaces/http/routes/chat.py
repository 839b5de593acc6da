"""OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``: any OpenAI SDK or chat UI can use the
assistant as a model. The last user message is the query; earlier turns are context."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.diagnosis.results import Diagnosis
from assistant.errors import AssistantError
from assistant.live import Runtime
from assistant.llm.chat import selectable_backends
from assistant.settings import Settings
from assistant.surfaces.http.answers import final_diagnosis, started, timed_diagnosis
from assistant.surfaces.http.openai_schemas import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessageIn,
    ChatMessageOut,
    Choice,
    ChunkChoice,
    Delta,
    ModelCard,
    ModelList,
)
from assistant.surfaces.http.sse import SSE_HEADERS, SSE_MEDIA_TYPE, sse
from assistant.surfaces.web.auth import Authorized
from assistant.surfaces.web.errors import ERRORS, SEARCHES, ApiError, ErrorBody, error_payload

log = logging.getLogger("assistant.surfaces.http")
router = APIRouter(prefix="/v1", tags=["openai-compatible"], dependencies=[Authorized])

MODEL = "incident-assistant"
STARTED = int(time.time())


def model_ids(settings: Settings) -> list[str]:
    """``incident-assistant`` answers with ASSISTANT_LLM; ``incident-assistant:<backend>`` picks one.
    Only models that can answer are listed (see ``selectable_backends``)."""
    names = selectable_backends(settings)
    return [*([MODEL] if settings.llm in names else []), *(f"{MODEL}:{n}" for n in names)]


def backend_for(model: str, settings: Settings) -> str | None:
    if model not in model_ids(settings):
        raise ApiError(
            404,
            type="model_not_found",
            message=f"no model {model!r}; the models are {', '.join(model_ids(settings))}",
            hint="GET /v1/models lists them",
        )
    return model.split(":", 1)[1] if ":" in model else None


def split_conversation(messages: list[ChatMessageIn]) -> tuple[str, list[str]]:
    """The last user message and the earlier user/assistant turns, alternating, oldest first."""
    if messages[-1].role != "user":
        raise ApiError(422, type="invalid_request", message="the last message must have role 'user'")
    turns: list[tuple[str, str]] = []
    for message in messages[:-1]:
        if message.role not in ("user", "assistant") or not message.text().strip():
            continue  # system prompts and tool messages carry no incident context
        if turns and turns[-1][0] == message.role:
            turns[-1] = (message.role, f"{turns[-1][1]}\n{message.text()}")
        elif turns or message.role == "user":
            turns.append((message.role, message.text()))
    if turns and turns[-1][0] == "user":  # keep user/assistant pairs; fold a dangling user turn in
        return f"{turns.pop()[1]}\n{messages[-1].text()}", [t for _, t in turns]
    return messages[-1].text(), [t for _, t in turns]


def sources(d: Diagnosis) -> str:
    """What the text answer ends with: likely causes, checks, next steps and past fixes, then the verdict
    and the incidents it rests on, so a copied answer is complete."""
    sections = [
        (
            "Likely causes:",
            [
                f"{n}. {h.cause} ({round(h.confidence * 100)}%) [{', '.join(h.incident_ids)}]"
                for n, h in enumerate(d.hypotheses, start=1)
            ],
        ),
        ("Check:", [f"- {e}" for e in d.evidence_to_check]),
        ("Next steps:", [f"- {s}" for s in d.next_steps]),
        ("What fixed it before:", [f"- [{r.incident_id}] {r.action}" for r in d.resolutions]),
    ]
    lines: list[str] = []
    for title, items in sections:
        if items:
            lines += ["", title, *items]
    pct = round(d.seen_before.confidence * 100)
    lines += ["", d.seen_before.reason or f"Seen before: {d.seen_before.verdict} ({pct}% confidence)"]
    if d.matches:
        lines.append("Similar incidents:")
        for m in d.matches:
            kind = f"{m.category or '?'} / {m.subtype or '?'}"
            lines.append(f"- {m.id} — {m.title} ({kind}, score {m.score:.2f})")
            if m.fix:
                lines.append(f"  fixed by: {m.fix}" + (f" — {m.outcome}" if m.outcome else ""))
    if d.fallback_reason:
        lines.append(f"(answered by {d.backend}: {d.fallback_reason})")
    return "\n" + "\n".join(lines)


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def chunk_events(items: Iterator[str | Diagnosis], *, model: str) -> Iterator[str]:
    cid, created = completion_id(), int(time.time())

    def chunk(delta: Delta, finish: bool = False) -> str:
        body = ChatCompletionChunk(
            id=cid,
            created=created,
            model=model,
            choices=[ChunkChoice(delta=delta, finish_reason="stop" if finish else None)],
        )
        return sse(body.model_dump_json())

    yield chunk(Delta(role="assistant", content=""))
    try:
        for item in items:
            if isinstance(item, Diagnosis):
                yield chunk(Delta(content=sources(item)))
            elif item:
                yield chunk(Delta(content=item))
    except Exception as exc:
        if not isinstance(exc, AssistantError):
            log.exception("chat completion stream failed")
        yield sse(error_payload(exc).model_dump_json())
        return
    yield chunk(Delta(), finish=True)
    yield sse("[DONE]")


@router.get("/models", response_model=ModelList, responses=ERRORS)
def models(request: Request) -> ModelList:
    settings: Settings = request.app.state.runtime.settings
    return ModelList(data=[ModelCard(id=m, created=STARTED) for m in model_ids(settings)])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"content": {SSE_MEDIA_TYPE: {}}},
        **SEARCHES,
        404: {"model": ErrorBody, "description": "A model that is not in GET /v1/models."},
    },
)
async def chat_completions(body: ChatCompletionRequest, request: Request) -> Response:
    """OpenAI chat completion (streamed with `stream: true`). The answer text ends with the seen-before
    verdict and the similar incidents; the non-streamed response also carries the `diagnosis`."""
    runtime: Runtime = request.app.state.runtime
    backend = backend_for(body.model, runtime.settings)
    query, history = split_conversation(body.messages)
    assistant = await run_in_threadpool(runtime.assistant)
    items = timed_diagnosis(assistant, runtime.metrics, text=query, k=None, backend=backend, history=history)
    if body.stream:
        events = chunk_events(await started(items), model=body.model)
        return StreamingResponse(events, media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS)
    diagnosis = await run_in_threadpool(final_diagnosis, items)
    completion = ChatCompletion(
        id=completion_id(),
        created=int(time.time()),
        model=body.model,
        choices=[Choice(message=ChatMessageOut(content=diagnosis.summary + sources(diagnosis)))],
        diagnosis=diagnosis,
    )
    return JSONResponse(completion.model_dump(mode="json"))
