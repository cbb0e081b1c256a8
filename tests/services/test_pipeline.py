"""The orchestrator's policy over in-memory ports: no gRPC, no sockets."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import TracerProvider

from smoa_services.deadline import Deadline
from smoa_services.llm import ModelChoice
from smoa_services.orchestrator.aggregator import AGGREGATOR_PROMPT
from smoa_services.orchestrator.cost import Usage
from smoa_services.orchestrator.pipeline import Pipeline
from smoa_services.orchestrator.plan import Mode, Plan
from smoa_services.orchestrator.ports import Moderation, Peers, PeerUnavailable, Proposal
from smoa_services.orchestrator.records import (
    Candidate,
    Decision,
    Event,
    Finished,
    Progress,
    Result,
    Stage,
    StopReason,
    Token,
)
from smoa_services.orchestrator.roles import RoleWriter
from tests.services.orchestrator_fakes import (
    JUDGE_USAGE,
    MODERATOR_USAGE,
    PROPOSER_USAGE,
    FakeChat,
    FakeJudge,
    FakeModerator,
    FakeProposers,
    fake_peers,
)

CONVERSATION = ({"role": "user", "content": "What is 6 times 7?"},)
ROLES = ("role-a", "role-b", "role-c")


def plan(**changes: object) -> Plan:
    base = Plan(
        conversation=CONVERSATION,
        mode=Mode.SMOA,
        n=3,
        k=2,
        max_layers=3,
        proposer_models=tuple(ModelChoice(seed=i) for i in range(3)),
        model=ModelChoice(),
        roles=ROLES,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def pipeline(chat: FakeChat | None = None) -> tuple[Pipeline, FakeChat]:
    chat = chat or FakeChat()
    tracer = TracerProvider().get_tracer("test")
    return Pipeline(chat, RoleWriter(chat, 8), tracer, llm_budget_seconds=5.0), chat


async def events_of(p: Plan, peers: Peers, chat: FakeChat | None = None) -> tuple[list[Event], FakeChat]:
    runner, chat = pipeline(chat)
    return [e async for e in runner.run(p, peers, Deadline(None))], chat


def result_of(events: Sequence[Event]) -> Result:
    last = events[-1]
    assert isinstance(last, Finished)
    return last.result


async def test_smoa_without_early_stop_runs_every_layer() -> None:
    peers, proposers, judge, moderator = fake_peers()
    events, chat = await events_of(plan(), peers)
    result = result_of(events)
    assert len(proposers.calls) == 9 and len(judge.calls) == 3
    # No moderator after the last layer: the cap decides.
    assert [layer for _, layer, _ in moderator.calls] == [1, 2]
    assert len(chat.streamed) == 1 and not chat.completed
    assert result.stop_reason is StopReason.MAX_LAYERS
    assert [r.layer for r in result.layers] == [1, 2, 3]
    assert [c.id for c in result.layers[0].candidates] == ["L1-P0", "L1-P1", "L1-P2"]
    assert [c.agent for c in result.layers[0].candidates] == list(ROLES)
    assert result.text == "the final answer" and result.roles == list(ROLES)


async def test_moa_forwards_every_answer_with_no_judge_or_moderator() -> None:
    peers, proposers, judge, moderator = fake_peers()
    result = result_of((await events_of(plan(mode=Mode.MOA, max_layers=2), peers))[0])
    assert len(proposers.calls) == 6 and not judge.calls and not moderator.calls
    assert result.stop_reason is StopReason.FIXED_LAYERS
    assert all([c.id for c in call.references] == ["L1-P0", "L1-P1", "L1-P2"] for call in proposers.calls[3:])
    assert result.layers[1].kept_ids == ["L2-P0", "L2-P1", "L2-P2"]


async def test_single_is_one_streamed_call_and_no_layers() -> None:
    peers, proposers, judge, moderator = fake_peers()
    events, chat = await events_of(plan(mode=Mode.SINGLE), peers)
    result = result_of(events)
    assert not proposers.calls and not judge.calls and not moderator.calls
    assert chat.streamed == [list(CONVERSATION)] and not chat.completed
    assert result.layers == [] and result.stop_reason is StopReason.FIXED_LAYERS
    assert [(s.stage, s.usage.calls) for s in result.cost.stages()] == [("single", 1)]
    assert "".join(e.text for e in events if isinstance(e, Token)) == result.text


async def test_kept_answers_are_the_next_layers_references() -> None:
    peers, proposers, _, _ = fake_peers(judge=FakeJudge(keep=lambda call: [call.candidates[2].id]))
    result = result_of((await events_of(plan(max_layers=2), peers))[0])
    assert result.layers[0].kept_ids == ["L1-P2"]
    assert all(call.references == [] for call in proposers.calls[:3])
    assert all([c.id for c in call.references] == ["L1-P2"] for call in proposers.calls[3:])
    # The aggregator sees the last kept answers only.
    [aggregated] = result.layers[-1].kept_ids
    assert aggregated == "L2-P2"


async def test_agreement_stops_early_as_consensus() -> None:
    consensus = Moderation(Decision.STOP, "answers agree on 42", 1.0, Usage(), llm_used=False)
    peers, proposers, judge, moderator = fake_peers(moderator=FakeModerator({1: consensus}))
    result = result_of((await events_of(plan(), peers))[0])
    assert result.stop_reason is StopReason.CONSENSUS
    assert len(proposers.calls) == 3 and len(judge.calls) == 1 and len(moderator.calls) == 1
    assert (result.layers[0].decision, result.layers[0].agreement) == (Decision.STOP, 1.0)


async def test_moderator_llm_stops_early_as_moderator() -> None:
    stop = Moderation(Decision.STOP, "good enough", 0.4, MODERATOR_USAGE, llm_used=True)
    peers, proposers, _, _ = fake_peers(moderator=FakeModerator({2: stop}))
    result = result_of((await events_of(plan(), peers))[0])
    assert result.stop_reason is StopReason.MODERATOR and len(result.layers) == 2
    assert len(proposers.calls) == 6


async def test_fused_judge_decides_without_a_moderator_call() -> None:
    judge = FakeJudge(decisions={2: Decision.STOP})
    peers, _, judge, moderator = fake_peers(judge=judge)
    result = result_of((await events_of(plan(fused_judge_moderator=True), peers))[0])
    assert not moderator.calls
    assert all(call.fused for call in judge.calls) and len(judge.calls) == 2
    assert result.stop_reason is StopReason.MODERATOR
    assert (result.layers[1].decision, result.layers[1].reason) == (Decision.STOP, "fused reason")


async def test_fused_stop_at_the_cap_is_max_layers() -> None:
    peers, _, _, _ = fake_peers(judge=FakeJudge(decisions={1: Decision.STOP}))
    result = result_of((await events_of(plan(fused_judge_moderator=True, max_layers=1), peers))[0])
    assert result.stop_reason is StopReason.MAX_LAYERS


async def test_token_budget_stops_before_judging_and_aggregates_the_answers() -> None:
    # Three proposals spend 360 tokens: over a budget of 300 before the judge is asked.
    peers, proposers, judge, moderator = fake_peers()
    events, chat = await events_of(plan(token_budget=300), peers)
    result = result_of(events)
    assert result.stop_reason is StopReason.TOKEN_BUDGET
    assert len(proposers.calls) == 3 and not judge.calls and not moderator.calls
    system = chat.streamed[0][0]["content"]
    assert system.startswith(AGGREGATOR_PROMPT)
    assert all(f"{role} answers" in system for role in ROLES)


async def test_token_budget_between_layers() -> None:
    # Layer 1 spends 3*120 + 330 + 210 = 900 tokens; the budget is checked again before layer 2.
    peers, proposers, _, _ = fake_peers()
    result = result_of((await events_of(plan(token_budget=901), peers))[0])
    # 901: layer 2 runs, and its proposals cross the budget before its judge.
    assert result.stop_reason is StopReason.TOKEN_BUDGET and len(proposers.calls) == 6
    assert len(result.layers) == 2 and result.layers[1].kept_ids == []
    result = result_of((await events_of(plan(token_budget=900), fake_peers()[0]))[0])
    assert result.stop_reason is StopReason.TOKEN_BUDGET and len(result.layers) == 1


async def test_cost_ledger_sums_by_stage_layer_and_total() -> None:
    peers, _, _, _ = fake_peers()
    result = result_of((await events_of(plan(max_layers=2), peers))[0])
    by_stage = result.cost.by_stage()
    assert by_stage["proposer"] == Usage(600, 120, 6)
    assert by_stage["judge"] == Usage(600, 60, 2)
    assert by_stage["moderator"] == MODERATOR_USAGE
    assert by_stage["aggregator"] == Usage(50, 3, 1)
    assert "roles" not in by_stage  # explicit roles: no call
    layers = result.cost.by_layer()
    assert layers[1] == PROPOSER_USAGE + PROPOSER_USAGE + PROPOSER_USAGE + JUDGE_USAGE + MODERATOR_USAGE
    assert layers[0] == Usage(50, 3, 1)
    total = result.cost.total()
    assert total == sum((s.usage for s in result.cost.stages()), Usage())
    assert total.calls == 6 + 2 + 1 + 1
    assert [name for name, _ in result.timings] == ["roles", "layer 1", "layer 2", "aggregator", "total"]
    assert [name for name, _ in result.layers[0].timings] == ["proposer", "judge", "moderator"]


async def test_events_come_in_order_and_tokens_make_the_text() -> None:
    peers, _, _, _ = fake_peers()
    events, _ = await events_of(plan(max_layers=2), peers)
    stages = [(e.stage, e.layer) for e in events if isinstance(e, Progress)]
    assert stages == [
        (Stage.ROLES_READY, 0),
        (Stage.PROPOSALS_DONE, 1),
        (Stage.JUDGED, 1),
        (Stage.MODERATED, 1),
        (Stage.PROPOSALS_DONE, 2),
        (Stage.JUDGED, 2),
        (Stage.AGGREGATING, 0),
    ]
    first_token = next(i for i, e in enumerate(events) if isinstance(e, Token))
    assert all(isinstance(e, Progress) for e in events[:first_token])
    assert all(isinstance(e, Token) for e in events[first_token:-1])
    assert "".join(e.text for e in events if isinstance(e, Token)) == result_of(events).text
    # Progress snapshots do not change when later stages fill the layer in.
    proposals_done = next(e for e in events if isinstance(e, Progress) and e.stage is Stage.PROPOSALS_DONE)
    assert proposals_done.trace is not None and proposals_done.trace.kept_ids == []


async def test_seeds_reach_the_judge_per_layer() -> None:
    peers, _, judge, _ = fake_peers()
    await events_of(plan(seed=100, max_layers=2), peers)
    assert [c.seed for c in judge.calls] == [101, 102]


async def test_a_failing_proposer_cancels_its_siblings_and_surfaces_alone() -> None:
    class Failing(FakeProposers):
        async def propose(self, role: str, references: Sequence[Candidate], model: ModelChoice) -> Proposal:
            if role == "role-b":
                raise PeerUnavailable("proposer", "connection refused")
            return await super().propose(role, references, model)

    proposers = Failing(delay=10)
    peers, _, _, _ = fake_peers(proposers=proposers)
    with pytest.raises(PeerUnavailable):
        await events_of(plan(), peers)
    assert proposers.cancelled == 2


async def test_a_cancelled_consumer_cancels_the_fan_out() -> None:
    proposers = FakeProposers(delay=10)
    peers, _, _, _ = fake_peers(proposers=proposers)
    runner, _ = pipeline()

    async def consume() -> None:
        async for _ in runner.run(plan(), peers, Deadline(None)):
            pass

    task = asyncio.create_task(consume())
    while len(proposers.calls) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert proposers.cancelled == 3


async def test_roles_from_a_task_description_cost_one_call_and_are_cached() -> None:
    chat = FakeChat(replies=['{"roles": ["a historian", "a chemist", "a poet"]}'])
    runner, _ = pipeline(chat)
    p = plan(roles=(), task_description="explain the French revolution")
    for _ in range(2):
        peers, proposers, _, _ = fake_peers()
        result = result_of([e async for e in runner.run(p, peers, Deadline(None))])
        assert result.roles == ["a historian", "a chemist", "a poet"]
        assert [c.role for c in proposers.calls[:3]] == result.roles
    assert len(chat.completed) == 1  # the second request hit the cache
