"""Which smoa caller sent a chat request, told by the services' own prompt constants (imported, never
copied), so that a reworded prompt breaks routing loudly in tests/testing/test_instant_llm.py instead of
silently turning judging into proposing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from smoa_services.judge import prompt as judge_prompt
from smoa_services.moderator import prompt as moderator_prompt
from smoa_services.orchestrator.prompt import AGGREGATOR_PROMPT, ROLE_WRITER_PROMPT
from smoa_testing.fake_llm.chat_script import Reply, Script, system_prompt

# "single": no system prompt, the conversation as the user sent it (the single-model mode). "proposer":
# any other system prompt, since a proposer's is its role, which the request may choose freely. The
# role-writing call is not told apart: it too counts as a proposer.
Caller = Literal["judge", "moderator", "aggregator", "proposer", "single"]


def caller_of(request: dict[str, Any]) -> Caller:
    system = system_prompt(request)
    if not system:
        return "single"
    if system.startswith(AGGREGATOR_PROMPT):
        return "aggregator"
    if system.startswith(judge_prompt.SYSTEM):
        return "judge"
    if system.startswith(moderator_prompt.SYSTEM):
        return "moderator"
    return "proposer"


def asks_for_decision(request: dict[str, Any]) -> bool:
    """Whether a judge request is fused (the judge also decides stop or continue, in the moderator's
    stead). Read from the first user message, so a retry asks the same."""
    users = (m["content"] for m in request.get("messages", []) if m.get("role") == "user")
    return judge_prompt.DECIDE in next(users, "")


# What a caller is answered: a reply made from its request, or a text answered as it is.
Answer = Callable[[dict[str, Any]], Reply] | str


def by_caller(
    *,
    proposer: Answer,
    judge: Answer,
    moderator: Answer,
    aggregator: Answer,
    single: Answer | None = None,
    role_writer: Answer | None = None,
) -> Script:
    """A script answering each caller its own way, routed here once (caller_of): the single model as
    the aggregator unless told, and the role writer as a proposer unless told."""
    answers: dict[Caller, Answer] = {
        "proposer": proposer,
        "judge": judge,
        "moderator": moderator,
        "aggregator": aggregator,
        "single": aggregator if single is None else single,
    }

    def reply(request: dict[str, Any]) -> Reply:
        if role_writer is not None and system_prompt(request).startswith(ROLE_WRITER_PROMPT):
            chosen = role_writer
        else:
            chosen = answers[caller_of(request)]
        return Reply(chosen) if isinstance(chosen, str) else chosen(request)

    return reply
