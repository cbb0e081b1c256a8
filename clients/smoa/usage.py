"""What callers have spent against their quotas (OrchestratorService.Usage, for an admin caller)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from smoa.v1 import orchestrator_pb2


@dataclass(frozen=True)
class CallerUsage:
    """Spent in the current minute and UTC day, and the caller's quota (0: none of that kind)."""

    caller: str
    tokens_this_minute: int
    tokens_today: int
    requests_this_minute: int
    tokens_per_minute: int
    tokens_per_day: int
    requests_per_minute: int


def usage_from(response: orchestrator_pb2.UsageResponse) -> list[CallerUsage]:
    return [
        CallerUsage(
            u.caller,
            u.tokens_this_minute,
            u.tokens_today,
            u.requests_this_minute,
            u.tokens_per_minute,
            u.tokens_per_day,
            u.requests_per_minute,
        )
        for u in response.callers
    ]


def write_table(usages: list[CallerUsage], out: TextIO) -> None:
    """One line per caller: each kind as spent/quota ("-" for no quota of that kind)."""

    def of(spent: int, quota: int) -> str:
        return f"{spent}/{quota}" if quota else f"{spent}/-"

    out.write(f"{'caller':16} {'tokens/min':>18} {'tokens/day':>20} {'requests/min':>14}\n")
    for u in usages:
        out.write(
            f"{u.caller:16} {of(u.tokens_this_minute, u.tokens_per_minute):>18} "
            f"{of(u.tokens_today, u.tokens_per_day):>20} "
            f"{of(u.requests_this_minute, u.requests_per_minute):>14}\n"
        )
