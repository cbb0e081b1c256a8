"""proto_json.as_dict writes what json_format.MessageToDict writes, key order included, for every message
of smoa's contract filled with whatever hypothesis draws: unnamed enum numbers, 64-bit extremes,
non-finite and float32 values, bytes, maps, Durations and nesting."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message_factory import GetMessageClass
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import smoa.v1
from smoa.v1 import orchestrator_pb2, rpc_status_pb2
from smoa_services.wire.proto_json import as_dict

# Every message of the contract, so that a new .proto is covered without a word here.
MODULES = [
    importlib.import_module(f"smoa.v1.{m.name}")
    for m in pkgutil.iter_modules(smoa.v1.__path__)
    if m.name.endswith("_pb2")
]
MESSAGES = sorted(
    (m for module in MODULES for m in module.DESCRIPTOR.message_types_by_name.values()),
    key=lambda m: m.full_name,
)
INTEGERS = {
    FieldDescriptor.CPPTYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.CPPTYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.CPPTYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.CPPTYPE_UINT64: st.integers(0, 2**64 - 1),
}


def scalar(field: Any) -> st.SearchStrategy[Any]:
    kind = field.cpp_type
    if kind in INTEGERS:
        return INTEGERS[kind]
    if kind == FieldDescriptor.CPPTYPE_ENUM:
        # Named values, and numbers no value names (proto3 enums keep them).
        return st.sampled_from([v.number for v in field.enum_type.values]) | st.integers(-5, 1000)
    if kind == FieldDescriptor.CPPTYPE_DOUBLE:
        return st.floats()
    if kind == FieldDescriptor.CPPTYPE_FLOAT:
        return st.floats(width=32)
    if kind == FieldDescriptor.CPPTYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=8)
    return st.text(max_size=8)


def fill(data: st.DataObject, message: Any, depth: int) -> None:
    for field in message.DESCRIPTOR.fields:
        if field.containing_oneof is not None and message.WhichOneof(field.containing_oneof.name):
            continue
        if not data.draw(st.booleans()):
            continue
        target = field.message_type
        if target is not None and target.GetOptions().map_entry:
            key, value = target.fields_by_name["key"], target.fields_by_name["value"]
            entries = getattr(message, field.name)
            for k in data.draw(st.lists(scalar(key), max_size=3)):
                if value.message_type is None:
                    entries[k] = data.draw(scalar(value))
                else:
                    fill_message(data, entries[k], depth + 1)
        elif field.is_repeated:
            values = getattr(message, field.name)
            for _ in range(data.draw(st.integers(0, 3 if depth < 3 else 0))):
                if target is None:
                    values.append(data.draw(scalar(field)))
                else:
                    fill_message(data, values.add(), depth + 1)
        elif target is not None:
            if depth < 3:
                fill_message(data, getattr(message, field.name), depth + 1)
        else:
            setattr(message, field.name, data.draw(scalar(field)))


def fill_message(data: st.DataObject, message: Any, depth: int) -> None:
    if message.DESCRIPTOR.full_name == "google.protobuf.Duration":
        message.seconds = data.draw(st.integers(-(10**9), 10**9))
        message.nanos = data.draw(st.integers(0, 999_999_999)) * (-1 if message.seconds < 0 else 1)
        return
    if message.DESCRIPTOR.full_name == "google.protobuf.Any":  # json_format must find the type it names
        detail = rpc_status_pb2.RpcErrorInfo()
        fill(data, detail, depth + 1)
        message.Pack(detail)
        return
    fill(data, message, depth)
    message.SetInParent()


@pytest.mark.parametrize("descriptor", MESSAGES, ids=lambda d: d.full_name)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_message_is_written_as_json_format_writes_it(
    descriptor: Descriptor, data: st.DataObject
) -> None:
    message = GetMessageClass(descriptor)()
    fill_message(data, message, 0)
    expected = json_format.MessageToDict(message, preserving_proto_field_name=True)
    written = as_dict(message)
    assert written == expected
    assert list(written) == list(expected)


def test_a_full_generate_response_and_its_well_known_types() -> None:
    summary = orchestrator_pb2.GenerateResponse(text="42", mode=orchestrator_pb2.MODE_SMOA)
    layer = summary.layers.add(layer=1, kept_ids=["a"], agreement=float("nan"))
    layer.candidates.add(id="a", text="x")
    layer.timings.add(stage="proposer").duration.FromMilliseconds(1500)
    summary.cost.total.input_tokens = 2**62
    written = as_dict(summary)
    assert written["layers"][0]["timings"][0]["duration"] == "1.500s"
    assert written["layers"][0]["agreement"] == "NaN"
    assert written["cost"]["total"]["input_tokens"] == str(2**62)
    assert written == json_format.MessageToDict(summary, preserving_proto_field_name=True)
