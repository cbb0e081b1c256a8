"""Role assignment: sources, validation with one retry, the generic fallback, the LRU cache."""

from __future__ import annotations

import pytest

from smoa_services.llm import ModelChoice
from smoa_services.llm.json_reply import ReplyError
from smoa_services.orchestrator.prompt import GENERIC_ROLES
from smoa_services.orchestrator.role_cache import RoleCache
from smoa_services.orchestrator.roles import RoleWriter, in_turn, parse_roles
from tests.services.orchestrator.orchestrator_fakes import FakeChat


def writer(*replies: str, cache_size: int = 4) -> tuple[RoleWriter, FakeChat]:
    chat = FakeChat(replies=replies)
    return RoleWriter(chat, cache_size), chat


async def assign(w: RoleWriter, n: int = 2, **source: object) -> tuple[str, ...]:
    return (await w.assign(n, ModelChoice(), lambda: 1.0, **source)).roles  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("no json here", "no JSON object"),
        ('{"personas": []}', '"roles" list'),
        ('{"roles": ["one"]}', "exactly 2 roles, got 1"),
        ('{"roles": ["one", "  "]}', "non-empty"),
        ('{"roles": ["one", 2]}', "non-empty string"),
        ('{"roles": ["Same", "same "]}', "distinct"),
    ],
)
def test_bad_role_replies_say_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(ReplyError, match=error):
        parse_roles(text, 2)


def test_good_reply_is_stripped() -> None:
    assert parse_roles('```json\n{"roles": [" a ", "b"]}\n```', 2) == ("a", "b")


async def test_a_bad_reply_is_retried_once_with_the_error() -> None:
    w, chat = writer('{"roles": ["only one"]}', '{"roles": ["a", "b"]}')
    assignment = await w.assign(2, ModelChoice(), lambda: 1.0, description="task")
    assert (assignment.roles, assignment.source, len(assignment.completions)) == (
        ("a", "b"),
        "description",
        2,
    )
    retry = chat.completed[1]
    assert retry[-2] == {"role": "assistant", "content": '{"roles": ["only one"]}'}
    assert "exactly 2 roles, got 1" in retry[-1]["content"]


async def test_two_bad_replies_fall_back_to_generic_roles_uncached() -> None:
    w, chat = writer("nope", "still nope", '{"roles": ["a", "b"]}')
    assignment = await w.assign(2, ModelChoice(), lambda: 1.0, description="task")
    assert assignment.source == "fallback" and assignment.roles == GENERIC_ROLES[:2]
    assert "no JSON object" in assignment.error
    # The fallback is not cached: the next request tries again.
    assert await assign(w, description="task") == ("a", "b")
    assert len(chat.completed) == 3


async def test_sources_in_order_of_precedence() -> None:
    w, chat = writer()
    assert await assign(w, 3, explicit=["x", "y"], description="t", defaults=["d"]) == ("x", "y", "x")
    assert await assign(w, 3, defaults=["d1", "d2"]) == ("d1", "d2", "d1")
    assert await assign(w, 3) == GENERIC_ROLES[:3]
    assert not chat.completed


async def test_cache_is_per_description_and_n() -> None:
    w, chat = writer('{"roles": ["a", "b"]}', '{"roles": ["a", "b", "c"]}')
    assert await assign(w, 2, description="t") == ("a", "b")
    assert await assign(w, 3, description="t") == ("a", "b", "c")
    assert await assign(w, 2, description="t") == ("a", "b")
    assert len(chat.completed) == 2


def test_role_cache_evicts_the_least_recently_used() -> None:
    cache = RoleCache(2)
    cache.put("a", 1, ("ra",))
    cache.put("b", 1, ("rb",))
    assert cache.get("a", 1) == ("ra",)  # a is now the most recent
    cache.put("c", 1, ("rc",))
    assert cache.get("b", 1) is None and cache.get("a", 1) == ("ra",) and len(cache) == 2
    RoleCache(0).put("a", 1, ("ra",))  # a zero-size cache holds nothing and does not fail


def test_in_turn_reuses_roles() -> None:
    assert in_turn(["a", "b"], 5) == ("a", "b", "a", "b", "a")
    assert len(set(in_turn(GENERIC_ROLES, 8))) == 8


def test_written_roles_are_never_longer_than_the_proposers_accept() -> None:
    reply = '{"roles": ["' + "a" * 300 + '", "b"]}'
    assert parse_roles(reply, 2)[1] == "b"
    with pytest.raises(ReplyError, match="at most 200 characters"):
        parse_roles(reply, 2, max_chars=200)
    assert RoleWriter(FakeChat(replies=()), 8, max_role_chars=200).max_role_chars == 200
