"""Hypothesis strategies for any protobuf message, read from its descriptor: every scalar type over its
whole range (enums with numbers no one declared, doubles with nan and infinities), strings from empty to
longer than any limit, repeated fields from empty to past their caps, nested messages down to a bounded
depth, at most one member of each oneof. And the bytes of such messages, corrupted, for the decoder."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

M = TypeVar("M", bound=Message)
# A field's descriptor: the pure-Python class or upb's own, which the stubs type apart.
Field = Any

_F = FieldDescriptor
_RANGES = {
    _F.TYPE_INT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    _F.TYPE_INT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    _F.TYPE_UINT32: (0, 2**32 - 1),
    _F.TYPE_FIXED32: (0, 2**32 - 1),
    _F.TYPE_UINT64: (0, 2**64 - 1),
    _F.TYPE_FIXED64: (0, 2**64 - 1),
}

# Strings that have tripped parsers and limits elsewhere: blank ones, invisible ones, combining and
# astral characters, a byte-order mark, bidi overrides, and things that look like other syntax.
ODD_STRINGS = (
    "", " ", "\t\n", "\x00", "\u200b", "\ufeff", "\u202e", "\u3000", "é", "e\u0301", "😀", "\U0010ffff",
    "\uffff", "null", "[1]", "%s%n", "' OR 1=1 --", "../", "\r\n\r\n",
)  # fmt: skip
# Units of long strings: one to four bytes of UTF-8 each, and whitespace (which some checks strip).
LONG_UNITS = ("x", " ", "é", "😀", "\u3000")


@dataclass(frozen=True)
class Shape:
    """What the generated messages may hold. ``lengths`` and ``counts`` are sizes worth hitting exactly
    (a limit and one past it); ``words`` are strings worth trying as they are (configured names)."""

    max_depth: int = 3
    max_items: int = 6
    lengths: tuple[int, ...] = (1, 4_000, 4_001, 100_000, 100_001)
    counts: tuple[int, ...] = (32, 33, 256, 257)
    words: tuple[str, ...] = ()


def integers(low: int, high: int) -> st.SearchStrategy[int]:
    """Anywhere in [low, high], but mostly small numbers and the edges, where the checks are."""
    edges = sorted({low, low + 1, high - 1, high, max(low, -1), max(low, 0), 1})
    return st.one_of(st.integers(max(low, -2), 12), st.sampled_from(edges), st.integers(low, high))


def strings(shape: Shape) -> st.SearchStrategy[str]:
    long = st.builds(lambda unit, n: unit * n, st.sampled_from(LONG_UNITS), st.sampled_from(shape.lengths))
    short = st.text(max_size=30)
    return st.one_of(short, short, st.sampled_from(ODD_STRINGS + shape.words), long)


def doubles(width: int = 64) -> st.SearchStrategy[float]:
    edges = [0.0, -0.0, 1.0, 2.0, math.nextafter(2.0, 3.0), -math.ulp(0.0), math.inf, -math.inf, math.nan]
    return st.one_of(st.sampled_from(edges), st.floats(width=width))  # type: ignore[arg-type]


def scalars(field: Field, shape: Shape) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in _RANGES:
        return integers(*_RANGES[kind])
    if kind == _F.TYPE_BOOL:
        return st.booleans()
    if kind == _F.TYPE_DOUBLE:
        return doubles()
    if kind == _F.TYPE_FLOAT:
        return doubles(32)
    if kind == _F.TYPE_STRING:
        return strings(shape)
    if kind == _F.TYPE_BYTES:
        return st.binary(max_size=40)
    if kind == _F.TYPE_ENUM:
        known = st.sampled_from([v.number for v in field.enum_type.values])
        # Open (proto3) enums carry any int32 on the wire.
        return known if field.enum_type.is_closed else st.one_of(known, integers(-(2**31), 2**31 - 1))
    raise NotImplementedError(f"field type {kind} of {field.full_name}")


def _is_map(field: Field) -> bool:
    return field.type == _F.TYPE_MESSAGE and bool(field.message_type.GetOptions().map_entry)


def _fill(draw: st.DrawFn, message: Message, shape: Shape, depth: int) -> None:
    descriptor = message.DESCRIPTOR
    picked: set[str] = set()
    for oneof in descriptor.oneofs:  # proto3 `optional` fields are one-member oneofs
        member = draw(st.sampled_from([None, *oneof.fields]))
        if member is not None:
            picked.add(member.name)
    for field in descriptor.fields:
        nested = field.type == _F.TYPE_MESSAGE
        if field.containing_oneof is not None and field.name not in picked:
            continue
        if nested and depth >= shape.max_depth:
            continue
        if _is_map(field):
            _fill_map(draw, message, field, shape, depth)
        elif field.is_repeated:
            _fill_repeated(draw, message, field, shape, depth)
        elif nested:
            if field.name in picked or draw(st.booleans()):
                child = getattr(message, field.name)
                _fill(draw, child, shape, depth + 1)
                child.SetInParent()
        else:
            setattr(message, field.name, draw(scalars(field, shape)))


def _fill_repeated(draw: st.DrawFn, message: Message, field: Field, shape: Shape, depth: int) -> None:
    target = getattr(message, field.name)
    count = draw(st.one_of(st.integers(0, shape.max_items), st.sampled_from(shape.counts)))
    # Past max_items, one drawn item (with short strings) repeated: long lists are for the count limits,
    # and cheap that way.
    drawn, inner = (count, shape) if count <= shape.max_items else (1, replace(shape, lengths=(1,)))
    items: list[Any] = []
    if field.type == _F.TYPE_MESSAGE:
        for _ in range(drawn):
            item = message_factory.GetMessageClass(field.message_type)()
            _fill(draw, item, inner, depth + 1)
            items.append(item)
    else:
        items = [draw(scalars(field, inner)) for _ in range(drawn)]
    target.extend(items if count <= shape.max_items else items * count)


def _fill_map(draw: st.DrawFn, message: Message, field: Field, shape: Shape, depth: int) -> None:
    key_field, value_field = (
        field.message_type.fields_by_name["key"],
        field.message_type.fields_by_name["value"],
    )
    target = getattr(message, field.name)
    for key in draw(st.lists(scalars(key_field, shape), max_size=shape.max_items, unique=True)):
        if value_field.type == _F.TYPE_MESSAGE:
            _fill(draw, target[key], shape, depth + 1)
        else:
            target[key] = draw(scalars(value_field, shape))


def messages(cls: type[M], shape: Shape | None = None) -> st.SearchStrategy[M]:
    """Any message of type ``cls`` (every field drawn independently, so most are invalid requests)."""

    @st.composite
    def build(draw: st.DrawFn) -> M:
        message = cls()
        _fill(draw, message, shape or Shape(), 0)
        return message

    return build()


@st.composite
def corrupted(draw: st.DrawFn, valid: st.SearchStrategy[bytes]) -> bytes:
    """Bytes that are almost an encoded message: bytes flipped, cut, inserted or repeated."""
    data = bytearray(draw(valid))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["flip", "cut", "insert", "repeat", "truncate"]))
        if edit == "flip" and where < len(data):
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif edit == "cut":
            del data[where : where + draw(st.integers(1, 8))]
        elif edit == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "repeat":
            data += data[where:]
        else:
            del data[where:]
    return bytes(data)


def wire_bytes(cls: type[Message], shape: Shape | None = None) -> st.SearchStrategy[bytes]:
    """Bytes a caller could send as a ``cls``: random, a valid encoding, or a corrupted one."""
    encoded = messages(cls, shape).map(lambda m: m.SerializeToString())
    return st.one_of(st.binary(max_size=300), encoded, corrupted(encoded))
