"""The scripted LLM every client test runs on: three roles whose answers differ (so the judge keeps two
and the moderator is asked), the judge ranking A over B over C, the moderator saying continue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.harness.chat_script import Reply, system_prompt
from tests.harness.role_script import ROLES, script

ANSWER = "Forty two is the synthesized answer"
__all__ = ["ANSWER", "ROLES", "failing", "scripted", "slow"]


def scripted(request: dict[str, Any]) -> Reply:
    if not system_prompt(request):  # MODE_SINGLE: the question alone
        return Reply("single answer")
    return script()(request)


def slow(request: dict[str, Any]) -> Reply:
    return Reply("too late", delay=2.0)


def failing(status: int) -> Callable[[dict[str, Any]], Reply]:
    return lambda request: Reply(status=status)
