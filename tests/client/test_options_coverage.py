"""The SDK keeps up with the contract: every GenerateRequest field is settable through GenerateOptions
(the messages through the question itself), setting each option lands on the wire, and the SDK's enums
name every value of the contract's. A field added to the proto fails here until the SDK carries it."""

from __future__ import annotations

import dataclasses
import typing
from enum import Enum
from typing import Any

import pytest
from google.protobuf.descriptor import EnumDescriptor

from smoa import Aggregation, GenerateOptions, JsonAnswer, Mode, ModelSettings, Selection, Skips, Tool
from smoa.overrides import GenerateOverrides
from smoa.request import generate_request
from smoa.v1 import common_pb2, orchestrator_pb2

# GenerateRequest fields set by something other than the GenerateOption of the same name.
QUESTION = "messages"
RENAMED = {"fused_judge_moderator": "fused"}
# One value per option, unlike its default, and what its field then holds on the wire.
SET: dict[str, tuple[Any, Any]] = {
    "mode": ("moa", orchestrator_pb2.MODE_MOA),
    "n": (5, 5),
    "k": (3, 3),
    "max_layers": (2, 2),
    "roles": (["historian", "chemist"], orchestrator_pb2.Roles(roles=["historian", "chemist"])),
    "task_description": ("maths", "maths"),
    "model": (ModelSettings(model="m", seed=3), common_pb2.ModelSettings(model="m", seed=3)),
    "agents": (
        {1: "small"},
        [orchestrator_pb2.AgentOverride(index=1, model=common_pb2.ModelSettings(model="small"))],
    ),
    "fused": (True, True),
    "token_budget": (5000, 5000),
    "seed": (7, 7),
    "aggregation": ("bradley_terry", common_pb2.AGGREGATION_METHOD_BRADLEY_TERRY),
    "selection": (Selection.MMR, common_pb2.SELECTION_METHOD_MMR),
    "quorum": (2, 2),
    "judge_passes": (3, 3),
    "first_layer_start": (2, 2),
    "first_layer_step": (1, 1),
    "skips": (Skips(judge_on_consensus=False), orchestrator_pb2.Skips(judge_on_consensus=False)),
    "stop": (["\nObservation:"], ["\nObservation:"]),
    "metadata": ({"user": "u-1"}, {"user": "u-1"}),
    "response_format": (
        JsonAnswer(schema={"type": "object"}, name="verdict"),
        common_pb2.ResponseFormat(
            format=common_pb2.OUTPUT_FORMAT_JSON_SCHEMA, json_schema='{"type": "object"}', name="verdict"
        ),
    ),
    "tools": (
        [Tool("lookup", "Look a word up.", {"type": "object"})],
        [common_pb2.Tool(name="lookup", description="Look a word up.", parameters='{"type": "object"}')],
    ),
    "tool_choice": ("required", common_pb2.ToolChoice(mode=common_pb2.ToolChoice.MODE_REQUIRED)),
    "parallel_tool_calls": (True, True),  # optional: unset reads False on the wire
    "rank_agents": (True, True),
}
OPTIONS = [f.name for f in dataclasses.fields(GenerateOptions)]
WIRE_NAME = {option: wire for wire, option in RENAMED.items()}


def test_every_request_field_is_settable() -> None:
    wire = [f.name for f in orchestrator_pb2.GenerateRequest.DESCRIPTOR.fields if f.name != QUESTION]
    missing = [name for name in wire if RENAMED.get(name, name) not in OPTIONS]
    assert not missing, f"GenerateRequest fields GenerateOptions cannot set: {missing}"
    unknown = [name for name in OPTIONS if WIRE_NAME.get(name, name) not in wire]
    assert not unknown, f"GenerateOptions fields with no GenerateRequest field: {unknown}"


def test_every_option_has_a_keyword_argument_of_the_same_type() -> None:
    fields = typing.get_type_hints(GenerateOptions)
    assert typing.get_type_hints(GenerateOverrides) == {name: fields[name] for name in OPTIONS}


@pytest.mark.parametrize("name", OPTIONS)
def test_each_option_lands_on_the_wire(name: str) -> None:
    assert name in SET, f"give {name} a value in SET"
    value, expected = SET[name]
    assert GenerateOptions(**{name: value}) != GenerateOptions(), "the value must not be the default"
    # mode alone has a default the wire carries (SMoA); everything else is unset when not given.
    plain = generate_request("q", GenerateOptions())
    request = generate_request("q", GenerateOptions(**{name: value}))
    wire = WIRE_NAME.get(name, name)
    assert getattr(request, wire) == expected
    if name != "mode":
        assert getattr(plain, wire) != expected
    # Nothing else moved.
    request.ClearField(wire)  # type: ignore[arg-type]
    plain.ClearField(wire)  # type: ignore[arg-type]
    assert request == plain


@pytest.mark.parametrize(
    ("kind", "wire", "prefix"),
    [
        (Mode, orchestrator_pb2.Mode.DESCRIPTOR, "MODE_"),
        (Aggregation, common_pb2.AggregationMethod.DESCRIPTOR, "AGGREGATION_METHOD_"),
        (Selection, common_pb2.SelectionMethod.DESCRIPTOR, "SELECTION_METHOD_"),
    ],
)
def test_the_sdks_enums_name_every_value_of_the_contracts(
    kind: type[Enum], wire: EnumDescriptor, prefix: str
) -> None:
    names = [v.name.removeprefix(prefix) for v in wire.values if not v.name.endswith("_UNSPECIFIED")]
    assert names == [member.name for member in kind]
