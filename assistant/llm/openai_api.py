"""The ``openai`` backend: any OpenAI-compatible chat endpoint through langchain-openai.

vLLM, Ollama, a llama.cpp server or OpenAI itself: ``ASSISTANT_OPENAI_BASE_URL``,
``ASSISTANT_OPENAI_MODEL`` and ``ASSISTANT_OPENAI_API_KEY``. Requests time out after
``ASSISTANT_LLM_TIMEOUT`` seconds and are retried ``ASSISTANT_LLM_RETRIES`` times.

A call with a JSON schema sends it as ``response_format`` (``structured.response_format``). A server
that refuses it gets the same call once more without it, and this model sends no schema to it again.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from assistant.errors import BackendUnavailable
from assistant.llm.chat import ChatMessage, ChatModel, JsonSchema, missing_extra
from assistant.llm.structured import refusal_warning, refuses_schema, response_format
from assistant.settings import Settings

log = logging.getLogger(__name__)


class _SchemaRefused(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class OpenAIChatModel(ChatModel):
    name = "openai"

    def __init__(self, *, chat: Any, endpoint: str, timeout: float) -> None:
        self.chat = chat
        self.endpoint = endpoint
        self.timeout = timeout
        self.takes_schemas = True
        """False once the server refused a JSON schema (and took the call without one)."""
        self._lock = threading.Lock()

    def stream(self, messages: Sequence[ChatMessage], *, schema: JsonSchema | None = None) -> Iterator[str]:
        started = time.monotonic()
        if schema is None or not self.takes_schemas:
            yield from self._stream(messages, schema=None, started=started)
            return
        try:
            yield from self._stream(messages, schema=schema, started=started)
            return
        except _SchemaRefused as refused:  # raised before any text: the server answered the request with it
            detail = refused.detail
        taken = False
        for chunk in self._stream(messages, schema=None, started=started):
            if not taken:
                taken = True
                self._refused(detail)
            yield chunk
        if not taken:
            self._refused(detail)

    def _refused(self, detail: str) -> None:
        """Remember (once the call without a schema went through) that the server takes none."""
        with self._lock:
            if not self.takes_schemas:
                return
            self.takes_schemas = False
        log.warning(refusal_warning(self.endpoint, detail))

    def _stream(
        self, messages: Sequence[ChatMessage], *, schema: JsonSchema | None, started: float
    ) -> Iterator[str]:
        import openai

        chat = self.chat
        if schema is not None:
            # In the request body as it stands, so the plain streaming call is kept (langchain-openai
            # routes its own ``response_format`` argument through the SDK's parsing helpers instead).
            extra = {**(getattr(chat, "extra_body", None) or {}), "response_format": response_format(schema)}
            chat = chat.bind(extra_body=extra)
        try:
            for chunk in chat.stream([(m.role, m.content) for m in messages]):
                if isinstance(chunk.content, str) and chunk.content:
                    yield chunk.content
                if time.monotonic() - started > self.timeout:
                    raise BackendUnavailable(f"openai: no complete answer within {self.timeout:g}s")
        except BackendUnavailable:
            raise
        except openai.APITimeoutError:
            raise BackendUnavailable(f"openai: {self.endpoint} timed out after {self.timeout:g}s") from None
        except openai.APIConnectionError as exc:
            reason = exc.__cause__ or exc
            raise BackendUnavailable(f"openai: cannot reach {self.endpoint} ({reason})") from None
        except openai.APIStatusError as exc:
            detail = re.sub(r"^Error code: \d+ - ", "", exc.message)
            if schema is not None and refuses_schema(exc.status_code, exc.message):
                raise _SchemaRefused(f"HTTP {exc.status_code}: {detail}") from None
            raise BackendUnavailable(
                f"openai: {self.endpoint} answered HTTP {exc.status_code}: {detail}"
            ) from None
        except Exception as exc:
            raise BackendUnavailable(f"openai: {type(exc).__name__}: {exc}") from exc


def create(settings: Settings) -> OpenAIChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise missing_extra("openai", "openai", exc) from None
    if settings.openai_base_url is None:  # never fall back to a public endpoint nobody configured
        raise BackendUnavailable(
            "the openai backend has no endpoint configured",
            hint="set ASSISTANT_OPENAI_BASE_URL (for OpenAI itself: https://api.openai.com/v1)",
        )
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    chat = ChatOpenAI(
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        api_key=key,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_retries,
        temperature=0,
        max_tokens=settings.llm_max_tokens,
    )
    return OpenAIChatModel(chat=chat, endpoint=settings.openai_base_url, timeout=settings.llm_timeout)
