"""A ProposeRequest: what makes it acceptable, and the proposer's task it becomes."""

from __future__ import annotations

import dataclasses

from smoa.v1 import proposer_pb2
from smoa_services.config import Settings
from smoa_services.proposer.policy import ProposalTask
from smoa_services.rpc.failure import Violation, refuse
from smoa_services.wire import convert
from smoa_services.wire.validation import (
    check_candidates,
    check_messages,
    check_model,
    check_prompt_size,
    check_response_format,
    check_stop,
    check_text,
    conversation_chars,
)


def propose_violations(request: proposer_pb2.ProposeRequest, settings: Settings) -> list[Violation]:
    chars = (
        conversation_chars(request.messages)
        + len(request.role)
        + sum(len(r.text) for r in request.references)
    )
    return [
        *check_messages(request.messages, settings),
        *check_candidates(request.references, settings, "references"),
        *check_model(request.model, settings),
        *check_text(request.role, settings.max_role_chars, "role"),
        *check_prompt_size(chars, settings.max_prompt_chars),
        *check_stop(request.stop),
        *check_response_format(request.response_format),
    ]


def proposal_task(request: proposer_pb2.ProposeRequest, settings: Settings) -> ProposalTask:
    """The policy's input, or InvalidArgument naming every field that is wrong."""
    refuse(propose_violations(request, settings))
    return ProposalTask(
        conversation=convert.chat_messages(request.messages),
        role=request.role,
        references=[r.text for r in request.references],
        model=dataclasses.replace(convert.model_choice(request.model), stop=tuple(request.stop)),
        answer_format=convert.answer_format(request.response_format),
    )
