"""Reading the judge's reply: a score from 0 to 10 for every label it was shown, no other labels, and
(when asked) a stop/continue decision. Errors name every problem at once, in words meant for the model's
retry."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from smoa_services.llm.json_reply import ReplyError, json_object

MIN_SCORE, MAX_SCORE = 0.0, 10.0

Decision = Literal["stop", "continue"]


@dataclass(frozen=True)
class Verdict:
    """Scores by label; the decision and its reason when one was asked for and validly given."""

    scores: dict[str, float]
    decision: Decision | None = None
    reason: str = ""


def _label(key: str) -> str:
    # "[2]" and " 2 " are the same label: tolerating that costs nothing and saves a retry.
    return key.strip().strip("[]").strip()


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer like 10**400
        return None
    return number if math.isfinite(number) and MIN_SCORE <= number <= MAX_SCORE else None


def parse_decision(reply: dict[str, object]) -> tuple[Decision | None, str]:
    """The decision and reason in a reply, or (None, "") when there is no valid decision. Lenient on
    purpose: a missing decision is settled by the layer rule, and must not throw away good scores."""
    raw = reply.get("decision")
    decision = raw.strip().lower() if isinstance(raw, str) else ""
    reason = reply.get("reason")
    reason_text = reason.strip() if isinstance(reason, str) else ""
    if decision == "stop":
        return "stop", reason_text
    if decision == "continue":
        return "continue", reason_text
    return None, ""


def verdict_schema(shown: Sequence[str], decide: bool) -> dict[str, Any]:
    """The reply's JSON schema, for backends that constrain decoding to it. Scores are an enum of the
    whole numbers 0..10 because grammar-based decoders (llama.cpp) honour enums but not numeric ranges."""
    score = {"enum": list(range(int(MIN_SCORE), int(MAX_SCORE) + 1))}
    properties: dict[str, Any] = {
        "scores": {
            "type": "object",
            "properties": {label: score for label in shown},
            "required": list(shown),
            "additionalProperties": False,
        }
    }
    if decide:
        properties["decision"] = {"enum": ["stop", "continue"]}
        properties["reason"] = {"type": "string"}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def parse_verdict(text: str, shown: Sequence[str], decide: bool) -> Verdict:
    """The verdict in ``text`` for the labels ``shown``; ReplyError says what is wrong otherwise."""
    reply = json_object(text)
    raw = reply.get("scores")
    if not isinstance(raw, dict):
        raise ReplyError('the object must have a "scores" object mapping each label to a number')
    expected = set(shown)
    scores: dict[str, float] = {}
    # Each problem twice: in words that quote the reply (for the model's retry) and in words that do
    # not (for traces and logs, where an LLM's words are content).
    problems: list[tuple[str, str]] = []
    for key, value in raw.items():
        label = _label(str(key))
        if label not in expected:
            problems.append((f'unknown label "{key}"', "a label that was not shown"))
        elif label in scores:
            problems.append((f'label "{label}" is scored twice', f"label {label} is scored twice"))
        else:
            score = _score(value)
            if score is None:
                got = json.dumps(value)[:60]
                problems.append(
                    (
                        f'the score of "{label}" must be a number from 0 to 10, got {got}',
                        f"the score of {label} is not a number from 0 to 10",
                    )
                )
            else:
                scores[label] = score
    missing = [label for label in shown if label not in scores and not _named(raw, label)]
    if missing:
        listed = ", ".join(f'"{label}"' for label in missing)
        problems.append((f"no score for {listed}", f"no score for {listed}"))
    if problems:
        labels = f" (score exactly these labels: {', '.join(shown)})"
        raise ReplyError(
            "; ".join(plain for _, plain in problems),
            detail="; ".join(quoted for quoted, _ in problems) + labels,
        )
    decision, reason = parse_decision(reply) if decide else (None, "")
    return Verdict(scores, decision, reason)


def _named(raw: dict[object, object], label: str) -> bool:
    # A label that was given but with a bad score is already reported as such, not also as missing.
    return any(_label(str(key)) == label for key in raw)
