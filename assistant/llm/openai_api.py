"""The ``openai`` backend: any OpenAI-compatible chat endpoint through langchain-openai.

vLLM, Ollama, a llama.cpp server or OpenAI itself: ``ASSISTANT_OPENAI_BASE_URL``,
``ASSISTANT_OPENAI_MODEL`` and ``ASSISTANT_OPENAI_API_KEY``. Requests time out after
``ASSISTANT_LLM_TIMEOUT`` seconds and are retried ``ASSISTANT_LLM_RETRIES`` times.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

from assistant.errors import BackendUnavailable
from assistant.llm.chat import ChatMessage, ChatModel, JsonSchema, missing_extra
from assistant.settings import Settings


class OpenAIChatModel(ChatModel):
    name = "openai"

    def __init__(self, *, chat: Any, endpoint: str, timeout: float) -> None:
        self.chat = chat
        self.endpoint = endpoint
        self.timeout = timeout

    def stream(self, messages: Sequence[ChatMessage], *, schema: JsonSchema | None = None) -> Iterator[str]:
        import openai

        started = time.monotonic()
        try:
            for chunk in self.chat.stream([(m.role, m.content) for m in messages]):
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
