"""The SDK's records keep up with the contract, driven by the descriptors: every value of every enum it
reads maps to a member of its own enum (so a new StopReason, Stage or FailureKind fails here instead of
reading as UNSPECIFIED), and every field of every message it reads reaches its records (a field added to
GenerateResponse, LayerTrace or Progress that from_wire.py drops fails here)."""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from smoa import from_wire
from smoa.events import Stage
from smoa.result import Decision, FailureKind, Mode, StopReason
from smoa.v1 import common_pb2, orchestrator_pb2

# Each table of from_wire.py, the contract's enum it reads and the SDK's enum it gives.
READ: list[tuple[Any, EnumDescriptor, Any]] = [
    (from_wire.MODES, orchestrator_pb2.Mode.DESCRIPTOR, Mode),
    (from_wire.STOP_REASONS, common_pb2.StopReason.DESCRIPTOR, StopReason),
    (from_wire.FAILURE_KINDS, orchestrator_pb2.AgentFailure.Kind.DESCRIPTOR, FailureKind),
    (from_wire.DECISIONS, common_pb2.Decision.DESCRIPTOR, Decision),
    (from_wire.STAGES, orchestrator_pb2.Progress.Stage.DESCRIPTOR, Stage),
]
# Enums of the messages the SDK reads that it mirrors differently, and why.
NOT_READ_AS_ENUMS: dict[str, str] = {}
# Fields the SDK computes from others rather than reads, and from what.
DERIVED = {("degraded",): "Result.degraded is whether there are degradations, which it reads"}


@pytest.mark.parametrize(("table", "wire", "kind"), READ, ids=[w.full_name for _, w, _ in READ])
def test_every_wire_value_reads_as_its_own_member(
    table: dict[int, Enum], wire: EnumDescriptor, kind: type[Enum]
) -> None:
    named = {v.number for v in wire.values if not v.name.endswith("_UNSPECIFIED")}
    assert named <= set(table), f"{wire.full_name}: values the SDK reads as unknown: {named - set(table)}"
    read = {table[number] for number in named}
    # One member per value, and every member but UNSPECIFIED is one the wire can say.
    assert len(read) == len(named)
    assert read == {m for m in kind if m.name != "UNSPECIFIED"}


def enums_of(message: Descriptor, seen: set[str] | None = None) -> Iterator[EnumDescriptor]:
    """Every enum a message's fields use, through its nested messages."""
    seen = set() if seen is None else seen
    if message.full_name in seen:
        return
    seen.add(message.full_name)
    for field in message.fields:
        if field.enum_type is not None:
            yield field.enum_type
        if field.message_type is not None:
            yield from enums_of(field.message_type, seen)


def test_every_enum_of_what_the_sdk_reads_is_pinned() -> None:
    read = {orchestrator_pb2.GenerateResponse.DESCRIPTOR, orchestrator_pb2.Progress.DESCRIPTOR}
    used = {e.full_name for message in read for e in enums_of(message)}
    pinned = {wire.full_name for _, wire, _ in READ} | set(NOT_READ_AS_ENUMS)
    assert used <= pinned, f"enums the SDK reads with no table here: {sorted(used - pinned)}"


def fill(
    message: Message, variant: tuple[str, ...] | None = None, path: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """Sets every field of `message` (one element in each repeated field) to a value unlike its default;
    the field at `variant` to a second such value. Returns every leaf field's path."""
    leaves = []
    for field in message.DESCRIPTOR.fields:
        here = (*path, field.name)
        repeated = field.is_repeated
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            getattr(message, field.name)["key"] = leaf_value(
                field.message_type.fields_by_name["value"], here == variant
            )
            leaves.append(here)
        elif field.message_type is not None:
            child = getattr(message, field.name).add() if repeated else getattr(message, field.name)
            leaves += fill(child, variant, here)
        else:
            value = leaf_value(field, here == variant)
            if repeated:
                getattr(message, field.name).append(value)
            else:
                setattr(message, field.name, value)
            leaves.append(here)
    return leaves


def leaf_value(field: Any, second: bool) -> Any:
    """A scalar field's value unlike its default; `second`: another one."""
    if field.enum_type is not None:
        named = [v.number for v in field.enum_type.values if v.number != 0]
        return named[-1] if second and len(named) > 1 else (0 if second else named[0])
    if field.type == FieldDescriptor.TYPE_BOOL:
        return not second
    if field.type == FieldDescriptor.TYPE_STRING:
        return "second" if second else "first"
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return 0.25 if second else 0.5
    if field.type == FieldDescriptor.TYPE_BYTES:
        return b"2" if second else b"1"
    return 4 if second else 3


def each_leaf(kind: type[Message]) -> list[tuple[str, ...]]:
    return fill(kind())


@pytest.mark.parametrize(
    "path", [p for p in each_leaf(orchestrator_pb2.GenerateResponse) if p not in DERIVED], ids=".".join
)
def test_every_field_of_the_response_reaches_the_result(path: tuple[str, ...]) -> None:
    first, second = orchestrator_pb2.GenerateResponse(), orchestrator_pb2.GenerateResponse()
    fill(first)
    fill(second, variant=path)
    assert from_wire.result(first) != from_wire.result(second), f"{'.'.join(path)} is not read"


def test_derived_fields_are_fields_and_derived() -> None:
    assert set(DERIVED) <= set(each_leaf(orchestrator_pb2.GenerateResponse))
    degraded = orchestrator_pb2.GenerateResponse(degradations=[orchestrator_pb2.Degradation(stage="judge")])
    assert (
        from_wire.result(degraded).degraded
        and not from_wire.result(orchestrator_pb2.GenerateResponse()).degraded
    )


@pytest.mark.parametrize("path", each_leaf(orchestrator_pb2.Progress), ids=".".join)
def test_every_field_of_progress_reaches_its_event(path: tuple[str, ...]) -> None:
    first, second = orchestrator_pb2.Progress(), orchestrator_pb2.Progress()
    fill(first)
    fill(second, variant=path)
    read = [from_wire.event(orchestrator_pb2.GenerateStreamResponse(progress=p)) for p in (first, second)]
    assert read[0] != read[1], f"progress.{'.'.join(path)} is not read"
