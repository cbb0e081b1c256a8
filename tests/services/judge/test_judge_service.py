"""JudgeService on a real server, its LLM a scripted FakeOpenAI that scores responses by their text."""

import json
from collections.abc import Sequence
from typing import Any

import smoa_core_rs as core
from smoa.v1 import common_pb2, judge_pb2, judge_pb2_grpc
from smoa_services import judge
from smoa_services.ensemble.consensus import central_ranking
from smoa_services.judge.prompt import shuffled_order
from smoa_testing.fake_llm.chat_script import Reply, Script
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.running_service import QUESTION, candidate, scores_reply, serving, shown_responses

PARIS = "Paris is the capital of France and its largest city."
LYON = "Lyon was the capital of Roman Gaul, which is a different question."
MARSEILLE = "Marseille is a port on the Mediterranean coast in the south."
NICE = "Nice hosts a carnival each February on the Riviera."

SCORES = {PARIS: 9.0, LYON: 3.0, MARSEILLE: 6.0, NICE: 1.0}


def by_text(**extra: Any) -> Script:
    return lambda request: Reply(scores_reply(request, SCORES, **extra))


def judge_request(texts: Sequence[str], k: int, **fields: Any) -> judge_pb2.JudgeRequest:
    candidates = [candidate(f"L1-P{i}", text) for i, text in enumerate(texts, 1)]
    return judge_pb2.JudgeRequest(messages=QUESTION, candidates=candidates, k=k, **fields)


async def run_judge(
    fake: FakeOpenAI, request: judge_pb2.JudgeRequest, **settings: Any
) -> tuple[judge_pb2.JudgeResponse, dict[str, Any]]:
    async with serving(judge.create_server, fake.base_url, **settings) as service:
        reply = await judge_pb2_grpc.JudgeServiceStub(service.channel).Judge(request, timeout=10)
        attributes = dict(service.rpc_span("Judge").attributes or {})
    return reply, attributes


def scores_of(ballot: judge_pb2.Ballot) -> dict[str, float]:
    return {s.id: s.score for s in ballot.scores}


async def test_scores_rank_and_keep_the_best_k() -> None:
    with FakeOpenAI(by_text()) as fake:
        reply, attributes = await run_judge(fake, judge_request([PARIS, LYON, MARSEILLE], k=2, layer=1))
    assert list(reply.ranking) == ["L1-P1", "L1-P3", "L1-P2"]
    assert list(reply.kept_ids) == ["L1-P1", "L1-P3"]
    assert [s.id for s in reply.scores] == list(reply.ranking)
    [ballot] = reply.ballots
    assert scores_of(ballot) == {"L1-P1": 9.0, "L1-P2": 3.0, "L1-P3": 6.0} and not ballot.failed
    assert (reply.usage.calls, reply.fallback, reply.agreement) == (1, False, 0.0)
    assert reply.decision == common_pb2.DECISION_UNSPECIFIED
    [request] = fake.requests
    # Structured output: the schema asks for exactly the shown labels, each scored 0..10.
    assert request["response_format"]["type"] == "json_schema"
    schema = request["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["scores"]["required"] == ["1", "2", "3"]
    assert schema["properties"]["scores"]["properties"]["1"] == {"enum": list(range(11))}
    prompt = json.dumps(request)
    assert "L1-P" not in prompt and "agent of" not in prompt  # anonymized
    assert (
        attributes["smoa.layer"] == 1
        and attributes["smoa.k"] == 2
        and attributes["smoa.candidate_count"] == 3
    )
    assert list(attributes["smoa.kept_ids"]) == ["L1-P1", "L1-P3"]
    assert attributes["smoa.dedup_removed"] == 0 and attributes["smoa.judge.fallback"] is False


async def test_invalid_json_is_retried_with_the_error() -> None:
    def script(request: dict[str, Any]) -> Reply:
        if len(request["messages"]) == 2:
            return Reply('{"scores": {"1": 5, "2": 4}}')  # misses label 3
        return Reply(scores_reply(request, SCORES))

    with FakeOpenAI(script) as fake:
        reply, _ = await run_judge(fake, judge_request([PARIS, LYON, MARSEILLE], k=1))
    first, second = fake.requests
    assert second["messages"][:2] == first["messages"]
    assert second["messages"][2] == {"role": "assistant", "content": '{"scores": {"1": 5, "2": 4}}'}
    assert 'no score for "3"' in second["messages"][3]["content"]
    assert list(reply.kept_ids) == ["L1-P1"] and not reply.fallback
    assert reply.usage.calls == 2


async def test_centrality_fallback_when_every_pass_fails_twice() -> None:
    texts = [
        "Paris is the capital of France.",
        "The capital of France is Paris, on the Seine.",
        "Paris, on the Seine, is the capital city.",
        "Bananas are yellow.",
    ]
    with FakeOpenAI(lambda r: Reply("I cannot decide.")) as fake:
        reply, attributes = await run_judge(fake, judge_request(texts, k=2, passes=2))
    assert len(fake.requests) == 4  # two passes, each retried once
    expected = core.centrality(core.similarity_matrix(texts)).ranking
    assert list(reply.ranking) == [f"L1-P{i + 1}" for i in expected]
    assert list(reply.kept_ids) == list(reply.ranking[:2])
    assert reply.ranking[-1] == "L1-P4"  # the odd one out is least central
    assert reply.fallback and attributes["smoa.judge.fallback"] is True
    assert all(b.failed and "no JSON object" in b.error for b in reply.ballots) and len(reply.ballots) == 2
    assert reply.usage.calls == 4


async def test_near_duplicates_are_judged_once_and_reported() -> None:
    texts = [PARIS, LYON, PARIS.upper().replace(".", "!")]
    with FakeOpenAI(by_text()) as fake:
        reply, attributes = await run_judge(fake, judge_request(texts, k=2))
    assert sorted(shown_responses(fake.requests[0]).values()) == sorted([PARIS, LYON])
    [cluster] = reply.clusters
    assert cluster.representative_id == "L1-P1" and list(cluster.member_ids) == ["L1-P1", "L1-P3"]
    assert list(reply.ranking) == ["L1-P1", "L1-P2"] and list(reply.kept_ids) == ["L1-P1", "L1-P2"]
    assert attributes["smoa.dedup_removed"] == 1


async def test_k_beyond_the_distinct_candidates_keeps_what_there_is_without_a_call() -> None:
    with FakeOpenAI(by_text()) as fake:
        reply, _ = await run_judge(fake, judge_request([PARIS, PARIS], k=2))
    assert list(reply.kept_ids) == ["L1-P1"] and list(reply.ranking) == ["L1-P1"]
    assert not fake.requests and reply.usage.calls == 0


async def test_passes_are_aggregated_and_their_agreement_reported() -> None:
    texts = [PARIS, LYON, MARSEILLE, NICE]
    request = judge_request(texts, k=2, passes=3, seed=7, aggregation=common_pb2.AGGREGATION_METHOD_BORDA)
    with FakeOpenAI(by_text()) as fake:
        reply, _ = await run_judge(fake, request)
    assert len(fake.requests) == 3 and len(reply.ballots) == 3
    orders = {tuple(shown_responses(r).values()) for r in fake.requests}
    assert len(orders) > 1  # each pass shuffles differently
    assert list(reply.ranking) == ["L1-P1", "L1-P3", "L1-P2", "L1-P4"]
    assert reply.agreement == 1.0  # every pass ranked alike
    assert [s.score for s in reply.scores] == [1.0, 2 / 3, 1 / 3, 0.0]


async def test_passes_default_to_the_service_setting() -> None:
    with FakeOpenAI(by_text()) as fake:
        reply, _ = await run_judge(fake, judge_request([PARIS, LYON], k=1), judge_passes=2)
    assert len(fake.requests) == 2 and len(reply.ballots) == 2


async def test_a_failed_pass_is_left_out_of_the_aggregate() -> None:
    def script(request: dict[str, Any]) -> Reply:
        if next(iter(shown_responses(request).values())) == PARIS:
            return Reply("garbage")
        return Reply(scores_reply(request, SCORES))

    seed = next(s for s in range(100) if shuffled_order(2, s, 0)[0] == 0 and shuffled_order(2, s, 1)[0] == 1)
    with FakeOpenAI(script) as fake:
        reply, attributes = await run_judge(fake, judge_request([PARIS, LYON], k=1, passes=2, seed=seed))
    assert [b.failed for b in reply.ballots] == [True, False]
    assert not reply.fallback and list(reply.kept_ids) == ["L1-P1"]
    assert attributes["smoa.judge.passes_failed"] == 1


async def test_mmr_trades_score_for_diversity() -> None:
    first = "Paris is the capital of France and sits on the river Seine in the north of the country."
    close = "Paris is the capital of France and sits on the river Seine in the north, near Versailles."
    other = "Consider also that the French government meets in the Elysee Palace and the Assemblee."
    low = "Bananas are yellow."
    texts = [first, close, other, low]
    similarity = core.similarity_matrix(texts)
    assert 0.4 < similarity[0][1] < 0.8  # related, but not near-duplicates
    score = {first: 10.0, close: 9.5, other: 9.0, low: 0.0}
    fields: dict[str, Any] = {"aggregation": common_pb2.AGGREGATION_METHOD_MEAN}
    with FakeOpenAI(lambda r: Reply(scores_reply(r, score))) as fake:
        top, _ = await run_judge(fake, judge_request(texts, k=2, **fields))
        mmr, _ = await run_judge(
            fake, judge_request(texts, k=2, selection=common_pb2.SELECTION_METHOD_MMR, **fields)
        )
    assert list(top.kept_ids) == ["L1-P1", "L1-P2"]
    assert list(mmr.kept_ids) == ["L1-P1", "L1-P3"]
    expected = core.mmr_top_k([10.0, 9.5, 9.0, 0.0], similarity, 2)
    assert list(mmr.kept_ids) == [f"L1-P{i + 1}" for i in expected]


async def test_fused_decision_comes_from_the_judge() -> None:
    request = judge_request([PARIS, LYON], k=1, fused=True, layer=1, max_layers=3)
    with FakeOpenAI(by_text(decision="stop", reason="Paris is right.")) as fake:
        reply, attributes = await run_judge(fake, request)
    assert '"decision": "stop" or "continue"' in fake.requests[0]["messages"][1]["content"]
    assert (reply.decision, reply.reason) == (common_pb2.DECISION_STOP, "Paris is right.")
    assert attributes["smoa.decision"] == "stop"


async def test_fused_without_a_valid_decision_continues_while_layers_remain() -> None:
    request = judge_request([PARIS, LYON], k=1, fused=True, layer=2, max_layers=3)
    with FakeOpenAI(by_text(decision="perhaps")) as fake:
        reply, _ = await run_judge(fake, request)
    assert reply.decision == common_pb2.DECISION_CONTINUE
    assert "no valid decision" in reply.reason and len(fake.requests) == 1


async def test_fused_at_the_last_layer_stops_without_asking() -> None:
    request = judge_request([PARIS, LYON], k=1, fused=True, layer=3, max_layers=3)
    with FakeOpenAI(by_text(decision="continue")) as fake:
        reply, _ = await run_judge(fake, request)
    assert "decision" not in fake.requests[0]["messages"][1]["content"]
    assert reply.decision == common_pb2.DECISION_STOP and "no layers remain" in reply.reason


async def test_the_seed_fixes_the_order_shown() -> None:
    texts = [PARIS, LYON, MARSEILLE, NICE]
    other = next(s for s in range(1, 100) if shuffled_order(4, s, 0) != shuffled_order(4, 5, 0))
    with FakeOpenAI(by_text()) as fake:
        for seed in (5, 5, other):
            await run_judge(fake, judge_request(texts, k=1, seed=seed))
    first, again, different = (list(shown_responses(r).values()) for r in fake.requests)
    assert first == again and first != different
    assert first == [texts[i] for i in shuffled_order(4, 5, 0)]


async def test_backend_down_degrades_to_consensus_centrality() -> None:
    texts = [PARIS, PARIS + " Indeed.", LYON]
    with FakeOpenAI(lambda r: Reply(status=503)) as fake:
        reply, attributes = await run_judge(fake, judge_request(texts, k=1, passes=2))
    assert reply.fallback and all(b.failed and "HTTP 503" in b.error for b in reply.ballots)
    order, _ = central_ranking(texts)
    assert list(reply.kept_ids) == [f"L1-P{order[0] + 1}"]
    assert attributes["smoa.judge.fallback"] is True
    # Two passes, each tried once (the test's settings allow no retries): both failures were real calls.
    assert len(fake.requests) == 2 and reply.usage.calls == 0
