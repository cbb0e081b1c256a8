"""The agent ranking: it puts the agents the judge keeps first, still tries the others, forgets with its
half-life, weighs what an answer costs, stays bounded, and refuses a snapshot that is not one."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from smoa_services.ensemble.agent_ranking import MAX_AGENTS, AgentRanking, agent_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def ranking(clock: Clock | None = None, half_life: float = 3600.0) -> AgentRanking:
    return AgentRanking(half_life, clock or Clock(), random.Random(7))


def firsts(r: AgentRanking, agents: list[str], times: int = 400) -> Counter[str]:
    return Counter(agents[r.order(agents)[0]] for _ in range(times))


def teach(
    r: AgentRanking, agent: str, kept: int, judged: int, seconds: float = 1.0, tokens: int = 50
) -> None:
    for i in range(judged):
        r.observe(agent, i < kept, seconds, tokens)


def test_the_agent_kept_most_comes_first_and_the_others_are_still_tried() -> None:
    r = ranking()
    teach(r, "good", kept=27, judged=30)
    teach(r, "fair", kept=15, judged=30)
    found = firsts(r, ["fair", "good", "new"])
    assert found["good"] > 0.6 * 400
    # An agent never judged draws its rate from the uniform prior: it comes first now and then.
    assert found["new"] > 0
    assert r.tallies["good"].kept_rate() == pytest.approx(28 / 32)


def test_what_was_learned_fades_with_the_half_life() -> None:
    clock = Clock()
    r = ranking(clock, half_life=60.0)
    teach(r, "was-good", kept=30, judged=30)
    teach(r, "was-bad", kept=0, judged=30)
    assert firsts(r, ["was-bad", "was-good"])["was-bad"] == 0
    clock.now += 60.0
    halved = r.tallies["was-good"]
    assert halved.decayed(clock.now, 60.0).judged == pytest.approx(15.0)
    # Long after, neither is known: the bad agent is tried as often as the good one, within noise.
    clock.now += 60.0 * 20
    assert 120 < firsts(r, ["was-bad", "was-good"])["was-bad"] < 280


def test_an_agent_that_costs_more_per_answer_falls_behind_one_kept_as_often() -> None:
    r = ranking()
    teach(r, "dear", kept=20, judged=40, seconds=4.0, tokens=200)
    teach(r, "cheap", kept=20, judged=40, seconds=1.0, tokens=50)
    assert firsts(r, ["dear", "cheap"])["cheap"] > 0.9 * 400


def test_the_table_stays_bounded_dropping_the_least_judged() -> None:
    r = ranking()
    teach(r, "regular", kept=5, judged=10)
    for i in range(3 * MAX_AGENTS):
        r.observe(f"written-role-{i}", True, 1.0, 10)
        assert len(r.tallies) <= MAX_AGENTS
    assert "regular" in r.tallies and len(r.tallies) > MAX_AGENTS * 0.8


def test_a_snapshot_restores_and_a_bad_one_is_refused_by_field() -> None:
    r = ranking()
    teach(r, agent_key("You are a chemist.", "local", "m"), kept=3, judged=4)
    again = ranking()
    again.restore(r.snapshot())
    assert again.tallies == r.tallies
    for bad, field in (
        ({}, "agents"),
        ({"agents": {"a": {"judged": 1, "kept": 2}}}, "agents.a"),
        ({"agents": {"a": {"judged": -1}}}, "agents.a"),
        ({"agents": {"a": {"judged": float("nan")}}}, "agents.a"),
        ({"agents": {"a": {"judged": "many"}}}, "agents.a"),
        ({"agents": {"a": {"unknown": 1}}}, "agents.a"),
    ):
        with pytest.raises(ValueError, match=field):
            again.restore(bad)
        assert again.tallies == r.tallies  # nothing restored from a bad snapshot


def test_a_half_life_must_be_positive() -> None:
    with pytest.raises(ValueError, match="half_life_seconds"):
        AgentRanking(0)


def test_agent_keys_are_short_and_tell_backends_apart() -> None:
    role = "You are a careful mathematician. " * 30
    assert len(agent_key(role, "", "")) < 40
    assert agent_key(role, "a", "m") != agent_key(role, "b", "m") != agent_key(role + ".", "b", "m")
