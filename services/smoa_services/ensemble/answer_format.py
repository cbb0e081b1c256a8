"""What the answer must be: free text, any JSON object, or JSON valid against a caller's JSON Schema
(OpenAI's `response_format`). The calls that write the answer (the proposers, the aggregator, SINGLE's
call) are asked for it, the answers are compared as canonical JSON (key order and spacing do not make two
answers differ), and the final one is checked with a JSON Schema library before it leaves."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import jsonschema
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

# A schema is a few kilobytes; one of megabytes is no schema a model could follow.
MAX_SCHEMA_CHARS = 64 * 1024
# Objects and arrays within each other. Generated schemas (pydantic's, zod's) are a dozen deep; the
# validator recurses a few frames per level and would hit Python's recursion limit at about 200.
MAX_SCHEMA_DEPTH = 64

JSON_ONLY = "Answer with one JSON value and nothing else: no Markdown fence, no text before or after it."


class AnswerInvalid(ValueError):
    """The answer is not in the requested format; the message names where and why (never quotes it)."""


@dataclass(frozen=True)
class AnswerFormat:
    """`json`: the answer is JSON (an object, unless a schema says otherwise); `schema`: it validates
    against this JSON Schema (as JSON text, so the format is hashable and compiled once)."""

    json: bool = False
    schema: str = ""

    @property
    def schema_object(self) -> Mapping[str, Any] | None:
        return _parsed(self.schema) if self.schema else None

    def instruction(self) -> str:
        """What the answer writers are told, after their own instructions."""
        if not self.schema:
            return f"{JSON_ONLY} The value must be a JSON object."
        return f"{JSON_ONLY} It must be valid against this JSON Schema:\n{self.schema}"

    def check(self, text: str) -> str:
        """The answer as canonical JSON (sorted keys, no spaces), or AnswerInvalid."""
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise AnswerInvalid(f"not JSON ({str(e)[:120]})") from None
        if self.schema:
            try:
                error = jsonschema.exceptions.best_match(_validator(self.schema).iter_errors(value))
            except RecursionError:
                # A recursive schema ($ref) over an answer nested deeper than the validator can follow.
                raise AnswerInvalid("nested too deep to check against the schema") from None
            except Unresolvable as e:
                # schema_problem refused every $ref it could not follow; one under a nested $id is left.
                raise AnswerInvalid(f"the schema's $ref {str(e)[:120]} does not resolve") from None
            while error is not None and error.context:
                # Not valid under any of anyOf's schemas: the one it came closest to says what to fix.
                error = max(error.context, key=lambda e: len(e.absolute_path))
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path) or "the top level"
                raise AnswerInvalid(f"at {where}: {error.message[:200]}")
        elif not isinstance(value, dict):
            raise AnswerInvalid(f"a JSON {type(value).__name__}, not an object")
        return canonical(value)

    def comparable(self, text: str) -> str:
        """The text two answers are compared by: canonical JSON where it parses, else the text."""
        if not self.json:
            return text
        try:
            return canonical(json.loads(text))
        except (ValueError, RecursionError):
            return text


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def schema_problem(schema: str) -> str | None:
    """Why `schema` is not a JSON Schema a request may carry, or None."""
    if len(schema) > MAX_SCHEMA_CHARS:
        return f"{len(schema)} characters, over the limit of {MAX_SCHEMA_CHARS}"
    try:
        parsed = _parsed(schema)
    except (ValueError, RecursionError) as e:
        return f"not JSON ({str(e)[:120]})"
    if not isinstance(parsed, dict):
        return "must be a JSON object"
    if _depth(parsed) > MAX_SCHEMA_DEPTH:
        return f"nested deeper than {MAX_SCHEMA_DEPTH} levels"
    if not isinstance(parsed.get("$schema", ""), str):
        return "$schema must be the URI of a meta-schema"
    try:
        _validator_class(parsed).check_schema(parsed)
    except SchemaError as e:
        return f"not a valid JSON Schema: {e.message[:200]}"
    return _unresolved_reference(parsed)


def _depth(value: Any) -> int:
    deepest, level = 0, [value]
    while level:
        deepest += 1
        level = [
            child
            for v in level
            for child in (v.values() if isinstance(v, dict) else v if isinstance(v, list) else ())
            if isinstance(child, dict | list)
        ]
    return deepest


def _unresolved_reference(schema: dict[str, Any]) -> str | None:
    """A `$ref` that does not point inside the schema: the validator would fail on it mid-answer (or try
    the network), so it is refused up front. Local references ("#", "#/$defs/Name", any JSON pointer into
    the schema) are what OpenAI's structured outputs take too."""
    pending: list[Any] = [schema]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending += value
        elif isinstance(value, dict):
            ref = value.get("$ref")
            if ref is not None and (not isinstance(ref, str) or _pointed(schema, ref) is None):
                return f"$ref {str(ref)[:80]!r} does not point inside the schema (#/...)"
            pending += value.values()
    return None


def _pointed(schema: Any, ref: str) -> Any:
    if not ref.startswith("#") or (ref != "#" and not ref.startswith("#/")):
        return None
    target = schema
    for token in ref[2:].split("/") if ref != "#" else ():
        token = unquote(token).replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and token in target:
            target = target[token]
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
        else:
            return None
    return target


@functools.lru_cache(maxsize=64)
def _parsed(schema: str) -> Any:
    return json.loads(schema)


@functools.lru_cache(maxsize=64)
def _validator(schema: str) -> Any:
    parsed = _parsed(schema)
    return _validator_class(parsed)(parsed)


def _validator_class(schema: dict[str, Any]) -> Any:
    # The dialect its $schema names; the latest for none, or for one jsonschema does not know.
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
