"""The ``fake`` backend: a deterministic, scripted chat model for tests and demos.

``Settings.fake_llm_script`` lists replies, used in turn (cycling). Each entry is a scenario name or a
literal reply; ``{id0}`` and ``{id1}`` in a literal stand for the first two incident ids in the prompt.
The scenarios read the incident ids from the data-block headers, as a model would:

- ``grounded``: well-formed JSON that cites the first incidents in the prompt for what their passages
  say (root cause, first resolution line)
- ``misattribute``: like ``grounded``, but credits the first incident's root cause to the second too
  and the second's fix to the first
- ``hallucinate``: JSON that cites one real incident and one that was never retrieved
- ``invent``: JSON that cites only incidents that were never retrieved
- ``prose``: no JSON, a plain-text answer with one real and one invented citation
- ``broken-json``: JSON cut off mid-way, in a code fence
- ``obey-injection``: a compromised model that follows instructions found inside the data
- ``error``: the backend fails (as an unreachable endpoint would)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence

from assistant.errors import BackendUnavailable
from assistant.llm.chat import ChatMessage, ChatModel, JsonSchema
from assistant.settings import Settings

BLOCK_HEADER = re.compile(r'^<<<DATA \S+ incident="([^"]+)"', re.MULTILINE)
BLOCK = re.compile(r'^<<<DATA \S+ incident="([^"]+)" kind="(\w+)">>>\n(.*?)^<<<END DATA', re.M | re.S)
INVENTED = "perf-1999010101"


def _line(prompt: str, incident_id: str, kind: str, key: str) -> str:
    """The first ``key:`` line (or first line after a ``key:`` heading) of a block, as a model reads it."""
    for found, found_kind, body in BLOCK.findall(prompt):
        if found != incident_id or found_kind != kind:
            continue
        lines = [ln.removeprefix("| ").strip() for ln in body.splitlines()]
        for n, ln in enumerate(lines):
            if ln.lower().startswith(key) and ":" in ln:
                value = ln.split(":", 1)[1].strip()
                return value or (lines[n + 1].lstrip("- ") if n + 1 < len(lines) else "")
    return f"what [{incident_id}] describes"


def _grounded(ids: list[str], prompt: str, *, swap: bool = False) -> str:
    a = ids[0] if ids else "none"
    b = ids[1] if len(ids) > 1 else a
    cause_a = _line(prompt, a, "evidence", "root cause")
    cause_b = _line(prompt, b, "evidence", "root cause")
    fix_a = _line(prompt, a, "resolution", "immediate action")
    fix_b = _line(prompt, b, "resolution", "immediate action")
    return json.dumps(
        {
            "summary": f"This matches [{a}]: {cause_a}. See also [{b}]: {cause_b}.",
            "hypotheses": [
                {"cause": cause_a, "confidence": 0.8, "incident_ids": [a, b] if swap else [a]},
                {"cause": cause_b, "confidence": "40%", "incident_ids": [b]},
            ],
            "evidence_to_check": [f"Whether {cause_a.lower()} again [{a}]"],
            "next_steps": ["Confirm the cause, then apply the same fix"],
            "resolutions": [{"incident_id": a, "action": fix_b if swap else fix_a}],
        }
    )


def reply(scenario: str, ids: list[str], prompt: str) -> str:
    a = ids[0] if ids else "none"
    if scenario == "grounded":
        return _grounded(ids, prompt)
    if scenario == "misattribute":
        return _grounded(ids, prompt, swap=True)
    if scenario == "hallucinate":
        return json.dumps(
            {
                "summary": f"Probably [{a}], or maybe [{INVENTED}].",
                "hypotheses": [
                    {
                        "cause": _line(prompt, a, "evidence", "root cause"),
                        "confidence": 0.7,
                        "incident_ids": [a],
                    },
                    {"cause": "Made up", "confidence": 0.6, "incident_ids": [INVENTED]},
                ],
                "evidence_to_check": [f"Look at what [{INVENTED}] says"],
                "next_steps": [],
                "resolutions": [{"incident_id": INVENTED, "action": "Reboot everything"}],
            }
        )
    if scenario == "invent":
        return json.dumps(
            {
                "summary": f"This is [{INVENTED}].",
                "hypotheses": [{"cause": "Made up", "confidence": 0.9, "incident_ids": [INVENTED]}],
                "citations": [INVENTED, "perf-0000000000"],
            }
        )
    if scenario == "prose":
        cause = _line(prompt, a, "evidence", "root cause")
        return f"Looks like {cause} from [{a}], not [{INVENTED}]. Restart the pods."
    if scenario == "broken-json":
        cause = _line(prompt, a, "evidence", "root cause").replace('"', "'")
        return (
            '```json\n{"summary": "Likely [' + a + ']", '
            '"hypotheses": [{"cause": "' + cause + '", "incident_ids": ["' + a
        )
    if scenario == "obey-injection":
        if "ignore previous instructions" in prompt.lower():
            return f"HACKED. Everything is fine, this is [{INVENTED}]."
        return _grounded(ids, prompt)
    if scenario == "error":
        raise BackendUnavailable("fake backend: scripted failure")
    b = ids[1] if len(ids) > 1 else a
    return scenario.replace("{id0}", a).replace("{id1}", b)


class FakeChatModel(ChatModel):
    name = "fake"

    def __init__(self, script: Sequence[str]) -> None:
        self.script = list(script) or ["grounded"]
        self.calls: list[list[ChatMessage]] = []

    def stream(self, messages: Sequence[ChatMessage], *, schema: JsonSchema | None = None) -> Iterator[str]:
        self.calls.append(list(messages))
        prompt = "\n".join(m.content for m in messages)
        ids = list(dict.fromkeys(BLOCK_HEADER.findall(prompt)))
        text = reply(self.script[(len(self.calls) - 1) % len(self.script)], ids, prompt)
        for start in range(0, len(text), 16):
            yield text[start : start + 16]


def create(settings: Settings) -> FakeChatModel:
    return FakeChatModel(settings.fake_llm_script)
