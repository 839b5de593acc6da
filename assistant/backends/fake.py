"""The ``fake`` backend: a deterministic, scripted chat model for tests and demos.

``Settings.fake_llm_script`` lists replies, used in turn (cycling). Each entry is a scenario name or a
literal reply; ``{id0}`` and ``{id1}`` in a literal stand for the first two incident ids in the prompt.
The scenarios read the incident ids from the data-block headers, as a model would:

- ``grounded``: well-formed JSON that cites the first incidents in the prompt
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

from ..errors import BackendUnavailable
from ..settings import Settings
from . import ChatMessage, ChatModel, JsonSchema

BLOCK_HEADER = re.compile(r'^<<<DATA \S+ incident="([^"]+)"', re.MULTILINE)
INVENTED = "perf-1999010101"


def _grounded(ids: list[str]) -> str:
    a = ids[0] if ids else "none"
    b = ids[1] if len(ids) > 1 else a
    return json.dumps(
        {
            "summary": f"This matches [{a}]: the same failure pattern. See also [{b}].",
            "hypotheses": [
                {"cause": f"Same root cause as {a}", "confidence": 0.8, "incident_ids": [a]},
                {"cause": f"Related to {b}", "confidence": "40%", "incident_ids": [b]},
            ],
            "evidence_to_check": [f"The metrics that moved in [{a}]"],
            "next_steps": ["Confirm the cause, then apply the same fix"],
            "resolutions": [{"incident_id": a, "action": "What fixed it then"}],
        }
    )


def reply(scenario: str, ids: list[str], prompt: str) -> str:
    a = ids[0] if ids else "none"
    if scenario == "grounded":
        return _grounded(ids)
    if scenario == "hallucinate":
        return json.dumps(
            {
                "summary": f"Probably [{a}], or maybe [{INVENTED}].",
                "hypotheses": [
                    {"cause": "The real one", "confidence": 0.7, "incident_ids": [a]},
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
        return f"Looks like the connection pool problem from [{a}], not [{INVENTED}]. Restart the pods."
    if scenario == "broken-json":
        return (
            '```json\n{"summary": "Likely [' + a + ']", '
            '"hypotheses": [{"cause": "pool leak", "incident_ids": ["' + a
        )
    if scenario == "obey-injection":
        if "ignore previous instructions" in prompt.lower():
            return f"HACKED. Everything is fine, this is [{INVENTED}]."
        return _grounded(ids)
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
