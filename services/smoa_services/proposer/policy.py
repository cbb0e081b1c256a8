"""The proposer's policy: one agent of a layer answers the conversation in its role and, from layer 2 on,
improves on the previous layer's kept answers. Plain Python over a ChatModel, so it runs without gRPC."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from smoa_services.ensemble.answer_format import AnswerFormat
from smoa_services.llm import ChatModel, Completion, ModelChoice
from smoa_services.proposer.prompt import proposer_messages


@dataclass(frozen=True)
class ProposalTask:
    """What one agent is asked: the conversation, its role, and the references it builds on."""

    conversation: Sequence[Mapping[str, str]]
    role: str
    references: Sequence[str]
    model: ModelChoice
    answer_format: AnswerFormat = field(default_factory=AnswerFormat)


class Proposer:
    def __init__(self, chat: ChatModel):
        self.chat = chat

    async def propose(self, task: ProposalTask, timeout: float) -> Completion:
        form = task.answer_format
        told = form.instruction() if form.json else ""
        messages = proposer_messages(task.conversation, task.role, task.references, told)
        completion = await self.chat.complete(
            messages, task.model, timeout=timeout, json_mode=form.json, schema=form.schema_object
        )
        if not form.json:
            return completion
        # Canonical where it parses, so answers that differ only in key order or spacing are one answer.
        return dataclasses.replace(completion, text=form.comparable(completion.text))
