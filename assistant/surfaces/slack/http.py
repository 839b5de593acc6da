"""HTTP mode: Slack's events, commands and interactions arrive as signed POSTs at ``/slack/events``.

``slack_router`` mounts the bot on any FastAPI app (the service includes it when Slack is configured);
``create_slack_http_app`` is a FastAPI app with only the bot, for ``assistant slack`` without Socket Mode.
Every request's signature is checked on the raw bytes before anything parses them: a forged, missing,
malformed or stale (over five minutes) signature gets 401, whatever the body holds. A signed body
that is not UTF-8, not JSON or form data, or nested too deeply gets 400. bolt's own verification then
runs as well. Bodies over ``ASSISTANT_MAX_BODY_BYTES`` get 413 before they are read.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import parse_body
from starlette.concurrency import run_in_threadpool

from assistant.errors import NotReady
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.surfaces.slack.app import SlackNotConfigured, create_slack_app
from assistant.surfaces.web.limits import BodyLimit

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_AGE_SECONDS = 5 * 60
"""Slack's own rule: a signature older than this is refused (so replays are only possible within it)."""


def signature_ok(secret: str, body: bytes, headers: Mapping[str, str], *, now: float | None = None) -> bool:
    """Slack's v0 signature over the raw bytes, with a fresh integer timestamp. Never raises."""
    timestamp = headers.get("x-slack-request-timestamp") or ""
    signature = headers.get("x-slack-signature") or ""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and signature.isascii()):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest("v0=" + digest.hexdigest(), signature)


def _refusal(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


_EVENT_TEXT = ("type", "channel", "user", "text", "ts", "thread_ts", "bot_id", "subtype", "channel_type")
_EVENT_OBJECTS = ("message", "previous_message")
_NEEDS_CHANNEL = frozenset({"app_mention", "message"})
_NEEDS_THREAD = frozenset({"assistant_thread_started", "assistant_thread_context_changed"})


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def shape_problem(parsed: dict[str, Any]) -> str | None:
    """What is wrong with the shape of a signed body, before bolt reads it (bolt assumes Slack's
    shapes and fails inside with a 500 or a listener traceback), or None."""
    kind = parsed.get("type")
    if kind is not None and not isinstance(kind, str):
        return "type is not a string"
    for key in ("team_id", "api_app_id", "command", "channel_id", "user_id", "text", "trigger_id"):
        if key in parsed and not isinstance(parsed[key], str):
            return f"{key} is not a string"
    for key in ("user", "channel", "team", "message", "container"):
        if key in parsed and not isinstance(parsed[key], dict | None):
            return f"{key} is not an object"
    for key in ("actions", "authorizations"):
        if key in parsed and not _objects(parsed[key]):
            return f"{key} is not a list of objects"
    if kind != "event_callback":
        return None
    event = parsed.get("event")
    if not isinstance(event, dict):
        return "event is not an object"
    for key in _EVENT_TEXT:
        if key in event and not isinstance(event[key], str):
            return f"event.{key} is not a string"
    if not isinstance(event.get("type"), str):
        return "event has no type"
    for key in _EVENT_OBJECTS:
        if key in event and not isinstance(event[key], dict | None):
            return f"event.{key} is not an object"
    if event["type"] in _NEEDS_CHANNEL and "channel" not in event:
        return f"a {event['type']} event without a channel"
    if event["type"] in _NEEDS_THREAD:
        return _assistant_thread_problem(event)
    return None


def _assistant_thread_problem(event: dict[str, Any]) -> str | None:
    """What is wrong with an assistant event's ``assistant_thread`` (bolt's assistant middleware needs
    its channel and thread, and reads its context as an object), or None."""
    thread = event.get("assistant_thread")
    if not isinstance(thread, dict):
        return f"a {event['type']} event without an assistant_thread object"
    for key in ("channel_id", "thread_ts"):
        if not isinstance(thread.get(key), str) or not thread[key]:
            return f"a {event['type']} event without assistant_thread.{key}"
    if "user_id" in thread and not isinstance(thread["user_id"], str):
        return "assistant_thread.user_id is not a string"
    if not isinstance(thread.get("context", {}), dict):
        return "assistant_thread.context is not an object"
    if event["type"] == "assistant_thread_context_changed" and "context" not in thread:
        return "an assistant_thread_context_changed event without a context"
    return None


def _bolt_request(request: Request, body: bytes) -> BoltRequest | JSONResponse:
    """bolt's request for a signed body, or a 400 saying what is wrong with the body."""
    try:
        text = body.decode("utf-8")
        parsed = parse_body(text, request.headers.get("content-type"))
    except UnicodeDecodeError:
        return _refusal(400, "the body is not UTF-8 text")
    except RecursionError:
        return _refusal(400, "the body is nested too deeply")
    except ValueError:  # json.JSONDecodeError included
        return _refusal(400, "the body is not valid JSON or form data")
    if not isinstance(parsed, dict):
        return _refusal(400, "the body is not a JSON object")
    if problem := shape_problem(parsed):
        return _refusal(400, f"not a Slack request: {problem}")
    return to_bolt_request(request, body)


def slack_router(
    slack_app: App,
    *,
    signing_secret: str,
    path: str = EVENTS_PATH,
    bind: Callable[[Request], None] | None = None,
) -> APIRouter:
    """The bot at ``path``. ``bind(request)``, if given, runs first (the service uses it to hand the
    bot its loaded Assistant)."""
    router = APIRouter(include_in_schema=False)

    @router.post(path)
    async def slack_events(request: Request) -> Response:
        if bind is not None:
            bind(request)
        body = await request.body()
        if not signature_ok(signing_secret, body, request.headers):
            return _refusal(401, "invalid request signature")
        bolt_request = _bolt_request(request, body)
        if isinstance(bolt_request, JSONResponse):
            log.info("refused a signed Slack request: %s", bytes(bolt_request.body).decode())
            return bolt_request
        # bolt is synchronous: dispatch (verify, authorize, ack) off the event loop; listeners then
        # carry on in bolt's own thread pool after the response is sent
        bolt_response = await run_in_threadpool(slack_app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    return router


def signing_secret(settings: Settings) -> str:
    secret = settings.slack_signing_secret
    if secret is None:
        raise SlackNotConfigured(
            "SLACK_SIGNING_SECRET is not set", hint="set it from the Slack app's Basic Information page"
        )
    return secret.get_secret_value()


def create_slack_http_app(slack_app: App, *, settings: Settings, path: str = EVENTS_PATH) -> FastAPI:
    """The bot alone (``assistant slack`` without ``--socket``), with the service's body limit."""
    app = FastAPI(title="incident-assistant Slack bot", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(slack_router(slack_app, signing_secret=signing_secret(settings), path=path))
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def service_router(settings: Settings) -> APIRouter:
    """``/slack/events`` for the service (``create_app``): the bot answers with the service's own
    Assistant, reached through ``request.app.state.runtime`` once the index has loaded."""
    runtimes: list[Any] = []

    def assistant() -> Assistant:
        runtime = runtimes[0]
        status = runtime.status()
        if status.state != "ready":
            raise NotReady(status.reason or "the index is not loaded yet", hint=status.hint)
        found: Assistant = runtime.assistant()
        return found

    def bind(request: Request) -> None:
        if not runtimes:
            runtimes.append(request.app.state.runtime)

    return slack_router(
        create_slack_app(settings, assistant=assistant), signing_secret=signing_secret(settings), bind=bind
    )
