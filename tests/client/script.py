"""The scripted LLM every client test runs on: three roles whose answers differ (so the judge keeps two
and the moderator is asked), the judge ranking A over B over C, the moderator saying continue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.role_script import ROLES, SYNTHESIS, script

ANSWER = SYNTHESIS
__all__ = ["ANSWER", "ROLES", "failing", "scripted", "slow"]


scripted = script(single="single answer")


def slow(request: dict[str, Any]) -> Reply:
    return Reply("too late", delay=2.0)


def failing(status: int) -> Callable[[dict[str, Any]], Reply]:
    return lambda request: Reply(status=status)
