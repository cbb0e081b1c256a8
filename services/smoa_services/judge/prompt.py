"""The judge's prompt. Candidates are anonymized (labels, never ids or the agent that wrote them) and
shown in an order shuffled per pass, so neither a model's name nor position bias (LLM judges favour the
first or last response) can steer the scores; several passes with different orders average it out."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from smoa_services.ensemble.decision import DECISION_FIELDS

# Short on purpose: every judge call pays for it, and the candidates are what it must read. Said once
# here, not again in the user message.
SYSTEM = (
    "You are an impartial judge. Score each candidate response to the user's latest message from 0 "
    "(wrong or useless) to 10 (correct, complete, clear). Correctness counts most; length, confidence and "
    "order count for nothing. Reply with one JSON object only."
)

DECIDE = 'Decide "stop" if another round of revision would not improve the best response.'


# Mixing the seed with a large prime keeps (seed, pass) streams apart: seed 1 pass 0 and seed 0 pass 1
# must not shuffle alike.
_SEED_STRIDE = 1_000_003


def shuffled_order(count: int, seed: int, pass_index: int) -> list[int]:
    """The candidate indices in the order one pass shows them: the same for the same (seed, pass)."""
    order = list(range(count))
    random.Random(seed * _SEED_STRIDE + pass_index).shuffle(order)
    return order


def labels(count: int) -> list[str]:
    """Labels of the shown candidates, first shown first: "1", "2", ... (plain digits, because they are
    also the JSON keys the judge has to echo back)."""
    return [str(i) for i in range(1, count + 1)]


def transcript(conversation: Sequence[Mapping[str, str]]) -> str:
    return "\n".join(f"<{m['role']}>\n{m['content'].strip()}\n</{m['role']}>" for m in conversation)


def reply_format(shown: Sequence[str], decide: bool) -> str:
    scores = ", ".join(f'"{label}": <score>' for label in shown)
    if decide:
        return f'{{"scores": {{{scores}}}, {DECISION_FIELDS}}}'
    return f'{{"scores": {{{scores}}}}}'


def judge_messages(
    conversation: Sequence[Mapping[str, str]], shown: Sequence[str], decide: bool
) -> list[dict[str, str]]:
    """Messages for one pass; ``shown`` holds the candidate texts in the order they get labels 1, 2, ..."""
    names = labels(len(shown))
    responses = "\n".join(
        f'<response label="{label}">\n{text.strip() or "(empty response)"}\n</response>'
        for label, text in zip(names, shown, strict=True)
    )
    instructions = f"JSON: {reply_format(names, decide)}"
    if decide:
        instructions += f"\n{DECIDE}"
    user = f"{transcript(conversation)}\n\n{responses}\n\n{instructions}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
