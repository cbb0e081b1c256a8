"""The orchestrator's policy over in-memory ports: no gRPC, no sockets."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence

import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider

from smoa_services.ensemble.consensus import central_ranking
from smoa_services.ensemble.decision import Decision
from smoa_services.llm import ModelChoice
from smoa_services.llm.usage import Usage
from smoa_services.orchestrator.pipeline import Pipeline
from smoa_services.orchestrator.plan import Mode, Plan
from smoa_services.orchestrator.ports import Moderation, Peers
from smoa_services.orchestrator.prompt import AGGREGATOR_PROMPT
from smoa_services.orchestrator.quorum import MissingKind, StragglerWait
from smoa_services.orchestrator.records import (
    Event,
    Finished,
    Progress,
    Result,
    Stage,
    StopReason,
    Token,
)
from smoa_services.orchestrator.roles import RoleWriter
from smoa_services.orchestrator.timeline import Timeline
from smoa_services.rpc.failure import Failure, LLMRejected, LLMUnavailable, QuorumNotMet, StreamInterrupted
from smoa_services.timing.deadline import Deadline
from smoa_services.timing.latency import LatencyWindow
from tests.services.orchestrator.orchestrator_fakes import (
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
    return [e async for e in runner.run(p, peers, untimed())], chat


def untimed() -> Timeline:
    return Timeline(Deadline(None), LatencyWindow())


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


async def test_kept_answers_that_agree_stop_without_a_moderator_call() -> None:
    proposers = FakeProposers(answer=lambda role, refs: f"{role} works it out: the answer is 42")
    peers, _, judge, moderator = fake_peers(proposers=proposers)
    result = result_of((await events_of(plan(), peers))[0])
    assert result.stop_reason is StopReason.CONSENSUS and len(result.layers) == 1
    assert (len(judge.calls), len(moderator.calls)) == (1, 0)
    assert [(s.layer, s.action) for s in result.steps] == [(1, "moderator_skipped")]
    assert (result.layers[0].decision, result.layers[0].agreement) == (Decision.STOP, 1.0)
    assert "moderator" not in [stage for stage, _ in result.layers[0].timings]


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
    assert all(call.decide for call in judge.calls) and len(judge.calls) == 2
    assert result.stop_reason is StopReason.MODERATOR
    assert (result.layers[1].decision, result.layers[1].reason) == (Decision.STOP, "fused reason")


async def test_at_the_cap_a_fused_judge_is_not_asked_and_the_stop_is_max_layers() -> None:
    peers, _, judge, _ = fake_peers(judge=FakeJudge(decisions={2: Decision.CONTINUE}))
    result = result_of((await events_of(plan(fused_judge_moderator=True, max_layers=2), peers))[0])
    assert [call.decide for call in judge.calls] == [True, False]
    assert result.stop_reason is StopReason.MAX_LAYERS
    last = result.layers[-1]
    assert last.decision is Decision.STOP and "no layers remain" in last.reason


async def test_a_failed_fused_judge_leaves_the_decision_to_the_rule() -> None:
    peers, _, judge, _ = fake_peers(judge=FakeJudge(fail=unavailable("judge")))
    result = result_of((await events_of(plan(fused_judge_moderator=True, max_layers=2), peers))[0])
    assert [layer.decision for layer in result.layers] == [Decision.CONTINUE, Decision.STOP]
    assert result.stop_reason is StopReason.MAX_LAYERS and len(judge.calls) == 2


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


def unavailable(peer: str) -> Failure:
    return Failure(f"{peer} service: connection refused", grpc.StatusCode.UNAVAILABLE, "PEER_UNAVAILABLE")


async def test_a_layer_goes_on_with_its_quorum_and_records_who_was_lost() -> None:
    proposers = FakeProposers(failures={"role-b": unavailable("proposer")})
    peers, _, judge, _ = fake_peers(proposers=proposers)
    result = result_of((await events_of(plan(quorum=2, max_layers=1), peers))[0])
    layer = result.layers[0]
    assert [c.id for c in layer.candidates] == ["L1-P0", "L1-P2"]
    assert [(m.index, m.kind, m.code) for m in layer.failures] == [(1, MissingKind.FAILED, "UNAVAILABLE")]
    assert [c.id for c in judge.calls[0].candidates] == ["L1-P0", "L1-P2"]
    assert result.degraded and [(d.stage, d.layer) for d in result.degradations] == [("proposer", 1)]
    assert "P1 failed UNAVAILABLE" in result.degradations[0].reason


async def test_below_the_quorum_the_layer_fails_at_once_and_cancels_the_rest() -> None:
    proposers = FakeProposers(delay=10, delays={"role-b": 0.0}, failures={"role-b": unavailable("proposer")})
    peers, _, _, _ = fake_peers(proposers=proposers)
    started = time.monotonic()
    with pytest.raises(QuorumNotMet, match="layer 1: 0 of the 3 proposers needed answered"):
        await events_of(plan(quorum=3), peers)
    assert time.monotonic() - started < 5
    assert proposers.cancelled == 2


async def test_the_same_refusal_from_every_proposer_is_passed_on_as_it_is() -> None:
    refused = LLMRejected("", "HTTP 400: the prompt is over the context window")
    proposers = FakeProposers(failures={role: refused for role in ROLES})
    peers, _, _, _ = fake_peers(proposers=proposers)
    with pytest.raises(LLMRejected) as caught:
        await events_of(plan(quorum=2), peers)
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION


async def test_stragglers_are_cut_off_after_a_wait_derived_from_the_quorum() -> None:
    proposers = FakeProposers(delay=0.2, delays={"role-c": 30.0})
    peers, _, _, _ = fake_peers(proposers=proposers)
    runner, _ = pipeline()
    runner.straggler_wait = StragglerWait(factor=1.0, min_seconds=0.05, max_seconds=5.0)
    started = time.monotonic()
    result = result_of([e async for e in runner.run(plan(quorum=2, max_layers=1), peers, untimed())])
    took = time.monotonic() - started
    # The quorum took ~0.2 s, so the straggler had ~0.2 s more: nowhere near its 30 s.
    assert 0.35 < took < 2.0
    [missing] = result.layers[0].failures
    assert (missing.index, missing.kind) == (2, MissingKind.CUT_OFF) and 0.35 < missing.elapsed < 2.0
    assert proposers.cancelled == 1
    # The cut-off proposer was working on its prompt: one more call, its prompt's tokens estimated.
    proposer = result.cost.by_stage()["proposer"]
    assert proposer.calls == 3 and proposer.estimated
    assert proposer.input_tokens > 2 * PROPOSER_USAGE.input_tokens
    assert proposer.output_tokens == 2 * PROPOSER_USAGE.output_tokens


@pytest.mark.parametrize(("min_seconds", "cut_off"), [(0.5, False), (0.05, True)])
async def test_a_fast_quorum_leaves_the_rest_the_floor_of_the_wait(min_seconds: float, cut_off: bool) -> None:
    """The quorum answers in 20 ms and the third proposer 150 ms later, as a busy host delays it: the
    default floor (0.5 s) waits for it; a floor of 50 ms would lose it."""
    proposers = FakeProposers(delay=0.02, delays={"role-c": 0.17})
    peers, _, _, _ = fake_peers(proposers=proposers)
    runner, _ = pipeline()
    runner.straggler_wait = StragglerWait(min_seconds=min_seconds)
    result = result_of([e async for e in runner.run(plan(quorum=2, max_layers=1), peers, untimed())])
    assert bool(result.layers[0].failures) is cut_off
    assert len(result.layers[0].candidates) == (2 if cut_off else 3)


async def test_a_failed_judge_is_replaced_by_consensus_centrality() -> None:
    texts = {"role-a": "Paris is the capital of France, on the Seine.", "role-b": "Bananas are yellow fruit.",
             "role-c": "Paris is the capital of France, on the river Seine."}  # fmt: skip
    proposers = FakeProposers(answer=lambda role, refs: texts[role])
    peers, _, judge, _ = fake_peers(proposers=proposers, judge=FakeJudge(fail=unavailable("judge")))
    result = result_of((await events_of(plan(max_layers=1), peers))[0])
    layer = result.layers[0]
    assert layer.judge_fallback and len(judge.calls) == 1
    order, _ = central_ranking(list(texts.values()))
    assert layer.kept_ids == [f"L1-P{i}" for i in order[:2]] and "L1-P1" not in layer.kept_ids
    assert [(d.stage, d.layer) for d in result.degradations] == [("judge", 1)]
    assert "consensus centrality" in result.degradations[0].reason


async def test_a_judge_that_keeps_none_of_the_candidates_is_not_believed() -> None:
    peers, _, _, _ = fake_peers(judge=FakeJudge(keep=lambda call: ["L9-P9"]))
    result = result_of((await events_of(plan(max_layers=1), peers))[0])
    assert result.layers[0].judge_fallback and len(result.layers[0].kept_ids) == 2
    assert "kept none of the candidates" in result.degradations[0].reason


async def test_a_failed_moderator_is_replaced_by_its_rule() -> None:
    peers, _, _, moderator = fake_peers(moderator=FakeModerator(fail=unavailable("moderator")))
    result = result_of((await events_of(plan(max_layers=2), peers))[0])
    first = result.layers[0]
    assert first.decision is Decision.CONTINUE and first.moderator_fallback
    assert len(result.layers) == 2 and len(moderator.calls) == 1
    assert [(d.stage, d.layer) for d in result.degradations] == [("moderator", 1)]


@pytest.mark.parametrize("stream", [True, False])
async def test_an_aggregator_that_fails_before_any_token_gives_the_best_kept_answer(stream: bool) -> None:
    chat = FakeChat(fail=LLMUnavailable("", "HTTP 500"), fail_after=0)
    peers, _, _, _ = fake_peers()
    runner, _ = pipeline(chat)
    events = [e async for e in runner.run(plan(max_layers=1), peers, untimed(), stream=stream)]
    result = result_of(events)
    kept_first = next(c for c in result.layers[0].candidates if c.id == result.layers[0].kept_ids[0])
    assert result.text == kept_first.text
    assert "".join(e.text for e in events if isinstance(e, Token)) == kept_first.text
    assert [(d.stage, d.layer) for d in result.degradations] == [("aggregator", 0)]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("text", ["", " \n "])
async def test_an_aggregator_that_writes_nothing_gives_the_best_kept_answer(stream: bool, text: str) -> None:
    peers, _, _, _ = fake_peers()
    runner, _ = pipeline(FakeChat(text=text))
    events = [e async for e in runner.run(plan(max_layers=1), peers, untimed(), stream=stream)]
    result = result_of(events)
    kept_first = next(c for c in result.layers[0].candidates if c.id == result.layers[0].kept_ids[0])
    assert result.text == kept_first.text
    assert "".join(e.text for e in events if isinstance(e, Token)).strip() == kept_first.text
    [degradation] = result.degradations
    assert (degradation.stage, degradation.layer) == (
        "aggregator",
        0,
    ) and "wrote nothing" in degradation.reason
    assert result.cost.by_stage()["aggregator"].calls == 1  # it was paid for all the same


async def test_a_stream_that_broke_after_tokens_ends_with_a_clear_status() -> None:
    chat = FakeChat(text="one two three four", fail=LLMUnavailable("", "connection failed"), fail_after=2)
    peers, _, _, _ = fake_peers()
    runner, _ = pipeline(chat)
    tokens: list[str] = []
    with pytest.raises(StreamInterrupted) as caught:
        async for event in runner.run(plan(max_layers=1), peers, untimed(), stream=True):
            if isinstance(event, Token):
                tokens.append(event.text)
    assert tokens == ["one", " two"]
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE and caught.value.metadata["tokens_sent"] == "2"


async def test_unary_answers_survive_a_broken_aggregator_stream() -> None:
    chat = FakeChat(text="one two three four", fail=LLMUnavailable("", "connection failed"), fail_after=2)
    peers, _, _, _ = fake_peers()
    runner, _ = pipeline(chat)
    result = result_of([e async for e in runner.run(plan(max_layers=1), peers, untimed(), stream=False)])
    assert result.degraded and result.text.startswith("role-")


async def test_single_has_nothing_to_fall_back_to() -> None:
    chat = FakeChat(fail=LLMUnavailable("", "HTTP 500"), fail_after=0)
    peers, _, _, _ = fake_peers()
    runner, _ = pipeline(chat)
    with pytest.raises(LLMUnavailable):
        [e async for e in runner.run(plan(mode=Mode.SINGLE), peers, untimed(), stream=False)]


async def test_a_layer_that_would_not_fit_before_the_deadline_is_not_started() -> None:
    proposers = FakeProposers(delay=0.4)
    peers, _, judge, moderator = fake_peers(proposers=proposers)
    runner, _ = pipeline()
    # 1.2 s in all: 0.24 s are kept for the aggregator, layer 1 takes 0.4 s, so layer 2 still fits and
    # layer 3 does not.
    timeline = Timeline(Deadline(1.2), LatencyWindow())
    result = result_of([e async for e in runner.run(plan(max_layers=3), peers, timeline)])
    assert result.stop_reason is StopReason.DEADLINE
    assert len(result.layers) == 2 and len(judge.calls) == 2
    # Layer 2's moderator call is saved: its decision could not be acted on.
    assert len(moderator.calls) == 1
    assert [(d.stage, d.layer) for d in result.degradations] == [("deadline", 3)]


async def test_a_cancelled_consumer_cancels_the_fan_out() -> None:
    proposers = FakeProposers(delay=10)
    peers, _, _, _ = fake_peers(proposers=proposers)
    runner, _ = pipeline()

    async def consume() -> None:
        async for _ in runner.run(plan(), peers, untimed()):
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
        result = result_of([e async for e in runner.run(p, peers, untimed())])
        assert result.roles == ["a historian", "a chemist", "a poet"]
        assert [c.role for c in proposers.calls[:3]] == result.roles
    assert len(chat.completed) == 1  # the second request hit the cache
