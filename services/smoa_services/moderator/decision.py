"""Reading the moderator's reply: {"decision": "stop" | "continue", "reason": "..."}."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from smoa_services.llm.json_reply import ReplyError, json_object

Decision = Literal["stop", "continue"]


# For backends that constrain decoding to a schema (the parse below still checks every reply).
DECISION_SCHEMA = {
    "type": "object",
    "properties": {"decision": {"enum": ["stop", "continue"]}, "reason": {"type": "string"}},
    "required": ["decision", "reason"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ModeratorDecision:
    decision: Decision
    reason: str


def parse_decision(text: str) -> ModeratorDecision:
    reply = json_object(text)
    raw = reply.get("decision")
    decision = raw.strip().lower() if isinstance(raw, str) else None
    problems, quoted = [], []
    if decision not in ("stop", "continue"):
        problems.append('"decision" must be "stop" or "continue"')
        quoted.append(f'"decision" must be "stop" or "continue", got {str(raw)[:60]!r}')
    reason = reply.get("reason", "")
    if not isinstance(reason, str):
        problems.append('"reason" must be a string')
        quoted.append(problems[-1])
    if problems:
        raise ReplyError("; ".join(problems), detail="; ".join(quoted))
    assert isinstance(reason, str)
    return ModeratorDecision("stop" if decision == "stop" else "continue", reason.strip())
