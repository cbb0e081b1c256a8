"""Hypothesis strategies for what an LLM might answer where JSON was asked for: any JSON (huge integers,
nan and infinities, lone surrogates, duplicate keys), JSON almost in the asked-for shape, JSON nested
thousands deep, replies at the size cap, text wrapped around JSON, and bytes decoded however."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from smoa_services.llm.json_reply import MAX_REPLY_CHARS


@dataclass(frozen=True)
class Raw:
    """JSON text written as is: numbers Python's json would not write (5,000 digits, 1e400)."""

    text: str


@dataclass(frozen=True)
class Obj:
    """A JSON object as its pairs, in order, so a key may appear twice."""

    pairs: tuple[tuple[str, object], ...]


RAW_NUMBERS = (
    "1e400", "-1e400", "1e-400", "-0", "0.0000001", "NaN", "Infinity", "-Infinity", "10.000000000000001",
    "9.999999999999999e0", "1E1", "-0.0",
)  # fmt: skip
# Integers too large for a float (400 digits), and around Python's 4,300-digit limit on reading them.
LONG_INTEGERS = st.builds(
    lambda sign, digit, n: sign + digit * n,
    st.sampled_from(["", "-"]),
    st.sampled_from(["1", "9"]),
    st.sampled_from([400, 4_300, 4_301, 5_000]),
)
SURROGATES = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
ANY_CHARS = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)


def json_strings(words: Sequence[str] = ()) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=20),
        ANY_CHARS,
        st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), SURROGATES, st.text(max_size=5)),
        st.sampled_from(["", " ", "\x00", "\u2028", "\\", '"', "{", "}", "```", *words]),
    )


@st.composite  # composite: a short name in Hypothesis's statistics
def json_leaves(draw: st.DrawFn, words: Sequence[str] = ()) -> object:
    return draw(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.integers(-(2**70), 2**70),
            st.sampled_from(RAW_NUMBERS).map(Raw),
            LONG_INTEGERS.map(Raw),
            st.floats(),
            json_strings(words),
        )
    )


def json_values(words: Sequence[str] = (), max_leaves: int = 12) -> st.SearchStrategy[object]:
    return st.recursive(
        json_leaves(words),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.lists(st.tuples(json_strings(words), inner), max_size=4).map(lambda p: Obj(tuple(p))),
        ),
        max_leaves=max_leaves,
    )


def dump(value: object, ascii_only: bool = True, space: str = " ") -> str:
    """JSON text of ``value`` (Obj keeps duplicate keys; Raw is written as is; with ``ascii_only`` a lone
    surrogate is a \\ud83d escape, otherwise the raw code point)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Obj):
        items = [f"{dump(k, ascii_only)}:{space}{dump(v, ascii_only, space)}" for k, v in value.pairs]
        return "{" + f",{space}".join(items) + "}"
    if isinstance(value, list):
        return "[" + f",{space}".join(dump(v, ascii_only, space) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # NaN, Infinity: Python's json reads them back
    return json.dumps(value, ensure_ascii=ascii_only)


@st.composite
def json_texts(draw: st.DrawFn, value: st.SearchStrategy[object]) -> str:
    return dump(draw(value), ascii_only=draw(st.booleans()), space=draw(st.sampled_from(["", " ", "\n  "])))


def objects(
    required: dict[str, st.SearchStrategy[object]], words: Sequence[str] = ()
) -> st.SearchStrategy[Obj]:
    """An object with each of ``required`` present or not, perhaps twice, among extra keys, in any order."""

    @st.composite
    def build(draw: st.DrawFn) -> Obj:
        pairs: list[tuple[str, object]] = []
        for key, values in required.items():
            for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2]))):
                pairs.append((draw(st.sampled_from([key, key, key.upper(), f" {key}"])), draw(values)))
        pairs += draw(st.lists(st.tuples(json_strings(words), json_values(words, 4)), max_size=2))
        return Obj(tuple(draw(st.permutations(pairs))))

    return build()


def deep(kind: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Raw]:
    """JSON nested from a few to tens of thousands deep, around the interpreter's recursion limit."""
    depth = st.one_of(st.integers(0, 1_200), st.sampled_from([980, 990, 995, 1_000, 1_010, 3_000, 20_000]))
    opener = kind or st.sampled_from(["[", '{"a": ', '{"scores": ', '{"decision": ', '{"roles": '])
    closer = {"[": "]"}

    @st.composite
    def build(draw: st.DrawFn) -> Raw:
        n, opening = draw(depth), draw(opener)
        closing = closer.get(opening, "}")
        return Raw(opening * n + draw(st.sampled_from(["1", "[]", "{}", '"x"', "null"])) + closing * n)

    return build()


@st.composite
def at_the_cap(draw: st.DrawFn) -> str:
    """A reply of exactly MAX_REPLY_CHARS characters or one more, JSON or not."""
    size = MAX_REPLY_CHARS + draw(st.sampled_from([-1, 0, 1]))
    head = draw(st.sampled_from(['{"reason": "', '{"roles": ["', "```", "```json\n", "{", ""]))
    fill = draw(st.sampled_from(["x", " ", "\n", "é", "{", "```", "[", "\\u00e9"]))
    tail = draw(st.sampled_from(['", "decision": "stop"}', '"]}', "```", "}", ""]))
    body = (fill * (size // len(fill) + 1))[: max(0, size - len(head) - len(tail))]
    return head + body + tail


PROSE = st.sampled_from(
    ["", "Sure! ", "Here is my verdict:\n", "I think {this} is it. ", "Note: } and { are braces.\n"]
)


@st.composite
def wrapped(draw: st.DrawFn, body: st.SearchStrategy[str]) -> str:
    """``body`` as a model might put it: bare, in a fence (closed or not), among prose, twice, cut short."""
    text = draw(body)
    form = draw(st.sampled_from(["bare", "fence", "json fence", "open fence", "prose", "twice", "cut"]))
    before, after = draw(PROSE), draw(PROSE)
    if form == "fence":
        return f"{before}```\n{text}\n```{after}"
    if form == "json fence":
        return f"{before}```JSON {text}```{after}"
    if form == "open fence":
        return f"```json\n{text}"
    if form == "prose":
        return before + text + after
    if form == "twice":
        return f"{text}\n{before}{text}"
    if form == "cut":
        return text[: draw(st.integers(0, len(text)))]
    return text


DECODINGS = st.sampled_from(
    [("utf-8", "replace"), ("utf-8", "surrogateescape"), ("utf-8", "surrogatepass"), ("utf-8", "ignore"),
     ("utf-8", "backslashreplace"), ("latin-1", "strict"), ("utf-16-le", "surrogatepass"),
     ("utf-16-le", "replace")]
)  # fmt: skip


@st.composite
def decoded_bytes(draw: st.DrawFn) -> str:
    """Bytes (random, or JSON with some bytes changed) decoded the way a careless client might."""
    data = bytearray(
        draw(
            st.one_of(
                st.binary(max_size=200),
                json_texts(json_values()).map(lambda t: t.encode("utf-8", "surrogatepass")),
            )
        )
    )
    for _ in range(draw(st.integers(0, 3))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    codec, errors = draw(DECODINGS)
    try:
        return bytes(data).decode(codec, errors)
    except UnicodeDecodeError:  # surrogatepass lets surrogates through, not other bad bytes
        return bytes(data).decode(codec, "replace")


def replies(shaped: st.SearchStrategy[object], words: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Everything above, with ``shaped`` the values almost in the asked-for shape."""
    return st.one_of(
        json_texts(shaped),
        wrapped(json_texts(shaped)),
        wrapped(json_texts(json_values(words))),
        wrapped(deep().map(lambda r: r.text)),
        at_the_cap(),
        st.text(),
        ANY_CHARS,
        decoded_bytes(),
    )
