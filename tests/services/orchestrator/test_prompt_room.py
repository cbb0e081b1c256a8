"""LLM answers fitted into the room a peer's prompt has: untouched when they fit, clipped to equal shares
when a model's answer would make the prompt too long for the peer to accept."""

from __future__ import annotations

from smoa_services.orchestrator.prompt_room import CLIPPED, fitted, room_for_answers
from smoa_services.orchestrator.records import Candidate


def answer(i: int, text: str) -> Candidate:
    return Candidate(id=f"L1-P{i}", text=text, agent=f"role {i}")


def test_answers_that_fit_are_sent_as_they_are() -> None:
    answers = [answer(0, "short"), answer(1, "y" * 5_000)]
    assert [c.text for c in fitted(answers, room=20_000)] == ["short", "y" * 5_000]


def test_answers_that_do_not_fit_are_clipped_to_equal_shares_of_the_room() -> None:
    answers = [answer(0, "short"), answer(1, "\\boxed{" * 30_000), answer(2, "z" * 1_000_000)]
    sent = fitted(answers, room=30_000)
    assert sent[0].text == "short"
    assert all(len(c.text) <= 10_000 and c.text.endswith(CLIPPED) for c in sent[1:])
    assert sum(len(c.text) for c in sent) <= 30_000
    assert [c.id for c in sent] == ["L1-P0", "L1-P1", "L1-P2"]


def test_the_room_is_what_the_callers_conversation_and_role_leave() -> None:
    assert 140_000 < room_for_answers(50_000, 200_000, role_chars=4_000) < 150_000
