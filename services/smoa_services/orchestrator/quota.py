"""Quotas over time, per caller: tokens per minute and per UTC day, and requests per minute, from a file
(SMOA_QUOTA_FILE, JSON, read again when it changes), with "*" for every caller it does not name:

    {"*": {"tokens_per_minute": 20000}, "alice": {"tokens_per_minute": 100000, "tokens_per_day": 2000000,
     "requests_per_minute": 60}}

A request is admitted before any LLM call against what its caller has left, and its token budget is cut
to that (so it adds no layer past it). When it ends its real cost is what counts: what it did not spend
is given back, what it spent beyond (its first layer and its answer run whatever the budget) is added,
and the caller's next request waits for the window to free up. A request that failed keeps its grant
counted.
Windows are fixed: the minute, the day. The counters live in this process, so the limits hold per
orchestrator replica."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import grpc

from smoa_services.failure import Failure

MINUTE, DAY = 60.0, 86_400.0
ANYONE = "*"


@dataclass(frozen=True)
class Limits:
    """0: no limit of that kind."""

    tokens_per_minute: int = 0
    tokens_per_day: int = 0
    requests_per_minute: int = 0


def quota_file(text: str) -> dict[str, Limits]:
    """The file's limits by caller; ValueError naming what is wrong."""
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError("quota file: expected a JSON object of callers")
    known = {f.name for f in fields(Limits)}
    book = {}
    for caller, limits in raw.items():
        if not isinstance(limits, dict) or not set(limits) <= known:
            raise ValueError(f"quota file: {caller!r}: expected an object of {sorted(known)}")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in limits.values()):
            raise ValueError(f"quota file: {caller!r}: limits are whole numbers >= 0")
        book[str(caller)] = Limits(**limits)
    return book


class QuotaExceeded(Failure):
    def __init__(self, caller: str, limit: str, value: int, retry_after: float):
        super().__init__(
            f"this caller's quota of {value} {limit.replace('_', ' ')} is spent: it frees up in "
            f"{retry_after:.0f} s",
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "QUOTA_EXCEEDED",
            retry_after=retry_after,
            metadata={"limit": limit, "quota": str(value)},
        )


@dataclass(frozen=True)
class Grant:
    """What one request was let spend (None: no quota applies), counted in these windows."""

    caller: str
    tokens: int | None
    minute: int
    day: int


class Quotas:
    def __init__(self, book: Callable[[], Mapping[str, Limits]], clock: Callable[[], float] = time.time):
        self.book = book
        self.clock = clock
        # (caller, kind, window) -> used; kinds: "tpm", "tpd", "rpm". Only current windows are kept.
        self._used: dict[tuple[str, str, int], int] = {}

    def admit(self, caller: str, budget: int) -> Grant:
        """The request's grant: its budget cut to what the caller has left; QuotaExceeded when nothing is."""
        now = self.clock()
        minute, day = int(now // MINUTE), int(now // DAY)
        book = self.book()
        limits = book.get(caller) or book.get(ANYONE)
        if limits is None:
            return Grant(caller, None, minute, day)
        self._forget_before(minute, day)
        until_minute, until_day = MINUTE - now % MINUTE, DAY - now % DAY
        rpm = (caller, "rpm", minute)
        if limits.requests_per_minute and self._used.get(rpm, 0) >= limits.requests_per_minute:
            raise QuotaExceeded(caller, "requests_per_minute", limits.requests_per_minute, until_minute)
        left = budget
        for kind, window, limit, frees in (
            ("tpm", minute, limits.tokens_per_minute, until_minute),
            ("tpd", day, limits.tokens_per_day, until_day),
        ):
            if limit:
                room = limit - self._used.get((caller, kind, window), 0)
                if room <= 0:
                    name = "tokens_per_minute" if kind == "tpm" else "tokens_per_day"
                    raise QuotaExceeded(caller, name, limit, frees)
                left = min(left, room)
        self._add(rpm, 1)
        self._add((caller, "tpm", minute), left)
        self._add((caller, "tpd", day), left)
        return Grant(caller, left, minute, day)

    def settle(self, grant: Grant, spent: int) -> None:
        """Counts the request's real cost in place of its grant."""
        if grant.tokens is None:
            return
        change = spent - grant.tokens
        for key in ((grant.caller, "tpm", grant.minute), (grant.caller, "tpd", grant.day)):
            if key in self._used:  # a window already past is left as it was
                self._add(key, change)

    def used(self, caller: str) -> dict[str, int]:
        """What the caller has used in the current windows."""
        now = self.clock()
        minute, day = int(now // MINUTE), int(now // DAY)
        return {
            kind: self._used.get((caller, kind, w), 0)
            for kind, w in (("tpm", minute), ("tpd", day), ("rpm", minute))
        }

    def _add(self, key: tuple[str, str, int], amount: int) -> None:
        self._used[key] = max(0, self._used.get(key, 0) + amount)

    def _forget_before(self, minute: int, day: int) -> None:
        current = {"tpm": minute, "rpm": minute, "tpd": day}
        for key in [k for k in self._used if k[2] != current[k[1]]]:
            del self._used[key]
