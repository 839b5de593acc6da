"""A reply that grows as the diagnosis is written: streamed where Slack can, edited in place otherwise.

Streaming uses ``chat.startStream`` / ``chat.appendStream`` / ``chat.stopStream``: the diagnosis text is
the stream's markdown, and the stop call puts the answer's blocks (verdict, matches, buttons) under it.
When the client has no such methods (an older slack_sdk), or Slack refuses to start a stream (an app or
a workspace where streaming is not enabled, say), the reply is a normal message: posted with the first
text, then ``chat.update``-d as text arrives, and at the end replaced by the full answer. An append
Slack refuses (a rate limit) leaves its text for the next step; a refused stop becomes that update.

Text goes out in bounded steps (``Throttle``): at most one Slack call per ``STEP_CHARS`` characters or
per ``STEP_SECONDS`` seconds, so a fast model does not hit Slack's rate limits and a slow one still
shows progress.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.surfaces.slack.blocks import Block, partial_message
from assistant.surfaces.slack.text import escape

log = logging.getLogger(__name__)

STEP_CHARS = 256
"""New characters that make a step due (slack_sdk's own ``chat_stream`` buffer size)."""
STEP_SECONDS = 1.0
"""Seconds after which any waiting text is due."""
STREAM_METHODS = ("chat_startStream", "chat_appendStream", "chat_stopStream")

Mode = Literal["stream", "update"]


def can_stream(client: WebClient) -> bool:
    """Whether this slack_sdk has the chat streaming methods."""
    return all(callable(getattr(client, name, None)) for name in STREAM_METHODS)


class Throttle:
    """When the next step is due: the first text at once, then after ``chars`` new characters or
    ``seconds`` seconds, whichever comes first."""

    def __init__(
        self,
        *,
        chars: int = STEP_CHARS,
        seconds: float = STEP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chars = chars
        self.seconds = seconds
        self.clock = clock
        self._last: float | None = None

    def due(self, new: int) -> bool:
        """Whether to send, with ``new`` characters added since the last step."""
        if new <= 0:
            return False
        if self._last is None or new >= self.chars:
            return True
        return self.clock() - self._last >= self.seconds

    def sent(self) -> None:
        self._last = self.clock()


class ThreadReply:
    """One reply in ``thread_ts``: ``add`` text as it is written, then ``finish`` with the answer.

    ``user`` and ``team`` are who the stream is for (Slack wants them outside direct messages).
    """

    def __init__(
        self,
        client: WebClient,
        *,
        channel: str,
        thread_ts: str,
        user: str | None,
        team: str | None,
        throttle: Throttle | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.user = user
        self.team = team
        self.throttle = throttle or Throttle()
        self.mode: Mode = "stream" if can_stream(client) else "update"
        self.ts: str | None = None
        """The reply's message, once something was sent."""
        self._shown = ""
        self._waiting = ""
        self._new = 0
        """Characters added since the last step was tried."""

    @property
    def text(self) -> str:
        """All the text added so far (sent or waiting)."""
        return self._shown + self._waiting

    def add(self, chunk: str) -> None:
        self._waiting += chunk
        self._new += len(chunk)
        if self.throttle.due(self._new):
            self._send()

    def finish(self, text: str, blocks: list[Block], *, streamed_blocks: list[Block]) -> None:
        """End the reply with the answer: ``text`` and ``blocks`` are the whole answer (what a message
        that never streamed shows); ``streamed_blocks`` go under the streamed text."""
        if self.ts is None:
            self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=text, blocks=blocks, unfurl_links=False
            )
            return
        if self.mode == "stream":
            try:
                self.client.chat_stopStream(
                    channel=self.channel,
                    ts=self.ts,
                    markdown_text=escape(self._waiting) or None,
                    blocks=streamed_blocks,
                )
                return
            except SlackApiError as exc:
                self._refused("chat.stopStream", exc)
        self.client.chat_update(channel=self.channel, ts=self.ts, text=text, blocks=blocks)

    def _send(self) -> None:
        self._new = 0
        self.throttle.sent()
        if self.mode == "stream":
            try:
                self._stream(escape(self._waiting))
            except SlackApiError as exc:
                if self.ts is not None:
                    log.warning("chat.appendStream refused (%s); its text goes with the next", _error(exc))
                    return
                self._refused("chat.startStream", exc)
        if self.mode == "update":
            self._edit()
        self._shown += self._waiting
        self._waiting = ""

    def _stream(self, markdown: str) -> None:
        if self.ts is None:
            started = self.client.chat_startStream(
                channel=self.channel,
                thread_ts=self.thread_ts,
                markdown_text=markdown,
                recipient_user_id=self.user,
                recipient_team_id=self.team,
            )
            self.ts = str(started["ts"])
        else:
            self.client.chat_appendStream(channel=self.channel, ts=self.ts, markdown_text=markdown)

    def _edit(self) -> None:
        text, blocks = partial_message(self.text)
        if self.ts is None:
            posted = self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=text, blocks=blocks, unfurl_links=False
            )
            self.ts = str(posted["ts"])
            return
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts, text=text, blocks=blocks)
        except SlackApiError as exc:  # a missed step (rate limit, ...): the next one or the end catches up
            log.warning("could not update the reply %s in %s: %s", self.ts, self.channel, _error(exc))

    def _refused(self, method: str, exc: SlackApiError) -> None:
        log.warning("%s refused (%s); the reply is a message edited in place", method, _error(exc))
        self.mode = "update"


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or exc)
