"""The agent ranking on the real services with a scripted LLM: a grown first layer learns which agent the
judge keeps and asks it first, the ranking is a metric, it outlives a restart through its file, and a
request that does not ask for it (the service's default) is asked in index order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics.export import NumberDataPoint

from smoa.v1 import orchestrator_pb2
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.fake_llm.role_script import ANSWERS, script, smoa
from smoa_testing.observe.metric_points import points
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack
from smoa_testing.stacks.running_service import shown_responses


def poet_first(request: dict[str, Any]) -> str:
    """The judge prefers the poet (ROLE-C, proposer 2), whom index order asks last."""
    order = {"Verses": 9, "Chemically": 5, "Historians": 3}
    return json.dumps(
        {"scores": {label: order[text.split()[0]] for label, text in shown_responses(request).items()}}
    )


def ranked(**fields: Any) -> orchestrator_pb2.GenerateRequest:
    # One proposer first, one more while the answers disagree (they always do here), the judge keeps one.
    return smoa(n=3, k=1, max_layers=1, first_layer_start=1, first_layer_step=1, **fields)


def first_asked(response: orchestrator_pb2.GenerateResponse) -> str:
    order = next(s.reason for s in response.steps if s.action == "ranked")
    return order.rsplit(": ", 1)[1].split(", ")[0]


async def test_the_agent_the_judge_keeps_is_asked_first_and_remembered_across_a_restart(
    tmp_path: Path,
) -> None:
    file = tmp_path / "ranking.json"
    with FakeOpenAI(script(answers=ANSWERS, judge=poet_first)) as fake:
        async with orchestrator_stack(fake.base_url, agent_ranking_file=str(file)) as stack:
            learned = [await stack.stub.Generate(ranked(rank_agents=True), timeout=10) for _ in range(12)]
            rates = sorted(
                p.value
                for p in points(stack.metrics, "smoa.agent.kept_rate")
                if isinstance(p, NumberDataPoint)
            )
            unranked = await stack.stub.Generate(ranked(), timeout=10)
        assert all(r.text == ANSWERS["ROLE-C"] for r in learned)
        # Kept 12 times of 12 against 0 of 12: the poet is drawn first (Beta(13, 1) against Beta(1, 13)).
        assert [first_asked(r) for r in learned[-4:]] == ["P2"] * 4
        assert len(rates) == 3 and rates[-1] > 0.9 and rates[0] < 0.1
        # The service's default is off: index order, and no "ranked" step.
        assert "ranked" not in [s.action for s in unranked.steps]
        assert unranked.layers[0].candidates[0].id == "L1-P0"

        saved = json.loads(file.read_text())["agents"]
        assert sorted(round(t["kept"]) for t in saved.values()) == [0, 0, 13]
        async with orchestrator_stack(fake.base_url, agent_ranking_file=str(file)) as restarted:
            again = await restarted.stub.Generate(ranked(rank_agents=True), timeout=10)
        assert first_asked(again) == "P2"


async def test_the_service_setting_ranks_requests_that_do_not_say() -> None:
    with FakeOpenAI(script(answers=ANSWERS)) as fake:
        async with orchestrator_stack(fake.base_url, rank_agents=True) as stack:
            by_setting = await stack.stub.Generate(ranked(), timeout=10)
            refused = await stack.stub.Generate(ranked(rank_agents=False), timeout=10)
    assert [s.action for s in by_setting.steps][:2] == ["ranked", "panel"]
    assert "ranked" not in [s.action for s in refused.steps]
