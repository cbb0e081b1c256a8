"""A JudgeRequest: what makes it acceptable, and the policy's task it becomes."""

from __future__ import annotations

from smoa.v1 import judge_pb2
from smoa_services.config import MAX_JUDGE_PASSES, Settings
from smoa_services.ensemble.ranking_methods import (
    DEFAULT_AGGREGATION,
    DEFAULT_SELECTION,
    aggregation_from_wire,
    known_aggregation,
    known_selection,
    selection_from_wire,
)
from smoa_services.judge.policy import JudgeTask
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


def judge_violations(request: judge_pb2.JudgeRequest, settings: Settings) -> list[Violation]:
    found = [
        *check_messages(request.messages, settings),
        *check_candidates(request.candidates, settings, "candidates"),
        *check_model(request.model, settings),
    ]
    if not request.candidates:
        found.append(Violation("candidates", "must hold at least one candidate"))
    elif not 1 <= request.k <= len(request.candidates):
        found.append(Violation("k", f"must be between 1 and {len(request.candidates)}, got {request.k}"))
    if not 0 <= request.passes <= MAX_JUDGE_PASSES:
        found.append(Violation("passes", f"must be between 0 (service default) and {MAX_JUDGE_PASSES}"))
    if not known_aggregation(request.aggregation):
        found.append(Violation("aggregation", f"unknown AggregationMethod {request.aggregation}"))
    if not known_selection(request.selection):
        found.append(Violation("selection", f"unknown SelectionMethod {request.selection}"))
    if request.fused:  # it decides too, as the moderator would
        found += check_layers(request.layer, request.max_layers)
    chars = conversation_chars(request.messages) + sum(len(c.text) for c in request.candidates)
    found += check_prompt_size(chars, settings.max_prompt_chars)
    return found


def judge_task(request: judge_pb2.JudgeRequest, settings: Settings) -> JudgeTask:
    """The policy's input, or InvalidArgument naming every field that is wrong."""
    refuse(judge_violations(request, settings))
    return JudgeTask(
        conversation=convert.chat_messages(request.messages),
        ids=[c.id for c in request.candidates],
        texts=[c.text for c in request.candidates],
        k=request.k,
        passes=request.passes or settings.judge_passes,
        seed=request.seed,
        aggregation=aggregation_from_wire(request.aggregation) or DEFAULT_AGGREGATION,
        selection=selection_from_wire(request.selection) or DEFAULT_SELECTION,
        fused=request.fused,
        layer=request.layer,
        max_layers=request.max_layers,
        dedup_threshold=settings.dedup_threshold,
    )
