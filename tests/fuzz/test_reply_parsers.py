"""The readers of LLM replies (judge verdicts, stop/continue decisions, written roles) on any text: each
returns a well-formed value or raises its ReplyError, never anything else, and quickly."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smoa.v1 import common_pb2, proposer_pb2
from smoa_services.config import Settings
from smoa_services.ensemble.decision import Decision
from smoa_services.judge import verdict
from smoa_services.judge.prompt import labels
from smoa_services.llm.backend_error import MalformedReply
from smoa_services.llm.completion import Reply, read_chunk, read_completion
from smoa_services.llm.json_reply import MAX_REPLY_CHARS, ReplyError, json_object
from smoa_services.moderator.policy import parse_decision
from smoa_services.orchestrator.roles import parse_roles
from smoa_services.proposer.request import propose_violations
from tests.fuzz.replies import LONG_INTEGERS, Obj, Raw, json_strings, json_values, objects, replies
from tests.fuzz_budget import fuzz

T = TypeVar("T")

# The reply that made the fence pattern backtrack quadratically: about a minute of one core, with the
# service's event loop blocked all that time.
OPEN_FENCE = "```" + " " * (MAX_REPLY_CHARS - 3)


def read(parse: Callable[[], T]) -> T | None:
    """What ``parse`` returned, or None for a ReplyError (whose message goes into responses and whose
    detail to the model, so both must be valid UTF-8). Any other exception fails the test."""
    try:
        return parse()
    except ReplyError as e:
        str(e).encode("utf-8")
        e.detail.encode("utf-8")
        return None


def strings_in(value: object) -> Iterator[str]:
    # Iterative: a reply may nest as deep as the parser allows, deeper than this test's stack would.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            stack += item


SCORES = st.one_of(
    st.integers(-3, 14),
    st.floats(),
    st.sampled_from(["1e400", "-0", "NaN", "Infinity", "10.0000000001"]).map(Raw),
    LONG_INTEGERS.map(Raw),
    st.sampled_from(["8", "", True, False, None, [], {}]),
    json_values(max_leaves=3),
)
DECISIONS: st.SearchStrategy[object] = st.sampled_from(
    ["stop", "continue", " STOP ", "Continue\n", "maybe", "", 1, None, []]
)
REASONS = st.one_of(json_strings(), json_values(max_leaves=3))


@st.composite
def verdict_cases(draw: st.DrawFn) -> tuple[str, list[str], bool]:
    shown = labels(draw(st.integers(1, 12)))
    variants = st.sampled_from(shown).flatmap(
        lambda label: st.sampled_from([label, label, f"[{label}]", f" {label} ", f"0{label}", f"{label}.0"])
    )
    keys = st.one_of(variants, variants, st.sampled_from(["99", "", "0", "scores"]), json_strings())
    scores = st.lists(st.tuples(keys, SCORES), max_size=len(shown) + 2).map(lambda p: Obj(tuple(p)))
    exact = st.builds(
        lambda values: Obj(tuple(zip(shown, values, strict=True))), st.tuples(*[SCORES] * len(shown))
    )
    shaped = objects(
        {"scores": st.one_of(exact, scores, json_values()), "decision": DECISIONS, "reason": REASONS}
    )
    return draw(replies(shaped, words=shown)), shown, draw(st.booleans())


@given(verdict_cases())
@fuzz()
@example(('{"scores": {"1": 1' + "0" * 400 + "}}", ["1"], False))
@example(('{"scores": {"1": NaN, "2": Infinity, "3": -0}}', ["1", "2", "3"], True))
@example((OPEN_FENCE, ["1"], True))
def test_a_verdict_scores_exactly_the_shown_labels_from_0_to_10(case: tuple[str, list[str], bool]) -> None:
    text, shown, decide = case
    found = read(lambda: verdict.parse_verdict(text, shown, decide))
    if found is None:
        return
    assert sorted(found.scores) == sorted(shown)
    assert all(
        math.isfinite(s) and verdict.MIN_SCORE <= s <= verdict.MAX_SCORE for s in found.scores.values()
    )
    assert all(1 <= int(label) <= len(shown) for label in found.scores)  # how judge.py maps them back
    assert found.decision in ((None, "stop", "continue") if decide else (None,))
    assert found.reason == "" or found.decision is not None
    found.reason.encode("utf-8")


# The judge reads its decision with the same reader, inside parse_verdict (fuzzed above).
@given(replies(objects({"decision": DECISIONS, "reason": REASONS})))
@fuzz()
@example('{"decision": "stop", "reason": "\\ud800"}')
@example('{"decision": ' + "[" * 5_000 + "]" * 5_000 + "}")
@example('{"decision": ' + "[" * 990 + "]" * 990 + "}")
@example('{"decision": "continue", "reason": ' + "9" * 4_301 + "}")
def test_a_decision_is_stop_or_continue_with_a_stripped_reason(text: str) -> None:
    found = read(lambda: parse_decision(text))
    if found is None:
        return
    assert found.decision in (Decision.STOP, Decision.CONTINUE)
    assert found.reason == found.reason.strip()
    found.reason.encode("utf-8")


ROLE_TEXTS = st.one_of(
    json_strings(),
    st.sampled_from(["A", "a", " a ", "B", "\u3000", "\n"]),
    st.builds(
        lambda unit, n: unit * n, st.sampled_from(["x", "é", "😀"]), st.sampled_from([999, 1_000, 4_001])
    ),
)


@st.composite
def role_cases(draw: st.DrawFn) -> tuple[str, int]:
    n = draw(st.integers(1, 8))
    roles = st.lists(ROLE_TEXTS, min_size=max(0, n - 1), max_size=n + 1)
    # Right-sized lists of distinct roles, so the checks past the count are reached often.
    distinct = st.lists(ROLE_TEXTS, min_size=n, max_size=n).map(
        lambda rs: [f"You are role {i}: {r}" for i, r in enumerate(rs)]
    )
    shaped = objects({"roles": st.one_of(roles, distinct, distinct, json_values())})
    return draw(replies(shaped)), n


@given(role_cases())
@fuzz()
@example(('{"roles": ["' + "x" * 4_001 + '"]}', 1))
@example(('{"roles": ["a", "A "]}', 2))
def test_written_roles_are_n_distinct_roles_a_proposer_accepts(case: tuple[str, int]) -> None:
    text, n = case
    found = read(lambda: parse_roles(text, n))
    if found is None:
        return
    assert len(found) == n and len({r.casefold() for r in found}) == n
    question = [common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="What is 2 + 2?")]
    for role in found:
        assert role and role == role.strip()
        # The role goes to every proposer: one it refuses would fail the request over the LLM's reply.
        assert propose_violations(proposer_pb2.ProposeRequest(messages=question, role=role), Settings()) == []


@given(replies(json_values()))
@fuzz()
@example('{"a": "\\udfff\\ud800", "\\ud83d": ["\\ud83d\\ude00"]}')
@example("{" + '"a": ' * 3 + "[" * 20_000)
def test_any_object_read_holds_only_valid_utf8(text: str) -> None:
    found = read(lambda: json_object(text))
    if found is None:
        return
    assert isinstance(found, dict)
    for s in strings_in(found):
        s.encode("utf-8")


PATHOLOGICAL = [
    OPEN_FENCE,
    "```json" + "\n" * (MAX_REPLY_CHARS - 7),
    "```" * (MAX_REPLY_CHARS // 3),
    "`" * MAX_REPLY_CHARS,
    "{" * MAX_REPLY_CHARS,
    "[" * (MAX_REPLY_CHARS - 2) + "{}",
    '{"a": ' + "9" * (MAX_REPLY_CHARS - 7) + "}",
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=lambda t: repr(t[:12]))
def test_a_reply_at_the_size_cap_is_read_quickly(text: str) -> None:
    parsers: list[Callable[[], object]] = [
        lambda: verdict.parse_verdict(text, ["1", "2"], decide=True),
        lambda: parse_decision(text),
        lambda: parse_roles(text, 2),
    ]
    for parse in parsers:
        started = time.perf_counter()
        read(parse)
        # Linear work on 100,000 characters takes milliseconds; quadratic work took about a minute.
        assert time.perf_counter() - started < 2.0


# The keys the readers look for, so that the fuzz reaches past the first check.
BODY_KEYS = ["choices", "message", "delta", "content", "finish_reason", "model", "usage", "prompt_tokens"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(BODY_KEYS) | st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=16,
)


@given(JSON)
@example({"choices": [{"delta": {"content": "\ud800"}, "finish_reason": 1}], "usage": {"prompt_tokens": 3}})
@fuzz()
def test_an_llm_body_or_chunk_is_read_or_refused_as_malformed(body: object) -> None:
    """Any JSON a backend sends as a body or a streamed chunk: read into valid UTF-8, or MalformedReply."""
    for reader in (read_completion, read_chunk):
        try:
            reply = reader(body)
        except MalformedReply:
            continue
        text = reply.text if isinstance(reply, Reply) else "".join(reply.pieces)
        (text + reply.finish + reply.model).encode("utf-8")
        assert reply.usage is None or all(isinstance(count, int) for count in reply.usage)
