"""The moderator's policy: the cheap agreement check first (no LLM call when the answers already
agree), then the LLM's stop/continue decision, validated with one corrective retry. When the LLM fails or
cannot give a valid decision the pipeline still needs one: the rule (continue while layers remain, else
stop), flagged as a fallback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from smoa_services.consensus import agreement_of
from smoa_services.llm import Completion
from smoa_services.llm.chat_model import Ask
from smoa_services.llm.json_reply import ask_json
from smoa_services.moderator.decision import DECISION_SCHEMA, Decision, parse_decision
from smoa_services.moderator.prompt import moderator_messages


@dataclass(frozen=True)
class ModerationTask:
    conversation: Sequence[Mapping[str, str]]
    kept: Sequence[str]
    layer: int
    max_layers: int
    consensus_threshold: float


@dataclass(frozen=True)
class Moderation:
    decision: Decision
    reason: str
    agreement: float
    llm_used: bool
    completions: list[Completion] = field(default_factory=list)
    # The rule decided because the LLM failed or gave no valid decision.
    fallback: bool = False


def fallback_decision(task: ModerationTask, error: str) -> tuple[Decision, str]:
    if task.layer < task.max_layers:
        return "continue", f"the moderator failed ({error}); continuing since layers remain"
    return "stop", f"the moderator failed ({error}); stopping at the last layer"


class Moderator:
    async def moderate(self, task: ModerationTask, ask: Ask) -> Moderation:
        found = agreement_of(task.kept, task.consensus_threshold)
        if found.consensus:
            return Moderation("stop", found.reason, found.agreement, llm_used=False)
        messages = moderator_messages(task.conversation, task.kept, task.layer, task.max_layers)
        reply = await ask_json(ask, messages, parse_decision, schema=DECISION_SCHEMA)
        if reply.value is None:
            decision, reason = fallback_decision(task, reply.error)
        else:
            decision = reply.value.decision
            reason = reply.value.reason or f"the moderator decided to {decision}"
        return Moderation(
            decision,
            reason,
            found.agreement,
            llm_used=True,
            completions=reply.completions,
            fallback=reply.value is None,
        )
