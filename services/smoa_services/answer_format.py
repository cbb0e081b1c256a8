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

import jsonschema
from jsonschema.exceptions import SchemaError

# A schema is a few kilobytes; one of megabytes is no schema a model could follow.
MAX_SCHEMA_CHARS = 64 * 1024

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
            error = jsonschema.exceptions.best_match(_validator(self.schema).iter_errors(value))
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
    try:
        jsonschema.validators.validator_for(parsed).check_schema(parsed)
    except SchemaError as e:
        return f"not a valid JSON Schema: {e.message[:200]}"
    return None


@functools.lru_cache(maxsize=64)
def _parsed(schema: str) -> Any:
    return json.loads(schema)


@functools.lru_cache(maxsize=64)
def _validator(schema: str) -> Any:
    parsed = _parsed(schema)
    return jsonschema.validators.validator_for(parsed)(parsed)
