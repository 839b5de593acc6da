"""A local stand-in for Slack, for the bot's tests.

``FakeSlack`` is an HTTP server on 127.0.0.1 that plays the Slack Web API (``/api/<method>``) and the
``response_url`` webhooks (``/respond/<name>``), and records every call. Files go up as on Slack
(``files.getUploadURLExternal``, the bytes to the URL it gives, ``files.completeUploadExternal``).
Messages the bot posts in a
thread (``chat.postMessage``, a stream from ``chat.startStream`` to ``chat.stopStream``) are kept in
that thread, so ``conversations.replies`` returns them as Slack would; ``chat.update`` edits them, and
appending to a stream that was stopped fails as on Slack. ``SlackSender`` sends correctly signed (or
deliberately forged) event, command and interaction payloads to the bot over real HTTP.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import hashlib
import hmac
import json
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from aiohttp import WSMsgType, web

BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T0001"


@dataclass
class Call:
    method: str
    """Web API method (``chat.postMessage``) or ``respond/<name>`` for a response_url."""
    args: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    """conversations.replies answers, keyed by (channel, thread ts)."""
    errors: dict[str, str] = field(default_factory=dict)
    """Web API method → Slack error code it should fail with."""
    socket_url: str = ""
    """What ``apps.connections.open`` hands out (a ``FakeSocketMode`` URL)."""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Uploaded files by id: ``filename``, ``title``, ``content`` (bytes), ``channel``, ``thread_ts``."""

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._ts = 1_700_000_000
        self._messages: dict[str, dict[str, Any]] = {}
        self._streaming: set[str] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                args: dict[str, Any] = dict(parse_qsl(url.query))
                name = url.path.removeprefix("/api/").strip("/")
                if name.startswith(
                    "upload/"
                ):  # a file's bytes, sent to the URL files.getUploadURLExternal gave
                    args["_raw"] = raw
                else:
                    args.update(_parse_body(raw, self.headers.get("Content-Type") or ""))
                status, reply = fake._reply(name, args)
                fake._record(Call(method=name, args=args, headers=dict(self.headers.items())))
                data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header(
                    "Content-Type", "text/plain" if isinstance(reply, str) else "application/json"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = self.base + "/api/"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def response_url(self, name: str) -> str:
        return f"{self.base}/respond/{name}"

    def _record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{self._ts}.000100"

    def _reply(self, name: str, args: dict[str, Any]) -> tuple[int, dict[str, Any] | str]:
        if name.startswith("respond/"):
            return 200, "ok"
        if name in self.errors:
            return 200, {"ok": False, "error": self.errors[name]}
        with self._changed:
            if name in _MESSAGE_METHODS:
                return 200, getattr(self, _MESSAGE_METHODS[name])(args)
        if name == "auth.test":
            return 200, {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "team_id": TEAM,
                "user": "assistant",
            }
        if name == "apps.connections.open":
            return 200, {"ok": True, "url": self.socket_url}
        if name == "chat.getPermalink":
            channel, ts = args.get("channel"), str(args.get("message_ts") or "")
            return 200, {
                "ok": True,
                "permalink": f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}",
            }
        if name in ("files.getUploadURLExternal", "files.completeUploadExternal") or name.startswith(
            "upload/"
        ):
            with self._changed:
                return 200, self._upload(name, args)
        if name == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": self._next_ts()}
        if name in _ASSISTANT_METHODS:
            missing = [k for k in _ASSISTANT_METHODS[name] if not args.get(k)]
            return 200, {"ok": False, "error": "invalid_arguments"} if missing else {"ok": True}
        if name == "conversations.replies":
            with self._changed:
                messages = self.threads.get((str(args.get("channel")), str(args.get("ts"))))
                if messages is None:
                    return 200, {"ok": False, "error": "thread_not_found"}
                return 200, {"ok": True, "messages": [dict(m) for m in messages], "has_more": False}
        return 200, {"ok": False, "error": "unknown_method"}

    # -- messages the bot posts (called with the lock held) ----------------------------------------

    def _keep(self, args: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """A new bot message from ``args``, kept in its thread when it has one."""
        ts = self._next_ts()
        message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts, **fields}
        self._messages[ts] = message
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
            self.threads.setdefault((str(args.get("channel")), str(args["thread_ts"])), []).append(message)
        return message

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        fields = {k: args[k] for k in ("text", "blocks", "metadata") if k in args}
        message = self._keep(args, **fields)
        return {"ok": True, "channel": args.get("channel"), "ts": message["ts"], "message": message}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._messages.get(str(args.get("ts")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.update({k: args[k] for k in ("text", "blocks", "metadata") if k in args})
        return {"ok": True, "channel": args.get("channel"), "ts": message["ts"], "text": message.get("text")}

    def _start_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        message = self._keep(args, text=_streamed(args))
        self._streaming.add(message["ts"])
        return {"ok": True, "channel": args["channel"], "ts": message["ts"]}

    def _append_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("ts"))
        if ts not in self._streaming:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        self._messages[ts]["text"] += _streamed(args)
        return {"ok": True, "channel": args.get("channel"), "ts": ts}

    def _stop_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("ts"))
        if ts not in self._streaming:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        self._streaming.discard(ts)
        message = self._messages[ts]
        message["text"] += _streamed(args)
        message.update({k: args[k] for k in ("blocks", "metadata") if k in args})
        return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": message}

    def _upload(self, name: str, args: dict[str, Any]) -> dict[str, Any] | str:
        """Slack's three-step upload: ask for a URL, send the bytes there, complete it into a channel."""
        if name == "files.getUploadURLExternal":
            if not args.get("filename") or not args.get("length"):
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{len(self.files) + 1:06d}"
            self.files[file_id] = {"filename": args["filename"], "content": None}
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}
        if name.startswith("upload/"):
            entry = self.files.get(name.removeprefix("upload/"))
            if entry is None:
                return {"ok": False, "error": "file_not_found"}
            entry["content"] = args["_raw"]
            return "OK - " + str(len(args["_raw"]))
        listed = json.loads(args.get("files") or "[]")
        if not listed or any(self.files.get(f.get("id"), {}).get("content") is None for f in listed):
            return {"ok": False, "error": "file_not_found"}
        for item in listed:
            self.files[item["id"]].update(
                title=item.get("title"), channel=args.get("channel_id"), thread_ts=args.get("thread_ts")
            )
        if args.get("thread_ts"):
            self._keep(args | {"channel": args.get("channel_id")}, text="", files=listed)
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in listed]}

    def message(self, ts: str) -> dict[str, Any]:
        """A message the bot posted, as it stands now."""
        with self._changed:
            return dict(self._messages[ts])

    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method or c.method.startswith(method + "/")]

    def wait_for(self, method: str, count: int = 1, timeout: float = 20) -> list[Call]:
        """Block until ``method`` has been called ``count`` times (woken by each call, no polling)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := self.calls_to_unlocked(method)) < count:
                left = deadline - time.monotonic()
                if left <= 0 or not self._changed.wait(left):
                    raise AssertionError(
                        f"{method} called {len(found)} times, expected {count}: {self.calls}"
                    )
            return found

    def calls_to_unlocked(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method or c.method.startswith(method + "/")]


_MESSAGE_METHODS = {
    "chat.postMessage": "_post_message",
    "chat.update": "_update",
    "chat.startStream": "_start_stream",
    "chat.appendStream": "_append_stream",
    "chat.stopStream": "_stop_stream",
}
_ASSISTANT_METHODS = {
    "assistant.threads.setStatus": ("channel_id", "thread_ts"),
    "assistant.threads.setSuggestedPrompts": ("channel_id", "thread_ts", "prompts"),
    "assistant.threads.setTitle": ("channel_id", "thread_ts", "title"),
}
"""Methods that only need to succeed, with the arguments Slack requires."""


def _streamed(args: dict[str, Any]) -> str:
    """The text one stream call adds: its ``markdown_text`` and any markdown chunks."""
    text = str(args.get("markdown_text") or "")
    for chunk in args.get("chunks") or []:
        if isinstance(chunk, dict) and chunk.get("type") == "markdown_text":
            text += str(chunk.get("text") or "")
    return text


def streamed_text(calls: list[Call]) -> str:
    """The text a sequence of stream calls (start, appends, stop) put into the message."""
    return "".join(_streamed(c.args) for c in calls)


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return dict(json.loads(raw))
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode()))
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        return {
            part.get_param("name", header="content-disposition"): part.get_content()
            for part in message.iter_parts()
        }
    return {"_raw": raw.decode(errors="replace")}


def sign(secret: str, body: bytes, timestamp: int) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackSender:
    """Posts payloads to the bot the way Slack does: signed, with Slack's headers."""

    url: str
    secret: str

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        signature: str | None = None,
        timestamp: int | None = None,
        signed: bool = True,
        secret: str | None = None,
    ) -> httpx.Response:
        ts = int(time.time()) if timestamp is None else timestamp
        sent = {"Content-Type": content_type}
        if signed:
            sent["X-Slack-Request-Timestamp"] = str(ts)
            sent["X-Slack-Signature"] = signature or sign(secret or self.secret, body, ts)
        sent.update(headers or {})
        return httpx.post(self.url, content=body, headers=sent, timeout=30)

    def event(self, event: dict[str, Any], *, event_id: str, **kwargs: Any) -> httpx.Response:
        body = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
        return self.post(json.dumps(body).encode(), "application/json", **kwargs)

    def command(
        self,
        text: str,
        *,
        response_url: str,
        command: str = "/seen",
        trigger_id: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        form = {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "acme",
            "channel_id": "C0OPS",
            "channel_name": "ops",
            "user_id": "U0ALICE",
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "response_url": response_url,
            "trigger_id": trigger_id or f"13345224609.{uuid.uuid4().hex}",
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded", **kwargs)

    def interaction(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        body = urlencode({"payload": json.dumps({"team": {"id": TEAM}, "api_app_id": "A0001", **payload})})
        return self.post(body.encode(), "application/x-www-form-urlencoded", **kwargs)

    def shortcut(
        self, callback_id: str, message: dict[str, Any], *, trigger_id: str, response_url: str, channel: str
    ) -> httpx.Response:
        """A message shortcut used on ``message`` in ``channel`` by U0ALICE."""
        return self.interaction(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "trigger_id": trigger_id,
                "response_url": response_url,
                "channel": {"id": channel, "name": "ops"},
                "user": {"id": "U0ALICE"},
                "message_ts": message["ts"],
                "message": message,
            }
        )


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """All text in blocks, for asserting what a message says."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


class FakeSocketMode:
    """Slack's Socket Mode end: a websocket server on 127.0.0.1 (aiohttp, in its own thread).

    ``send(envelope)`` pushes an envelope to the connected bot; ``acks`` receives what it sends back.
    """

    def __init__(self) -> None:
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self._connected = threading.Event()
        self._ws: web.WebSocketResponse | None = None
        self._loop = asyncio.new_event_loop()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._sock.getsockname()[1]}/link"
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        started.wait(10)

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.SockSite(self._runner, self._sock).start())
        started.set()
        self._loop.run_forever()

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}})
        self._connected.set()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.put(json.loads(message.data))
        return ws

    def send(self, envelope: dict[str, Any]) -> None:
        assert self._connected.wait(20), "the bot never connected"
        assert self._ws is not None
        asyncio.run_coroutine_threadsafe(self._ws.send_json(envelope), self._loop).result(10)

    def ack(self, timeout: float = 20) -> dict[str, Any]:
        return self.acks.get(timeout=timeout)

    def close(self) -> None:
        async def stop() -> None:
            if self._ws is not None:
                await self._ws.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
