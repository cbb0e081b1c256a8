"""Reading the judge's JSON reply, without a network."""

import pytest

from smoa_services.judge.verdict import Verdict, parse_verdict
from smoa_services.llm.json_reply import ReplyError

SHOWN = ["1", "2", "3"]


def test_valid_scores() -> None:
    verdict = parse_verdict('{"scores": {"1": 8, "2": 3.5, "3": 0}}', SHOWN, decide=False)
    assert verdict == Verdict({"1": 8.0, "2": 3.5, "3": 0.0})


def test_fenced_json_and_bracketed_labels_are_tolerated() -> None:
    text = 'Here you go:\n```json\n{"scores": {"[1]": 8, " 2 ": 3, "3": 10}}\n```'
    assert parse_verdict(text, SHOWN, decide=False).scores == {"1": 8.0, "2": 3.0, "3": 10.0}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("I like the first one.", "no JSON object"),
        ('{"scores": {"1": 8, "2": 3,}}', "not valid JSON"),
        ("[1, 2]", "no JSON object"),
        ('{"ranking": [1, 2, 3]}', '"scores" object'),
        ('{"scores": {"1": 8, "2": 3}}', 'no score for "3"'),
        ('{"scores": {"1": 8, "2": 3, "3": 4, "4": 1}}', 'unknown label "4"'),
        ('{"scores": {"1": 11, "2": 3, "3": 4}}', 'the score of "1" must be a number from 0 to 10, got 11'),
        ('{"scores": {"1": -1, "2": 3, "3": 4}}', 'the score of "1"'),
        ('{"scores": {"1": "8", "2": 3, "3": 4}}', 'got "8"'),
        ('{"scores": {"1": true, "2": 3, "3": 4}}', "got true"),
        ('{"scores": {"1": 1, "[1]": 2, "2": 3, "3": 4}}', 'label "1" is scored twice'),
    ],
)
def test_invalid_replies_say_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(ReplyError) as raised:
        parse_verdict(text, SHOWN, decide=False)
    assert error in raised.value.detail


def test_the_message_for_traces_does_not_quote_the_reply() -> None:
    with pytest.raises(ReplyError) as raised:
        parse_verdict('{"scores": {"1": "SECRET-1", "2": 3, "3": 4, "SECRET-2": 5}}', SHOWN, decide=False)
    assert "SECRET" in raised.value.detail
    assert "SECRET" not in str(raised.value)
    assert "a label that was not shown" in str(raised.value) and "the score of 1" in str(raised.value)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ReplyError) as raised:
        parse_verdict('{"scores": {"1": 20, "9": 1}}', SHOWN, decide=False)
    message = raised.value.detail
    assert 'unknown label "9"' in message
    assert 'the score of "1"' in message
    assert 'no score for "2", "3"' in message
    assert '"1" ' not in message.split("no score for")[1]


def test_decision_when_asked() -> None:
    text = '{"scores": {"1": 1, "2": 2, "3": 3}, "decision": "Stop", "reason": "3 is right"}'
    verdict = parse_verdict(text, SHOWN, decide=True)
    assert (verdict.decision, verdict.reason) == ("stop", "3 is right")


def test_missing_or_bad_decision_keeps_the_scores() -> None:
    for extra in ("", ', "decision": "maybe"', ', "decision": 1'):
        verdict = parse_verdict(f'{{"scores": {{"1": 1, "2": 2, "3": 3}}{extra}}}', SHOWN, decide=True)
        assert verdict.decision is None and verdict.scores["3"] == 3.0


def test_decision_is_ignored_when_not_asked() -> None:
    text = '{"scores": {"1": 1, "2": 2, "3": 3}, "decision": "stop"}'
    assert parse_verdict(text, SHOWN, decide=False).decision is None
