"""The moderator's policy: the cheap agreement check first (no LLM call when the answers already
agree), then the LLM's stop/continue decision, validated with one corrective retry. When the LLM fails or
cannot give a valid decision the pipeline still needs one: the rule's (decision.by_rule), flagged as a
fallback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from smoa_services.ensemble.consensus import agreement_of
from smoa_services.ensemble.decision import (
    DECISION_SCHEMA,
    Decision,
    ReasonedDecision,
    by_rule,
    read_decision,
)
from smoa_services.llm import Completion
from smoa_services.llm.chat_model import Ask
from smoa_services.llm.json_reply import ask_json, json_object
from smoa_services.moderator.prompt import moderator_messages


@dataclass(frozen=True)
class ModerationTask:
    conversation: Sequence[Mapping[str, str]]
    kept: Sequence[str]
    layer: int
    max_layers: int
    consensus_threshold: float


@dataclass(frozen=True)
class ModerationOutcome:
    decision: Decision
    reason: str
    agreement: float
    llm_used: bool
    completions: list[Completion] = field(default_factory=list)
    # The rule decided because the LLM failed or gave no valid decision.
    fallback: bool = False


def parse_decision(text: str) -> ReasonedDecision:
    return read_decision(json_object(text))


class Moderator:
    async def moderate(self, task: ModerationTask, ask: Ask) -> ModerationOutcome:
        found = agreement_of(task.kept, task.consensus_threshold)
        if found.consensus:
            return ModerationOutcome(Decision.STOP, found.reason, found.agreement, llm_used=False)
        messages = moderator_messages(task.conversation, task.kept, task.layer, task.max_layers)
        reply = await ask_json(ask, messages, parse_decision, schema=DECISION_SCHEMA)
        if reply.value is None:
            rule = by_rule(task.layer, task.max_layers)
            decision, reason = rule.decision, f"the moderator failed ({reply.error}); {rule.reason}"
        else:
            decision = reply.value.decision
            reason = reply.value.reason or f"the moderator decided to {decision.value}"
        return ModerationOutcome(
            decision,
            reason,
            found.agreement,
            llm_used=True,
            completions=reply.completions,
            fallback=reply.value is None,
        )
