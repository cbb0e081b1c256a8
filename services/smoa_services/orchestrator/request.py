"""A GenerateRequest: what it must satisfy (all violations at once, named by field path, before any LLM
call is made), and the Plan it becomes, every default filled in."""

from __future__ import annotations

import dataclasses

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_services.config import MAX_JUDGE_PASSES, Settings
from smoa_services.ensemble.ranking_methods import (
    aggregation_from_wire,
    known_aggregation,
    known_selection,
    selection_from_wire,
)
from smoa_services.orchestrator.plan import Mode, Plan, proposer_seed
from smoa_services.orchestrator.prompt_room import max_conversation_chars
from smoa_services.orchestrator.quorum import default_quorum
from smoa_services.rpc.failure import Violation, refuse
from smoa_services.wire import convert
from smoa_services.wire.validation import (
    check_messages,
    check_metadata,
    check_model,
    check_response_format,
    check_stop,
    check_text,
    check_tools,
    conversation_chars,
)

MODES = {
    orchestrator_pb2.MODE_UNSPECIFIED: Mode.SMOA,
    orchestrator_pb2.MODE_SMOA: Mode.SMOA,
    orchestrator_pb2.MODE_MOA: Mode.MOA,
    orchestrator_pb2.MODE_SINGLE: Mode.SINGLE,
    orchestrator_pb2.MODE_AUTO: Mode.AUTO,
}


def plan(request: orchestrator_pb2.GenerateRequest, settings: Settings) -> Plan:
    """The pipeline's input, or InvalidArgument naming every field that is wrong."""
    refuse(check_request(request, settings))
    return plan_of(request, settings)


def check_request(request: orchestrator_pb2.GenerateRequest, settings: Settings) -> list[Violation]:
    found = check_messages(request.messages, settings)
    max_n, max_layers = settings.max_proposers, settings.max_layers_limit
    size = conversation_chars(request.messages)
    most = max_conversation_chars(
        min(max(request.n, 0) or settings.n, max_n), settings.max_prompt_chars, settings.max_role_chars
    )
    if size > most:
        # Refused now, not by a peer after a layer was paid for: every prompt built from the conversation
        # also holds a role and the answers.
        found.append(
            Violation(
                "messages",
                f"the conversation has {size} characters, over the {most} that leave room for a role and "
                f"the answers in the prompts built from it (max_prompt_chars {settings.max_prompt_chars})",
            )
        )
    if request.mode not in orchestrator_pb2.Mode.values():
        found.append(Violation("mode", f"unknown mode {request.mode}"))
    if not known_aggregation(request.aggregation):
        found.append(Violation("aggregation", f"unknown AggregationMethod {request.aggregation}"))
    if not known_selection(request.selection):
        found.append(Violation("selection", f"unknown SelectionMethod {request.selection}"))
    if not 0 <= request.n <= max_n:
        found.append(Violation("n", f"must be in [1, {max_n}] (0 = default), got {request.n}"))
    n = request.n or settings.n
    # Counts of proposers: at most n (checked against n only when n itself is valid).
    for name in ("k", "quorum", "first_layer_start"):
        value = getattr(request, name)
        if value < 0 or (0 <= request.n <= max_n and value > n):
            found.append(Violation(name, f"must be in [1, n={n}] (0 = default), got {value}"))
    if not 0 <= request.max_layers <= max_layers:
        found.append(
            Violation("max_layers", f"must be in [1, {max_layers}] (0 = default), got {request.max_layers}")
        )
    if not 0 <= request.judge_passes <= MAX_JUDGE_PASSES:
        found.append(
            Violation(
                "judge_passes",
                f"must be between 0 (default) and {MAX_JUDGE_PASSES}, got {request.judge_passes}",
            )
        )
    if request.first_layer_step < 0:
        found.append(
            Violation("first_layer_step", f"must be >= 1 (0 = default), got {request.first_layer_step}")
        )
    if request.token_budget < 0:
        found.append(
            Violation("token_budget", f"must be >= 0 (0 = the service default), got {request.token_budget}")
        )
    found += check_model(request.model, settings, "model")
    seen: set[int] = set()
    # Past max_n they cannot all be distinct proposers: refused as a whole, not a violation per item
    # (a 4 MB request holds hundreds of thousands).
    if len(request.agents) > max_n:
        found.append(Violation("agents", f"{len(request.agents)} overrides, over {max_n}"))
    else:
        for i, agent in enumerate(request.agents):
            if not 0 <= agent.index < n:
                found.append(Violation(f"agents[{i}].index", f"must be in [0, {n}), got {agent.index}"))
            elif agent.index in seen:
                found.append(Violation(f"agents[{i}].index", f"proposer {agent.index} is overridden twice"))
            seen.add(agent.index)
            found += check_model(agent.model, settings, f"agents[{i}].model")
    found += check_stop(request.stop)
    found += check_metadata(request.metadata)
    found += check_response_format(request.response_format)
    found += check_tools(request.tools, request.tool_choice, settings)
    source = request.WhichOneof("role_source")
    if source == "roles":
        if not request.roles.roles:
            found.append(Violation("roles.roles", "must hold at least one role when set"))
        if len(request.roles.roles) > max_n:
            found.append(Violation("roles.roles", f"{len(request.roles.roles)} roles, over {max_n}"))
        else:
            for j, role in enumerate(request.roles.roles):
                if not role.strip():
                    found.append(Violation(f"roles.roles[{j}]", "must not be empty"))
                found += check_text(role, settings.max_role_chars, f"roles.roles[{j}]")
    elif source == "task_description":
        if not request.task_description.strip():
            found.append(Violation("task_description", "must not be empty when set"))
        found += check_text(request.task_description, settings.max_role_chars, "task_description")
    return found


def effective_n(request: orchestrator_pb2.GenerateRequest, settings: Settings) -> int:
    return request.n or settings.n


def plan_of(request: orchestrator_pb2.GenerateRequest, settings: Settings) -> Plan:
    """The plan of a request that passed check_request."""
    n = effective_n(request, settings)
    seed = request.seed or None  # uint64 without presence: 0 means "not set"
    overrides = {a.index: a.model for a in request.agents}
    proposer_models = []
    for i in range(n):
        override = overrides.get(i, common_pb2.ModelSettings())
        choice = convert.model_choice(override, fallback=request.model)
        # The request seed varies per proposer; a seed set on the agent itself is taken as given.
        if seed is not None and not override.HasField("seed"):
            choice = dataclasses.replace(choice, seed=proposer_seed(seed, i))
        proposer_models.append(dataclasses.replace(choice, stop=tuple(request.stop)))
    source = request.WhichOneof("role_source")
    k = request.k or min(settings.k, n)
    answer = convert.answer_format(request.response_format)
    parallel = request.parallel_tool_calls if request.HasField("parallel_tool_calls") else True
    tools = convert.tool_use(request.tools, request.tool_choice, parallel, answer)
    panel, panel_step = first_layer(request, settings, n)
    return Plan(
        conversation=tuple(convert.chat_messages(request.messages)),
        mode=MODES[request.mode],
        n=n,
        k=k,
        quorum=min(n, request.quorum or settings.quorum or default_quorum(n, k)),
        max_layers=request.max_layers or settings.max_layers,
        proposer_models=tuple(proposer_models),
        model=convert.model_choice(request.model),
        roles=tuple(request.roles.roles) if source == "roles" else (),
        task_description=request.task_description if source == "task_description" else "",
        default_roles=tuple(settings.default_roles()),
        fused_judge_moderator=(
            request.fused_judge_moderator
            if request.HasField("fused_judge_moderator")
            else settings.fused_judge_moderator
        ),
        token_budget=request.token_budget or settings.default_token_budget,
        seed=seed,
        aggregation=aggregation_from_wire(request.aggregation),
        selection=selection_from_wire(request.selection),
        judge_passes=request.judge_passes or settings.judge_passes,
        skip_judge_on_consensus=_chosen(
            request.skips, "judge_on_consensus", settings.skip_judge_on_consensus
        ),
        skip_synthesis_on_agreement=_chosen(
            request.skips, "synthesis_on_agreement", settings.skip_synthesis_on_agreement
        ),
        consensus_threshold=settings.consensus_threshold,
        panel=panel,
        panel_step=panel_step,
        rank_agents=request.rank_agents if request.HasField("rank_agents") else settings.rank_agents,
        stop=tuple(request.stop),
        answer_format=tools.reply_format if tools else answer,
        tool_use=tools,
    )


def first_layer(request: orchestrator_pb2.GenerateRequest, settings: Settings, n: int) -> tuple[int, int]:
    """How the first layer is asked (Plan.panel, Plan.panel_step): SMOA's by the first_layer settings, AUTO's
    by its panel and then the rest at once, unless the request says."""
    if request.mode == orchestrator_pb2.MODE_AUTO:
        start, step = settings.auto_panel, 0
    else:
        start, step = settings.first_layer_start, settings.first_layer_step
    return min(request.first_layer_start or start, n), request.first_layer_step or step


def _chosen(skips: orchestrator_pb2.Skips, field: str, default: bool) -> bool:
    """The request's choice where it made one, else the service's."""
    return bool(getattr(skips, field)) if skips.HasField(field) else default  # type: ignore[arg-type]
