"""What a request's JSON Schema may be (schema_problem) and what checking an answer against it never does:
crash. A schema the validator would choke on mid-answer (nested past its recursion, a $ref to nowhere or
to the network) is refused up front; an answer too deep for a recursive schema is invalid, not an error."""

from __future__ import annotations

import json

import pytest

from smoa_services.ensemble.answer_format import MAX_SCHEMA_DEPTH, AnswerFormat, AnswerInvalid, schema_problem

TREE = json.dumps(
    {
        "type": "object",
        "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["value"],
    }
)


def nested(depth: int) -> str:
    return '{"properties": {"a": ' * depth + "{}" + "}}" * depth


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (nested(MAX_SCHEMA_DEPTH), f"nested deeper than {MAX_SCHEMA_DEPTH}"),  # 2 levels per property
        (nested(2000), "not JSON"),
        ('{"properties": {"x": {"$ref": "#/$defs/missing"}}}', "does not point inside the schema"),
        ('{"properties": {"x": {"$ref": "https://example.com/s.json"}}}', "does not point inside"),
        ('{"properties": {"x": {"$ref": "#anchor"}}}', "does not point inside"),
        ('{"properties": {"x": {"$ref": 7}}}', "not a valid JSON Schema"),
        ('{"type": "nothing"}', "not a valid JSON Schema"),
        ('{"$schema": []}', "$schema must be"),  # found by tests/fuzz/test_tools_fuzz.py: was a TypeError
    ],
)
def test_a_schema_the_validator_would_choke_on_is_refused(schema: str, problem: str) -> None:
    found = schema_problem(schema)
    assert found is not None and problem in found


def test_local_references_are_taken() -> None:
    schema = {
        "$defs": {"a/b": {"type": "integer"}},
        "properties": {"x": {"$ref": "#/$defs/a~1b"}, "y": {"$ref": "#/properties/x"}, "z": {"$ref": "#"}},
    }
    assert schema_problem(json.dumps(schema)) is None
    assert schema_problem(nested(MAX_SCHEMA_DEPTH // 2 - 1)) is None
    assert schema_problem(TREE) is None


def test_a_recursive_schema_checks_a_tree_and_an_answer_too_deep_is_invalid() -> None:
    form = AnswerFormat(json=True, schema=TREE)
    assert form.check('{"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}')
    with pytest.raises(AnswerInvalid, match="children/0/children/0/value"):
        form.check('{"value": 1, "children": [{"value": 2, "children": [{"value": "3"}]}]}')
    deep = '{"value": 1, "children": [' * 400 + '{"value": 0}' + "]}" * 400
    with pytest.raises(AnswerInvalid, match="too deep"):
        form.check(deep)
