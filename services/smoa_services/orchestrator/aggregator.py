"""The aggregator's prompt: one streamed LLM call (pipeline.py) synthesizes the final kept answers into the
response.

It runs even when a single answer is left. A lone answer still benefits from a rewrite that sees the
whole conversation (the proposer's role persona and reference framing are dropped), every mode ends with
the same streamed stage so clients see tokens arrive the same way, and the cost is one call."""

from __future__ import annotations

from collections.abc import Sequence

from smoa_services.orchestrator.plan import Message
from smoa_services.orchestrator.prompt_room import clipped, room_for_answers
from smoa_services.orchestrator.records import Candidate

AGGREGATOR_PROMPT = (
    "You are the aggregator of a team of assistants. Below are candidate responses to the user's latest "
    "message, written independently. Synthesize them into one response of the highest quality: keep "
    "what is correct and well supported, resolve disagreements by reasoning about which claim holds, "
    "drop errors, and do not merely list or copy the candidates. Answer the user directly; do not mention "
    "the candidates or this process."
)


def aggregator_messages(
    conversation: Sequence[Message], answers: Sequence[Candidate], max_prompt_chars: int
) -> list[Message]:
    """The synthesis instruction and the numbered answers as the first system message, then the
    conversation unchanged (its own system message, if any, included), as Wang et al. do. Answers too
    long to fit together are clipped (prompt_room.py)."""
    room = room_for_answers(sum(len(m["content"]) for m in conversation), max_prompt_chars)
    texts = clipped([a.text for a in answers], room)
    numbered = "\n\n".join(f"[{i + 1}]\n{text}" for i, text in enumerate(texts))
    system = f"{AGGREGATOR_PROMPT}\n\nCandidate responses:\n\n{numbered}"
    return [{"role": "system", "content": system}, *conversation]
