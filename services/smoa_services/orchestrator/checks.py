"""What a GenerateRequest must satisfy, all violations at once, named by field path, before any LLM call
is made."""

from __future__ import annotations

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_services.config import Settings
from smoa_services.failure import Violation
from smoa_services.validation import check_messages, check_model, check_text

MAX_N = 32
MAX_LAYERS = 10


def check_request(request: orchestrator_pb2.GenerateRequest, settings: Settings) -> list[Violation]:
    found = check_messages(request.messages, settings)
    size = sum(len(m.content) for m in request.messages)
    if size > settings.max_prompt_chars:
        found.append(
            Violation("messages", f"the conversation has {size} characters, over {settings.max_prompt_chars}")
        )
    if request.mode not in orchestrator_pb2.Mode.values():
        found.append(Violation("mode", f"unknown mode {request.mode}"))
    if request.aggregation not in common_pb2.AggregationMethod.values():
        found.append(Violation("aggregation", f"unknown AggregationMethod {request.aggregation}"))
    if request.selection not in common_pb2.SelectionMethod.values():
        found.append(Violation("selection", f"unknown SelectionMethod {request.selection}"))
    if not 0 <= request.n <= MAX_N:
        found.append(Violation("n", f"must be in [1, {MAX_N}] (0 = default), got {request.n}"))
    n = request.n or settings.n
    if request.k < 0 or (0 <= request.n <= MAX_N and request.k > n):
        found.append(Violation("k", f"must be in [1, n={n}] (0 = default), got {request.k}"))
    if not 0 <= request.max_layers <= MAX_LAYERS:
        found.append(
            Violation("max_layers", f"must be in [1, {MAX_LAYERS}] (0 = default), got {request.max_layers}")
        )
    if request.quorum < 0 or (0 <= request.n <= MAX_N and request.quorum > n):
        found.append(Violation("quorum", f"must be in [1, n={n}] (0 = default), got {request.quorum}"))
    if request.token_budget < 0:
        found.append(
            Violation("token_budget", f"must be >= 0 (0 = the service default), got {request.token_budget}")
        )
    found += check_model(request.model, settings, "model")
    seen: set[int] = set()
    for i, agent in enumerate(request.agents):
        if not 0 <= agent.index < n:
            found.append(Violation(f"agents[{i}].index", f"must be in [0, {n}), got {agent.index}"))
        elif agent.index in seen:
            found.append(Violation(f"agents[{i}].index", f"proposer {agent.index} is overridden twice"))
        seen.add(agent.index)
        found += check_model(agent.model, settings, f"agents[{i}].model")
    source = request.WhichOneof("role_source")
    if source == "roles":
        if not request.roles.roles:
            found.append(Violation("roles.roles", "must hold at least one role when set"))
        if len(request.roles.roles) > MAX_N:
            found.append(Violation("roles.roles", f"{len(request.roles.roles)} roles, over {MAX_N}"))
        for j, role in enumerate(request.roles.roles):
            if not role.strip():
                found.append(Violation(f"roles.roles[{j}]", "must not be empty"))
            found += check_text(role, settings.max_role_chars, f"roles.roles[{j}]")
    elif source == "task_description":
        if not request.task_description.strip():
            found.append(Violation("task_description", "must not be empty when set"))
        found += check_text(request.task_description, settings.max_role_chars, "task_description")
    return found
