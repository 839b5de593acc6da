"""Optional LLM judge: any OpenAI-compatible ``/chat/completions`` endpoint grades an answer against
the gold incident with the fixed rubric in ``prompts/eval_judge.j2``. Off unless a URL is configured.

The reply's JSON schema (``VERDICT_SCHEMA``) goes with each request as ``response_format``; a server that
refuses it is asked again without it, and from then on without.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx

from assistant import tracing
from assistant.diagnosis.prompts import Prompts
from assistant.errors import BackendUnavailable
from assistant.llm.chat import JsonSchema
from assistant.llm.structured import refusal_warning, refuses_schema, response_format

log = logging.getLogger(__name__)

TEMPLATE = "eval_judge.j2"
SCORES = {"correct": 1.0, "partly_correct": 0.5, "related": 0.25, "wrong": 0.0}
_JSON = re.compile(r"\{.*\}", re.DOTALL)
# Longest names first, so "partly correct" is not read as "correct".
_NAMES = sorted(SCORES, key=len, reverse=True)
# What the rubric asks the judge to reply with (its last lines), as a JSON schema.
VERDICT_SCHEMA: JsonSchema = {
    "title": "verdict",
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": list(SCORES)},
        "reason": {"type": "string", "maxLength": 300},
    },
    "required": ["verdict", "reason"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class JudgeVerdict:
    verdict: str
    score: float
    reason: str


def parse_verdict(text: str) -> JudgeVerdict:
    """The verdict from the judge's reply: its JSON object, else the first rubric word in the text."""
    reason = ""
    verdict: str | None = None
    if match := _JSON.search(text):
        try:
            obj = json.loads(match.group(0))
            if isinstance(obj, dict):
                verdict = str(obj.get("verdict", "")).strip().lower().replace(" ", "_").replace("-", "_")
                reason = str(obj.get("reason", ""))
        except json.JSONDecodeError:
            verdict = None
    if verdict not in SCORES:
        lowered = text.lower().replace("-", "_").replace("partly correct", "partly_correct")
        positions = {name: lowered.find(name) for name in _NAMES}
        found = [(pos, name) for name, pos in positions.items() if pos >= 0]
        # "partly_correct" contains "correct" at a later offset; prefer the longest name at a position.
        found.sort(key=lambda item: (item[0], -len(item[1])))
        if not found:
            return JudgeVerdict(verdict="unparsed", score=0.0, reason=text.strip()[:300])
        verdict = found[0][1]
        reason = reason or text.strip()[:300]
    return JudgeVerdict(verdict=verdict, score=SCORES[verdict], reason=reason)


class OpenAIJudge:
    """Grades with one chat completion per answer (temperature 0)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        prompts: Prompts | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.prompts = prompts or Prompts()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = client or httpx.Client(timeout=timeout, headers=headers)
        self.response_format = response_format(VERDICT_SCHEMA)
        self.takes_schemas = True
        """False once the endpoint refused the verdict's JSON schema (and took the request without it)."""

    @property
    def id(self) -> str:
        return f"{self.model} @ {self.url}"

    def judge(self, *, query: str, answer: str, reference: str, in_corpus: bool) -> JudgeVerdict:
        prompt = self.prompts.render(
            TEMPLATE, query=query, answer=answer, reference=reference, in_corpus=in_corpus
        )
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": 0,
            "messages": [{"role": "user", "content": prompt}],
        }
        with tracing.span(f"chat {self.model}", self._attributes) as span:
            content = self._completion(body, span)
        return parse_verdict(str(content or ""))

    @property
    def _attributes(self) -> dict[str, tracing.Attribute]:
        """The GenAI attributes of the judge's model call, like every other model call's."""
        return {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": self.model,
            "gen_ai.request.temperature": 0.0,
            "gen_ai.output.type": "json",
            "assistant.model.role": "judge",
        }

    def _completion(self, body: dict[str, Any], span: Any) -> Any:
        try:
            response = self._post(body)
            response.raise_for_status()
            content = response.json()["choices"][0]["message"]["content"]
        except httpx.HTTPError as exc:
            span.set_attribute("error.type", type(exc).__name__)
            raise BackendUnavailable(
                f"the judge endpoint {self.url} failed: {exc}",
                hint="check ASSISTANT_EVAL_JUDGE_BASE_URL / --judge-url, or run without --judge",
            ) from None
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            span.set_attribute("error.type", type(exc).__name__)
            raise BackendUnavailable(
                f"the judge endpoint {self.url} did not return a chat completion",
                hint="point --judge-url at an OpenAI-compatible base URL (ending in /v1)",
            ) from None
        span.set_attribute("assistant.output.chars", len(str(content or "")))
        return content

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        """One chat completion, with the verdict's schema unless the endpoint refused it before."""
        if not self.takes_schemas:
            return self.client.post(self.url, json=body)
        response = self.client.post(self.url, json={**body, "response_format": self.response_format})
        if not refuses_schema(response.status_code, response.text):
            return response
        refusal = f"HTTP {response.status_code}: {response.text[:200]}"
        response = self.client.post(self.url, json=body)
        if response.is_success:
            self.takes_schemas = False
            log.warning(refusal_warning(self.url, refusal))
        return response

    def close(self) -> None:
        self.client.close()
