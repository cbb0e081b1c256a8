"""The one stop/continue decision: how a reply's fields are read, the rule, and the wire mapping."""

import pytest

from smoa.v1 import common_pb2
from smoa_services.ensemble.decision import (
    Decision,
    ReasonedDecision,
    by_rule,
    decision_from_wire,
    decision_to_wire,
    read_decision,
)
from smoa_services.llm.json_reply import ReplyError
from smoa_services.moderator.policy import parse_decision


def test_the_word_is_read_whatever_its_case_and_spaces() -> None:
    assert read_decision({"decision": " STOP\n", "reason": " done "}) == ReasonedDecision(
        Decision.STOP, "done"
    )
    assert read_decision({"decision": "Continue"}) == ReasonedDecision(Decision.CONTINUE, "")


def test_a_reason_that_is_not_a_string_reads_as_none() -> None:
    # Not worth a retry: the decision is what the pipeline needs.
    assert read_decision({"decision": "stop", "reason": 3}) == ReasonedDecision(Decision.STOP, "")


@pytest.mark.parametrize("raw", ["maybe", "", 1, None, ["stop"]])
def test_no_valid_word_is_a_reply_error_that_quotes_it_only_in_the_detail(raw: object) -> None:
    with pytest.raises(ReplyError) as raised:
        read_decision({"decision": raw, "reason": "why"})
    assert str(raised.value) == '"decision" must be "stop" or "continue"'
    assert raised.value.detail.endswith(f"got {str(raw)[:60]!r}")


def test_the_moderators_reply_is_a_decision_object() -> None:
    assert parse_decision('```json\n{"decision": "stop", "reason": "ok"}\n```').decision is Decision.STOP
    with pytest.raises(ReplyError, match="no JSON object"):
        parse_decision("stop")


def test_the_rule_continues_while_layers_remain_and_stops_at_the_cap() -> None:
    assert by_rule(1, 3).decision is Decision.CONTINUE and "layer 1 of 3" in by_rule(1, 3).reason
    assert by_rule(3, 3).decision is Decision.STOP and "no layers remain" in by_rule(3, 3).reason


def test_the_wire_mapping_goes_both_ways_and_none_is_unspecified() -> None:
    for decision in Decision:
        assert decision_from_wire(decision_to_wire(decision)) is decision
    assert decision_to_wire(None) == common_pb2.DECISION_UNSPECIFIED
    assert decision_from_wire(common_pb2.DECISION_UNSPECIFIED) is None
    assert decision_from_wire(99) is None  # type: ignore[arg-type]  # a value from a newer peer
