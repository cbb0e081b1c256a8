"""Asking for JSON with one corrective retry, against a scripted ask (no network)."""

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from smoa_services.judge.verdict import parse_verdict
from smoa_services.llm import Completion
from smoa_services.llm.completion import Message
from smoa_services.llm.json_reply import ReplyError, ask_json, json_object


def completion(text: str) -> Completion:
    return Completion(text, 10, 2, False, "fake", "stop", 0.01)


def parse_number(text: str) -> int:
    value = json_object(text).get("n")
    if not isinstance(value, int):
        raise ReplyError('"n" must be an integer')
    return value


class ScriptedAsk:
    def __init__(self, *replies: str):
        self.replies = list(replies)
        self.seen: list[list[dict[str, str]]] = []

    async def __call__(
        self, messages: Sequence[Message], schema: Mapping[str, Any] | None = None
    ) -> Completion:
        self.seen.append([dict(m) for m in messages])
        return completion(self.replies.pop(0))


async def test_first_valid_reply_is_used() -> None:
    ask = ScriptedAsk('{"n": 3}')
    reply = await ask_json(ask, [{"role": "user", "content": "n?"}], parse_number)
    assert reply.value == 3 and len(reply.completions) == 1 and reply.error == ""


async def test_retry_shows_the_previous_reply_and_its_error() -> None:
    ask = ScriptedAsk('{"n": "three"}', '{"n": 3}')
    reply = await ask_json(ask, [{"role": "user", "content": "n?"}], parse_number)
    assert reply.value == 3 and len(reply.completions) == 2
    retry = ask.seen[1]
    assert retry[0] == {"role": "user", "content": "n?"}
    assert retry[1] == {"role": "assistant", "content": '{"n": "three"}'}
    assert '"n" must be an integer' in retry[2]["content"]


async def test_two_failures_give_no_value_and_the_last_error() -> None:
    ask = ScriptedAsk("nope", '{"n": 1.5}')
    reply = await ask_json(ask, [{"role": "user", "content": "n?"}], parse_number)
    assert reply.value is None and len(reply.completions) == 2
    assert reply.error == '"n" must be an integer'
    # The retry corrects the latest reply, not an ever-growing history.
    assert len(ask.seen[1]) == 3


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        ('{"n": ' + "[" * 20_000 + "]" * 20_000 + "}", "nested too deeply"),
        ('{"n": ' + "9" * 5000 + "}", "cannot be read"),
        ("{" + '"n": 1, ' * 20_000 + '"m": 2}', "characters long"),
        ("[1, 2]", "holds no JSON object"),
    ],
)
def test_hostile_replies_are_reply_errors_not_crashes(reply: str, says: str) -> None:
    with pytest.raises(ReplyError, match=says):
        json_object(reply)


def test_strings_come_back_as_valid_utf8() -> None:
    value = json_object('{"reason": "fine \\ud83d then"}')  # a lone surrogate, escaped in JSON
    assert value["reason"] == "fine ? then"
    value["reason"].encode("utf-8")  # what protobuf does with it


def test_a_score_too_large_for_a_float_is_a_bad_score() -> None:
    with pytest.raises(ReplyError, match="is not a number from 0 to 10"):
        parse_verdict('{"scores": {"1": 1' + "0" * 400 + ', "2": 5}}', ["1", "2"], decide=False)
