"""Room for LLM answers in the prompts built from them: the next layer's proposers', the judge's, the
moderator's and the aggregator's. Answers are untrusted input: one far longer than anything asked for (a
model in a loop, a hostile backend) must not make a prompt too long for a peer to accept, which would
fail the request for what a model did. So when the answers would not fit together, each is clipped to an
equal share of the room; the caller's own conversation and role are never clipped (their size is checked
when the request arrives)."""

from __future__ import annotations

from collections.abc import Sequence

from smoa.v1 import common_pb2
from smoa_services.orchestrator.records import Candidate

# A prompt's own instructions and the wrapping of each answer in it, with some to spare.
INSTRUCTIONS_CHARS = 4_000
PER_ANSWER_CHARS = 64
# However little room is left, an answer keeps this much: a peer then refuses the prompt (the caller's
# conversation left no room), rather than being shown nothing.
MIN_SHARE_CHARS = 200
CLIPPED = " [...]"


def room_for_answers(conversation_chars: int, max_prompt_chars: int, role_chars: int = 0) -> int:
    """What a prompt of at most ``max_prompt_chars`` leaves for answers after the conversation, a role of up
    to ``role_chars`` and its own instructions."""
    return max_prompt_chars - conversation_chars - role_chars - INSTRUCTIONS_CHARS


def max_conversation_chars(n: int, max_prompt_chars: int, role_chars: int) -> int:
    """The longest conversation that leaves each of ``n`` answers its least share in every prompt."""
    return max_prompt_chars - role_chars - INSTRUCTIONS_CHARS - n * (PER_ANSWER_CHARS + MIN_SHARE_CHARS)


def clipped(texts: Sequence[str], room: int) -> list[str]:
    """``texts`` as they are if together they fit in ``room``, else each clipped to an equal share."""
    room -= PER_ANSWER_CHARS * len(texts)
    if sum(len(t) for t in texts) <= room:
        return list(texts)
    share = max(MIN_SHARE_CHARS, room // max(1, len(texts))) - len(CLIPPED)
    return [t if len(t) <= share else t[:share] + CLIPPED for t in texts]


def fitted(answers: Sequence[Candidate], room: int) -> list[common_pb2.Candidate]:
    """The answers as sent to a peer."""
    texts = clipped([a.text for a in answers], room)
    return [common_pb2.Candidate(id=a.id, text=t, agent=a.agent) for a, t in zip(answers, texts, strict=True)]
