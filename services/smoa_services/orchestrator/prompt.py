"""Every prompt the orchestrator writes itself: the aggregator's, which synthesizes the final kept answers
into the response in one streamed call, and the role writer's, with the generic roles used when no role
is written.

The aggregator runs even when a single answer is left (unless the synthesis skip is on): a lone answer
still benefits from a rewrite that sees the whole conversation (the proposer's role persona and reference
framing are dropped), every mode ends with the same streamed stage so clients see tokens arrive the same
way, and the cost is one call."""

from __future__ import annotations

from collections.abc import Sequence

from smoa_services.llm.completion import Message
from smoa_services.orchestrator.prompt_room import clipped, room_for_answers
from smoa_services.orchestrator.records import Candidate

# Deliberately different angles on any task, so answers differ in substance and not only in wording.
GENERIC_ROLES = (
    "You are a careful domain expert. Answer precisely and state the key facts the answer rests on.",
    "You are a skeptical reviewer. Look for pitfalls, edge cases and common mistakes before answering.",
    "You are a step-by-step reasoner. Work through the problem explicitly, then state the answer.",
    "You are a pragmatic practitioner. Give the answer that works in practice, with concrete examples.",
    "You are a clear teacher. Explain the answer simply, defining terms a newcomer would not know.",
    "You are a creative problem solver. Consider unconventional approaches, then pick the soundest one.",
    "You are a concise summarizer. Give the shortest complete and correct answer.",
    "You are a thorough analyst. Compare the alternatives and justify the one you choose.",
)

ROLE_WRITER_PROMPT = (
    "You design a team of expert assistants that will each answer the same task independently; their "
    "answers are then compared and combined. Write one role description per assistant: a short system "
    "prompt (one or two sentences, second person) giving that assistant a distinct expertise or "
    "perspective that is useful for the task. The roles must differ from each other in substance.\n"
    'Reply with JSON only, in exactly this shape: {"roles": ["...", "..."]}'
)

AGGREGATOR_PROMPT = (
    "You are the aggregator of a team of assistants. Below are candidate responses to the user's latest "
    "message, written independently. Synthesize them into one response of the highest quality: keep "
    "what is correct and well supported, resolve disagreements by reasoning about which claim holds, "
    "drop errors, and do not merely list or copy the candidates. Answer the user directly; do not mention "
    "the candidates or this process."
)


REPAIR = "That answer is not in the required format. Answer again, with the corrected answer only."


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


def in_format(messages: Sequence[Message], form: str) -> list[Message]:
    """The messages with what form the answer must take said last in the system message (one is added
    where there is none: many chat templates take a single system message, and only first)."""
    if messages and messages[0]["role"] == "system":
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{form}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": form}, *messages]


def repair(messages: Sequence[Message], answer: str, problem: str) -> list[Message]:
    """The same call again, shown its own answer and exactly what is wrong with it (a named mistake is fixed
    far more often than a blind second sample gets it right)."""
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": f"{REPAIR} The problem: {problem}"},
    ]
