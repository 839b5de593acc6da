"""Structured output over the OpenAI chat API: the request field that carries the JSON schema an answer
should follow, and how to tell that a server refused it.

``response_format: {"type": "json_schema", ...}`` is the form OpenAI, vLLM, Ollama and llama.cpp's
``llama-server`` take. ``strict`` is off: the schemas use ``maxLength`` / ``maxItems`` and optional
fields, which OpenAI's strict mode refuses; the server constrains to the schema where it can and the
answer is validated on our side anyway. A server that does not take schemas answers 400 (or 422) naming
the field; the caller then asks again without one.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.llm.chat import JsonSchema

DEFAULT_NAME = "answer"
_NOT_A_NAME_CHAR = re.compile(r"[^A-Za-z0-9_-]+")
# What a refusal of the schema says (OpenAI: "'response_format' of type 'json_schema' is not supported
# with this model"; a FastAPI-based server's 422 names the body field).
_REFUSAL = re.compile(r"response_format|response format|json_schema|not supported|unsupported", re.IGNORECASE)


def response_format(schema: JsonSchema) -> dict[str, Any]:
    """The ``response_format`` request field that asks for JSON following ``schema``."""
    title = schema.get("title")
    name = _NOT_A_NAME_CHAR.sub("_", title).strip("_")[:64] if isinstance(title, str) else ""
    return {
        "type": "json_schema",
        "json_schema": {"name": name or DEFAULT_NAME, "schema": schema, "strict": False},
    }


def refuses_schema(status: int, message: str) -> bool:
    """Whether an HTTP error answering a request with a schema says the server does not take one."""
    return status in (400, 422) and _REFUSAL.search(message) is not None


def refusal_warning(endpoint: str, detail: str) -> str:
    return (
        f"{endpoint} does not take a JSON schema as response_format ({detail}); "
        "asking without one from now on, so answers follow the prompt's instructions only"
    )
