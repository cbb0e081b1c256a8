"""Reading the judge's reply: a score from 0 to 10 for every label it was shown, no other labels, and
(when asked) a stop/continue decision. Errors name every problem at once, in words meant for the model's
retry."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smoa_services.ensemble.decision import DECISION_PROPERTIES, Decision, ReasonedDecision, read_decision
from smoa_services.llm.json_reply import ReplyError, json_object

MIN_SCORE, MAX_SCORE = 0.0, 10.0


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
        properties.update(DECISION_PROPERTIES)
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
    decided = _decision(reply) if decide else None
    return Verdict(scores, decided.decision, decided.reason) if decided else Verdict(scores)


def _decision(reply: dict[str, object]) -> ReasonedDecision | None:
    # A missing or bad decision is no vote, not a bad reply: the rule settles it, and the scores are kept.
    try:
        return read_decision(reply)
    except ReplyError:
        return None


def _named(raw: dict[object, object], label: str) -> bool:
    # A label that was given but with a bad score is already reported as such, not also as missing.
    return any(_label(str(key)) == label for key in raw)
