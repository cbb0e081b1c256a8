"""A ModerateRequest: what makes it acceptable, and the policy's task it becomes."""

from __future__ import annotations

from smoa.v1 import moderator_pb2
from smoa_services.config import Settings
from smoa_services.moderator.policy import ModerationTask
from smoa_services.rpc.failure import Violation, refuse
from smoa_services.wire import convert
from smoa_services.wire.validation import (
    check_candidates,
    check_layers,
    check_messages,
    check_model,
    check_prompt_size,
    conversation_chars,
)


def moderate_violations(request: moderator_pb2.ModerateRequest, settings: Settings) -> list[Violation]:
    found = [
        *check_messages(request.messages, settings),
        *check_candidates(request.kept, settings, "kept"),
        *check_model(request.model, settings),
    ]
    if not request.kept:
        found.append(Violation("kept", "must hold at least one answer"))
    found += check_layers(request.layer, request.max_layers)
    chars = conversation_chars(request.messages) + sum(len(c.text) for c in request.kept)
    found += check_prompt_size(chars, settings.max_prompt_chars)
    return found


def moderation_task(request: moderator_pb2.ModerateRequest, settings: Settings) -> ModerationTask:
    """The policy's input, or InvalidArgument naming every field that is wrong."""
    refuse(moderate_violations(request, settings))
    return ModerationTask(
        conversation=convert.chat_messages(request.messages),
        kept=[c.text for c in request.kept],
        layer=request.layer,
        max_layers=request.max_layers,
        consensus_threshold=settings.consensus_threshold,
    )
