"""The calls SMoA leaves out when they would add nothing, and AUTO's escalation, on the real services
with a scripted LLM: which calls were made, what was saved against the same request with every call
made, and the steps the response reports."""

from __future__ import annotations

from typing import Any

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_testing.fake_llm.chat_script import Reply, system_prompt
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.fake_llm.role_script import AGREEING, ANSWERS, counts, script, smoa
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack

EVERY_CALL = orchestrator_pb2.Skips(judge_on_consensus=False, synthesis_on_agreement=False)
# Two answers commit to 42 and one to 43: no consensus in the layer (2 of 3 is below 0.75), but the
# judge's two best (A and B) agree.
TWO_AGREE = {**AGREEING, "ROLE-C": "Verses counting stars beneath a quiet moon arrive at 43"}


def steps(response: orchestrator_pb2.GenerateResponse) -> list[tuple[int, str]]:
    return [(s.layer, s.action) for s in response.steps]


async def generate(
    answers: dict[str, str], **fields: Any
) -> tuple[orchestrator_pb2.GenerateResponse, FakeOpenAI]:
    with FakeOpenAI(script(answers=answers)) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            return await stack.stub.Generate(smoa(**fields), timeout=10), fake


async def test_agreeing_answers_need_no_judge_moderator_or_aggregator() -> None:
    skipped, fake = await generate(AGREEING, max_layers=3)
    assert counts(fake) == {"proposer": 3}
    assert skipped.stop_reason == common_pb2.STOP_REASON_CONSENSUS and len(skipped.layers) == 1
    assert steps(skipped) == [(1, "judge_skipped"), (0, "synthesis_skipped")]
    layer = skipped.layers[0]
    assert layer.decision == common_pb2.DECISION_STOP and len(layer.kept_ids) == 2
    # The answer is one of the agreeing proposals, as it was written.
    assert skipped.text in AGREEING.values()
    assert [s.stage for s in skipped.cost.stages] == ["proposer"]

    full, fake = await generate(AGREEING, max_layers=3, skips=EVERY_CALL)
    assert counts(fake) == {"proposer": 3, "judge": 1, "aggregator": 1}
    # The judge's kept answers agree too: the moderator would only say so, and is not asked.
    assert steps(full) == [(1, "moderator_skipped")]
    saved = full.cost.total.input_tokens + full.cost.total.output_tokens
    saved -= skipped.cost.total.input_tokens + skipped.cost.total.output_tokens
    assert (full.cost.total.calls - skipped.cost.total.calls, saved > 0) == (2, True)


async def test_one_kept_answer_is_the_answer_without_an_aggregator() -> None:
    skipped, fake = await generate(ANSWERS, k=1, max_layers=1)
    assert counts(fake) == {"proposer": 3, "judge": 1}
    assert skipped.text == ANSWERS["ROLE-A"]  # the judge's best
    assert steps(skipped) == [(0, "synthesis_skipped")]
    full, fake = await generate(ANSWERS, k=1, max_layers=1, skips=EVERY_CALL)
    assert counts(fake) == {"proposer": 3, "judge": 1, "aggregator": 1}
    assert full.cost.total.calls == skipped.cost.total.calls + 1


async def test_kept_answers_that_agree_are_not_synthesized() -> None:
    response, fake = await generate(TWO_AGREE, max_layers=1)
    assert counts(fake) == {"proposer": 3, "judge": 1}  # no consensus in the layer: judged
    assert steps(response) == [(0, "synthesis_skipped")]
    assert response.text == TWO_AGREE["ROLE-A"]  # the best ranked of the two that agree


async def test_auto_answers_from_an_agreeing_panel() -> None:
    auto, fake = await generate(AGREEING, n=3, mode=orchestrator_pb2.MODE_AUTO)
    assert counts(fake) == {"proposer": 2}
    assert steps(auto) == [(1, "panel"), (1, "judge_skipped"), (0, "synthesis_skipped")]
    assert auto.stop_reason == common_pb2.STOP_REASON_CONSENSUS
    assert [c.id for c in auto.layers[0].candidates] == ["L1-P0", "L1-P1"]
    sparse, _ = await generate(AGREEING, n=3)
    assert auto.cost.total.calls == sparse.cost.total.calls - 1
    assert auto.text in AGREEING.values() and sparse.text in AGREEING.values()


async def test_auto_escalates_a_disagreeing_panel_to_the_full_layer_and_on() -> None:
    auto, fake = await generate(ANSWERS, n=3, mode=orchestrator_pb2.MODE_AUTO)
    assert steps(auto) == [(1, "panel"), (1, "escalated")]
    first = auto.layers[0]
    # The panel's two answers were kept, not asked again: one more proposer completed the layer.
    assert [c.id for c in first.candidates] == ["L1-P0", "L1-P1", "L1-P2"]
    assert "do not agree" in auto.steps[1].reason
    # From there it is SMoA: judged, moderated (continue), a second layer, aggregated.
    assert counts(fake) == {"proposer": 6, "judge": 2, "moderator": 1, "aggregator": 1}
    sparse, fake = await generate(ANSWERS, n=3)
    assert counts(fake) == {"proposer": 6, "judge": 2, "moderator": 1, "aggregator": 1}
    assert auto.text == sparse.text


async def test_a_grown_first_layer_stops_asking_once_its_answers_agree() -> None:
    grown, fake = await generate(TWO_AGREE, n=3, first_layer_start=1, first_layer_step=1)
    # One answer cannot agree with itself: one more asked, and the two agree; the third is never asked.
    assert counts(fake) == {"proposer": 2}
    assert steps(grown) == [(1, "panel"), (1, "escalated"), (1, "judge_skipped"), (0, "synthesis_skipped")]
    assert grown.stop_reason == common_pb2.STOP_REASON_CONSENSUS
    assert [c.id for c in grown.layers[0].candidates] == ["L1-P0", "L1-P1"]
    whole, _ = await generate(TWO_AGREE, n=3)
    assert grown.cost.total.calls < whole.cost.total.calls


async def test_a_first_layer_that_never_agrees_grows_to_n_and_goes_on_as_smoa() -> None:
    grown, fake = await generate(ANSWERS, n=3, first_layer_start=1, first_layer_step=1)
    assert steps(grown) == [(1, "panel"), (1, "escalated"), (1, "escalated")]
    assert [c.id for c in grown.layers[0].candidates] == ["L1-P0", "L1-P1", "L1-P2"]
    assert counts(fake) == {"proposer": 6, "judge": 2, "moderator": 1, "aggregator": 1}
    whole, _ = await generate(ANSWERS, n=3)
    assert grown.text == whole.text and not whole.steps


async def test_the_service_setting_grows_the_first_layer_of_requests_that_do_not_say() -> None:
    with FakeOpenAI(script(answers=TWO_AGREE)) as fake:
        async with orchestrator_stack(fake.base_url, first_layer_start=2) as stack:
            grown = await stack.stub.Generate(smoa(n=3), timeout=10)
            asked_all = await stack.stub.Generate(smoa(n=3, first_layer_start=3), timeout=10)
    assert steps(grown)[:1] == [(1, "panel")] and len(grown.layers[0].candidates) == 2
    assert "panel" not in [action for _, action in steps(asked_all)]
    assert len(asked_all.layers[0].candidates) == 3


async def test_a_lost_panelist_is_made_up_for_by_the_rest_of_the_layer() -> None:
    def chemist_down(request: dict[str, Any]) -> Reply:
        if system_prompt(request).startswith("ROLE-B"):
            return Reply(status=500, error="down")
        return script(answers=ANSWERS)(request)

    with FakeOpenAI(chemist_down) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            auto = await stack.stub.Generate(
                smoa(n=3, max_layers=1, mode=orchestrator_pb2.MODE_AUTO), timeout=10
            )
    assert steps(auto) == [(1, "panel"), (1, "escalated")]
    assert [c.id for c in auto.layers[0].candidates] == ["L1-P0", "L1-P2"]
    assert auto.degraded and [d.stage for d in auto.degradations] == ["proposer"]
