"""The conformance cases: each names one behaviour both doors must show alike, and is written once
against a Door. They hold on any deployment (the embedded model, a real provider, the test's fake), so
they assert what smoa promises, never what a model writes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from tests.conformance.doors import Answer, Door, Refused

QUESTION = "What is 6 x 7?"


async def every_mode_answers_as_itself(door: Door) -> None:
    for mode in ("smoa", "moa", "single", "auto"):
        answer = await door.ask(QUESTION, mode=mode, n=2, k=1, max_layers=1)
        assert answer.text, f"{mode}: no text"
        assert answer.mode == mode, f"asked {mode}, answered as {answer.mode}"
        assert not answer.degraded, f"{mode}: degraded with nothing failing"
    single = await door.ask(QUESTION, mode="single")
    assert (single.layers, single.stop_reason) == (0, "fixed_layers")


async def dense_moa_runs_every_layer_asked_for(door: Door) -> None:
    answer = await door.ask(QUESTION, mode="moa", n=2, max_layers=2)
    assert (answer.layers, answer.stop_reason) == (2, "fixed_layers")


async def sparse_smoa_stays_within_its_layer_cap(door: Door) -> None:
    answer = await door.ask(QUESTION, mode="smoa", n=3, k=2, max_layers=2)
    assert 1 <= answer.layers <= 2
    assert answer.stop_reason in {"max_layers", "consensus", "moderator"}, answer.stop_reason


async def usage_counts_both_directions(door: Door) -> None:
    answer = await door.ask(QUESTION, mode="smoa", n=2, k=1, max_layers=1)
    assert answer.input_tokens > 0 and answer.output_tokens > 0


async def a_token_budget_stops_before_another_layer(door: Door) -> None:
    # A budget below one layer's cost: the first layer and the answer run, no second layer.
    answer = await door.ask(QUESTION, mode="moa", n=2, max_layers=3, token_budget=1)
    assert (answer.layers, answer.stop_reason) == (1, "token_budget")


async def an_invalid_request_is_refused_naming_its_field(door: Door) -> None:
    for options, field in (({"n": 2, "k": 3}, "k"), ({"max_layers": 1000}, "max_layers")):
        try:
            await door.ask(QUESTION, **options)
        except Refused as refused:
            assert refused.field == field, f"{options}: named {refused.field!r}, not {field!r}"
        else:
            raise AssertionError(f"{options} was not refused")


async def a_stream_ends_with_the_answer_its_pieces_make(door: Door) -> None:
    pieces: list[str] = []
    answers: list[Answer] = []
    async for item in door.stream(QUESTION, mode="smoa", n=2, k=1, max_layers=1):
        (answers.append if isinstance(item, Answer) else pieces.append)(item)  # type: ignore[arg-type]
    assert len(answers) == 1 and pieces, (len(answers), len(pieces))
    assert "".join(pieces) == answers[0].text
    assert answers[0].input_tokens > 0


async def a_stream_left_early_leaves_the_door_serving(door: Door) -> None:
    stream = door.stream(QUESTION, mode="moa", n=2, max_layers=2)
    async for _ in stream:
        break  # the caller hangs up after the first piece
    await stream.aclose()  # type: ignore[attr-defined]
    assert (await door.ask(QUESTION, mode="single")).text


Case = Callable[[Door], Awaitable[None]]
CASES: dict[str, Case] = {
    case.__name__: case
    for case in (
        every_mode_answers_as_itself,
        dense_moa_runs_every_layer_asked_for,
        sparse_smoa_stays_within_its_layer_cap,
        usage_counts_both_directions,
        a_token_budget_stops_before_another_layer,
        an_invalid_request_is_refused_naming_its_field,
        a_stream_ends_with_the_answer_its_pieces_make,
        a_stream_left_early_leaves_the_door_serving,
    )
}


@dataclass(frozen=True)
class Outcome:
    door: str
    case: str
    seconds: float
    error: str | None  # None: it held


async def outcomes(doors: list[Door], cases: list[str]) -> AsyncIterator[Outcome]:
    """Each case through each door in turn; a case that fails is reported and the next one runs."""
    for door in doors:
        for name in cases:
            started = time.monotonic()
            error = None
            try:
                await CASES[name](door)
            except Exception as e:
                error = f"{type(e).__name__}: {e}"
            yield Outcome(door.name, name, time.monotonic() - started, error)
