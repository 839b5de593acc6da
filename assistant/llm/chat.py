"""Chat-model backends, registered by name and imported only when chosen.

``extractive`` needs no model: it composes the answer from the matched incidents. Every other backend
is a ``ChatModel``: messages in, text out (streamed). A backend module exposes
``create(settings) -> ChatModel`` and imports its optional libraries inside it, so a missing extra
is a ``BackendUnavailable`` with the install command, not an ImportError at start-up.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any, Literal

from assistant import tracing
from assistant.errors import BackendUnavailable
from assistant.settings import Settings

EXTRACTIVE = "extractive"
# The module of each chat-model backend; ``extractive`` has none (the diagnosis composes it without a model).
BACKENDS: dict[str, str] = {
    EXTRACTIVE: "",
    "llamacpp": "assistant.llm.llamacpp",
    "openai": "assistant.llm.openai_api",
    "fake": "assistant.llm.fake",
}


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


JsonSchema = dict[str, Any]


class ChatModel(ABC):
    """The one interface a model backend implements."""

    name: str

    @abstractmethod
    def stream(self, messages: Sequence[ChatMessage], *, schema: JsonSchema | None = None) -> Iterator[str]:
        """Text chunks as the model writes them. ``schema``: the JSON the answer should follow (a
        backend that can constrain its output uses it; others rely on the prompt). Failures raise
        ``BackendUnavailable``."""

    def generate(self, messages: Sequence[ChatMessage], *, schema: JsonSchema | None = None) -> str:
        return "".join(self.stream(messages, schema=schema))


def missing_extra(backend: str, extra: str, exc: ImportError) -> BackendUnavailable:
    return BackendUnavailable(
        f"the {backend} backend needs an optional package that is not installed ({exc.name or exc})",
        hint=f"pip install 'incident-assistant[{extra}]', or set ASSISTANT_LLM=extractive",
    )


def check_name(name: str) -> str:
    if name not in BACKENDS:
        raise BackendUnavailable(
            f"unknown backend {name!r}", hint=f"choose one of {', '.join(BACKENDS)} (ASSISTANT_LLM)"
        )
    return name


def is_set_up(name: str, settings: Settings) -> bool:
    """Whether backend ``name`` has what it needs to answer, checked without loading anything."""
    if name == "openai":
        return settings.openai_base_url is not None and find_spec("langchain_openai") is not None
    if name == "llamacpp":
        return find_spec("llama_cpp") is not None
    return name in BACKENDS


def selectable_backends(settings: Settings) -> list[str]:
    """Backends a request may choose: ``ASSISTANT_LLM`` and ``ASSISTANT_LLM_CHOICES``, if set up."""
    wanted = {settings.llm, *settings.llm_choices}
    return [name for name in BACKENDS if name in wanted and is_set_up(name, settings)]


def create_chat_model(name: str, settings: Settings) -> ChatModel:
    """Import the backend's module and build its model, traced. Raises ``BackendUnavailable``."""
    if check_name(name) == EXTRACTIVE:
        raise BackendUnavailable("the extractive backend is not a chat model")
    module = importlib.import_module(BACKENDS[name])
    model: ChatModel = module.create(settings)
    return TracedChatModel(model, settings)


PROVIDERS = {"openai": "openai", "llamacpp": "llama.cpp", "fake": "fake"}


class TracedChatModel(ChatModel):
    """A backend whose every call is a GenAI ``chat <model>`` span (a no-op unless tracing is on):
    the provider, model, token limit and output type, then how many characters came back, or the
    error's type."""

    def __init__(self, model: ChatModel, settings: Settings) -> None:
        self.model = model
        self.name = model.name
        if model.name == "openai":
            self.model_name = settings.openai_model
        elif model.name == "llamacpp" and settings.llm_model_path is not None:
            self.model_name = settings.llm_model_path.name
        else:
            self.model_name = model.name
        self.max_tokens = settings.llm_max_tokens

    def __getattr__(self, name: str) -> Any:  # the backend's own attributes (e.g. a fake's calls)
        return getattr(self.model, name)

    def stream(self, messages: Sequence[ChatMessage], *, schema: JsonSchema | None = None) -> Iterator[str]:
        span = tracing.start(
            f"chat {self.model_name}",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": PROVIDERS.get(self.name, self.name),
                "gen_ai.request.model": self.model_name,
                "gen_ai.request.max_tokens": self.max_tokens,
                "gen_ai.output.type": "json" if schema else "text",
            },
        )
        written = 0
        try:
            for chunk in self.model.stream(messages, schema=schema):
                written += len(chunk)
                yield chunk
        except Exception as exc:
            span.set_attribute("error.type", type(exc).__name__)
            raise
        finally:
            span.set_attribute("assistant.output.chars", written)
            span.end()
