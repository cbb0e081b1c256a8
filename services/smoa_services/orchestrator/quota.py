"""Quotas over time, per caller: tokens per minute and per UTC day, and requests per minute, from a file
(SMOA_QUOTA_FILE, JSON, read again when it changes), with "*" for every caller it does not name:

    {"*": {"tokens_per_minute": 20000}, "alice": {"tokens_per_minute": 100000, "tokens_per_day": 2000000,
     "requests_per_minute": 60}}

A request is admitted before any LLM call against what its caller has left, and its token budget is cut
to that (so it adds no layer past it). When it ends its real cost is what counts: what it did not spend
is given back, what it spent beyond (its first layer and its answer run whatever the budget) is added,
and the caller's next request waits for the window to free up. A request that failed keeps its grant
counted.
Windows are fixed: the minute, the day. The counters live in this process (quota_counters.py), or in
Redis with SMOA_REDIS_URL so that the limits hold across orchestrator replicas. A store that cannot be
reached within half a second admits the request unchecked (a log line, a span event and the metric
smoa.quota.unchecked), or with
SMOA_QUOTA_FAIL_OPEN=false refuses it UNAVAILABLE QUOTA_UNAVAILABLE: never a request hung on it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import grpc
from opentelemetry import trace

from smoa_services.orchestrator.quota_counters import Counter, Counters
from smoa_services.rpc.failure import Failure

log = logging.getLogger(__name__)

MINUTE, DAY = 60.0, 86_400.0
ANYONE = "*"
# The longest a request waits on the counters' store before it is admitted unchecked (or refused).
STORE_SECONDS = 0.5


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


def _limits_of(book: Mapping[str, Limits], caller: str) -> Limits | None:
    """The caller's own limits, else the file's default for everyone ("*"); None: no quota applies."""
    return book.get(caller) or book.get(ANYONE)


def _counters(caller: str, limits: Limits, now: float) -> list[Counter]:
    """The caller's counters in the windows of `now`: requests per minute, tokens per minute, tokens per
    day."""
    name = caller or "-"
    minute, day = int(now // MINUTE), int(now // DAY)
    return [
        Counter(f"smoa:quota:{name}:rpm:{minute}", limits.requests_per_minute, 2 * int(MINUTE)),
        Counter(f"smoa:quota:{name}:tpm:{minute}", limits.tokens_per_minute, 2 * int(MINUTE)),
        Counter(f"smoa:quota:{name}:tpd:{day}", limits.tokens_per_day, 2 * int(DAY)),
    ]


@dataclass(frozen=True)
class Usage:
    caller: str
    limits: Limits
    requests_this_minute: int
    tokens_this_minute: int
    tokens_today: int


def rate_headers(kind: str, limit: int, left: int, frees: float) -> list[tuple[str, str]]:
    """OpenAI's x-ratelimit-limit-*, -remaining-* and -reset-* (a duration, as "6m0s" or "1.5s")."""
    minutes, seconds = divmod(max(0.0, frees), 60)
    reset = f"{int(minutes)}m{seconds:.0f}s" if minutes else f"{seconds:.1f}s"
    return [
        (f"x-ratelimit-limit-{kind}", str(limit)),
        (f"x-ratelimit-remaining-{kind}", str(max(0, left))),
        (f"x-ratelimit-reset-{kind}", reset),
    ]


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
    """What one request was let spend (None: no quota applies, or the counters could not be reached),
    and the token counters it was counted in."""

    caller: str
    tokens: int | None
    counted: tuple[str, ...] = ()
    # OpenAI's x-ratelimit-* headers for the caller as it stands, sent as the RPC's initial metadata.
    headers: tuple[tuple[str, str], ...] = ()
    # Admitted without a check because the counters could not be reached (SMOA_QUOTA_FAIL_OPEN).
    unchecked: bool = False


# The kinds of limit, and the token counters' order in Counters.take.
TOKEN_LIMITS = ("tokens_per_minute", "tokens_per_day")


class Quotas:
    def __init__(
        self,
        book: Callable[[], Mapping[str, Limits]],
        counters: Counters,
        *,
        fail_open: bool = True,
        clock: Callable[[], float] = time.time,
    ):
        self.book = book
        self.counters = counters
        self.fail_open = fail_open
        self.clock = clock

    async def admit(self, caller: str, budget: int) -> Grant:
        """The request's grant: its budget cut to what the caller has left; QuotaExceeded when nothing is."""
        book = self.book()
        limits = _limits_of(book, caller)
        if limits is None:
            return Grant(caller, None)
        now = self.clock()
        until_minute, until_day = MINUTE - now % MINUTE, DAY - now % DAY
        requests, *tokens = _counters(caller, limits, now)
        try:
            async with asyncio.timeout(STORE_SECONDS):
                taken = await self.counters.take(requests, tokens, budget)
        except Exception as e:  # the store is down or hangs: never the request's reason to hang
            return self._unreachable(caller, e)
        refused = taken.refused
        if refused == 1:
            raise QuotaExceeded(caller, "requests_per_minute", limits.requests_per_minute, until_minute)
        if refused:
            kind = TOKEN_LIMITS[refused - 2]
            frees = until_minute if kind == "tokens_per_minute" else until_day
            raise QuotaExceeded(caller, kind, getattr(limits, kind), frees)
        headers = []
        if limits.requests_per_minute:
            headers += rate_headers("requests", limits.requests_per_minute, taken.requests_left, until_minute)
        if limits.tokens_per_minute or limits.tokens_per_day:
            limit, frees = (
                (limits.tokens_per_minute, until_minute)
                if limits.tokens_per_minute
                else (limits.tokens_per_day, until_day)
            )
            headers += rate_headers("tokens", limit, taken.tokens_left, frees)
        return Grant(caller, taken.grant, tuple(c.key for c in tokens), tuple(headers))

    async def usage(self, caller: str = "") -> tuple[list[Usage], bool]:
        """What `caller` (or every caller the file names) has spent in the current windows, and whether
        the counters could be read."""
        book = self.book()
        named = [caller] if caller else sorted(c for c in book if c != ANYONE)
        now = self.clock()
        found, counted = [], True
        for name in named:
            limits = _limits_of(book, name) or Limits()
            try:
                async with asyncio.timeout(STORE_SECONDS):
                    values = await self.counters.read([c.key for c in _counters(name, limits, now)])
            except Exception as e:
                log.warning("quota counters unreachable, usage not read: %s", e)
                values, counted = [0, 0, 0], False
            found.append(Usage(name, limits, *values))
        return found, counted

    def label(self, caller: str) -> str:
        """The caller as a metric label: a name in the quota file, else "other", so one label value per
        configured caller at most, whoever calls."""
        return caller if caller and caller != ANYONE and caller in self.book() else "other"

    async def settle(self, grant: Grant, spent: int) -> None:
        """Counts the request's real cost in place of its grant (a window already past is left alone)."""
        if grant.tokens is None or spent == grant.tokens:
            return
        try:
            async with asyncio.timeout(STORE_SECONDS):
                await self.counters.add(grant.counted, spent - grant.tokens)
        except Exception as e:
            log.warning("quota counters unreachable, %s's cost not settled: %s", grant.caller or "-", e)

    def _unreachable(self, caller: str, error: Exception) -> Grant:
        if not self.fail_open:
            raise Failure(
                "quotas cannot be checked now (their store is unreachable): try again shortly",
                grpc.StatusCode.UNAVAILABLE,
                "QUOTA_UNAVAILABLE",
                retry_after=1.0,
            ) from error
        log.warning("quota counters unreachable, %s admitted unchecked: %s", caller or "-", error)
        trace.get_current_span().add_event("smoa.quota.unchecked", {"smoa.quota.error": type(error).__name__})
        return Grant(caller, None, unchecked=True)
