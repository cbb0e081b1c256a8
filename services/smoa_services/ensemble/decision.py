"""Whether to stop after a layer or run another: the one type for it in the services, the reply fields the
judge's and moderator's prompts ask for, the one reader of those fields, the smoa.v1.Decision it is on
the wire, and the rule that decides when no LLM did.

Who decides what: the orchestrator knows the cap and asks for no decision at the last layer (it runs no
moderator there and tells a fused judge not to decide). Before it, the moderator's or the fused judge's
LLM decides, and the rule stands in when that LLM fails or gives no valid decision."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smoa.v1 import common_pb2
from smoa_services.llm.json_reply import ReplyError


class Decision(enum.StrEnum):
    """The moderator's word after a layer (the fused judge's when it moderates too)."""

    STOP = "stop"
    CONTINUE = "continue"


@dataclass(frozen=True)
class ReasonedDecision:
    decision: Decision
    reason: str


# What a prompt asks for, inside its JSON object...
DECISION_FIELDS = '"decision": "stop" or "continue", "reason": "<one sentence>"'
# ...and the same as JSON schema properties, for backends that constrain decoding to a schema (the reader
# still checks every reply).
DECISION_PROPERTIES: dict[str, Any] = {
    "decision": {"enum": [d.value for d in Decision]},
    "reason": {"type": "string"},
}
# A reply that is a decision and nothing else: the moderator's.
DECISION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": DECISION_PROPERTIES,
    "required": list(DECISION_PROPERTIES),
    "additionalProperties": False,
}

_WORDS = {d.value: d for d in Decision}


def read_decision(reply: Mapping[str, object]) -> ReasonedDecision:
    """The decision in a reply's "decision" and "reason" fields. Case and spaces around the word do not
    matter, and a reason that is missing or not a string reads as none: neither is worth a retry. No valid
    word is a ReplyError, which the moderator retries on and the fused judge reads as no vote (its scores
    are still good)."""
    raw = reply.get("decision")
    decision = _WORDS.get(raw.strip().lower()) if isinstance(raw, str) else None
    if decision is None:
        problem = '"decision" must be "stop" or "continue"'
        raise ReplyError(problem, detail=f"{problem}, got {str(raw)[:60]!r}")
    reason = reply.get("reason")
    return ReasonedDecision(decision, reason.strip() if isinstance(reason, str) else "")


def layers_remain(layer: int, max_layers: int) -> bool:
    """Whether a decision is worth asking for after ``layer`` (1-based): at the cap there is only stop."""
    return layer < max_layers


def by_rule(layer: int, max_layers: int) -> ReasonedDecision:
    """The decision when no LLM gave one (it failed, answered no valid decision, or was not asked):
    another layer while layers remain, else stop."""
    if layers_remain(layer, max_layers):
        return ReasonedDecision(Decision.CONTINUE, f"continuing by rule: layer {layer} of {max_layers}")
    return ReasonedDecision(Decision.STOP, f"stopping by rule: no layers remain after layer {layer}")


_TO_WIRE = {Decision.STOP: common_pb2.DECISION_STOP, Decision.CONTINUE: common_pb2.DECISION_CONTINUE}
_FROM_WIRE = {value: decision for decision, value in _TO_WIRE.items()}


def decision_to_wire(decision: Decision | None) -> common_pb2.Decision.ValueType:
    """None (no decision was made: dense MoA, a judge not asked to decide, a layer that ended before its
    moderation) is UNSPECIFIED."""
    return common_pb2.DECISION_UNSPECIFIED if decision is None else _TO_WIRE[decision]


def decision_from_wire(value: common_pb2.Decision.ValueType) -> Decision | None:
    """UNSPECIFIED, and any value this build does not know, is no decision."""
    return _FROM_WIRE.get(value)
