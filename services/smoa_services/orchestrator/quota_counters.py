"""Where quota counters live: in this process, or in Redis so that every orchestrator replica counts
against one limit (SMOA_REDIS_URL). Either way one call checks and takes atomically, so two replicas
admitting at once cannot both take the last of a quota: in Redis it is one Lua script, with no
read-then-write between replicas."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Counter:
    key: str
    # 0: not limited (still counted).
    limit: int
    # How long the counter is kept: a little longer than its window.
    ttl_seconds: int


@dataclass(frozen=True)
class Taken:
    refused: int
    grant: int = 0
    # What is left after it, of the limited token counter with the least room and of the requests
    # (-1: not limited).
    tokens_left: int = -1
    requests_left: int = -1


class Counters(Protocol):
    async def take(self, requests: Counter, tokens: Sequence[Counter], budget: int) -> Taken:
        """Atomically: having added one request and `grant` = min(budget, the tokens' room) tokens,
        refused 0; or refused 1 when `requests` is at its limit, 2 + i when `tokens[i]` has no room."""
        ...

    async def add(self, keys: Sequence[str], amount: int) -> None:
        """Adds `amount` (may be negative; never below 0) to the counters that still exist."""
        ...

    async def read(self, keys: Sequence[str]) -> list[int]:
        """The counters' values (0 for one that does not exist)."""
        ...


class MemoryCounters:
    def __init__(self) -> None:
        self._values: dict[str, tuple[int, float]] = {}
        self._pruned = 0.0

    def _get(self, key: str, now: float) -> int:
        value, expires = self._values.get(key, (0, 0.0))
        return value if expires > now else 0

    async def take(self, requests: Counter, tokens: Sequence[Counter], budget: int) -> Taken:
        now = time.monotonic()
        if now - self._pruned > 1.0:  # counters of windows past, once a second
            self._values, self._pruned = {k: v for k, v in self._values.items() if v[1] > now}, now
        if requests.limit and self._get(requests.key, now) >= requests.limit:
            return Taken(1)
        grant, rooms = budget, []
        for i, counter in enumerate(tokens):
            if counter.limit:
                room = counter.limit - self._get(counter.key, now)
                if room <= 0:
                    return Taken(2 + i)
                grant = min(grant, room)
                rooms.append(room)
        for counter, amount in ((requests, 1), *((c, grant) for c in tokens)):
            self._values[counter.key] = (self._get(counter.key, now) + amount, now + counter.ttl_seconds)
        requests_left = requests.limit - self._get(requests.key, now) if requests.limit else -1
        return Taken(0, grant, min(rooms) - grant if rooms else -1, requests_left)

    async def add(self, keys: Sequence[str], amount: int) -> None:
        now = time.monotonic()
        for key in keys:
            if key in self._values and self._values[key][1] > now:
                value, expires = self._values[key]
                self._values[key] = (max(0, value + amount), expires)

    async def read(self, keys: Sequence[str]) -> list[int]:
        now = time.monotonic()
        return [self._get(key, now) for key in keys]


# KEYS: the requests counter, then the token counters. ARGV: the requests limit and TTL, the budget, then
# per token counter its limit and TTL.
TAKE = """
local function value(key) return tonumber(redis.call('GET', key) or '0') end
local limit = tonumber(ARGV[1])
if limit > 0 and value(KEYS[1]) >= limit then return {1, 0, -1, -1} end
local grant = tonumber(ARGV[3])
for i = 2, #KEYS do
  local token_limit = tonumber(ARGV[2 + (i - 1) * 2])
  if token_limit > 0 then
    local room = token_limit - value(KEYS[i])
    if room <= 0 then return {i, 0, -1, -1} end
    if room < grant then grant = room end
  end
end
local requests = redis.call('INCRBY', KEYS[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
local tokens_left = -1
for i = 2, #KEYS do
  local used = redis.call('INCRBY', KEYS[i], grant)
  redis.call('EXPIRE', KEYS[i], ARGV[3 + (i - 1) * 2])
  local token_limit = tonumber(ARGV[2 + (i - 1) * 2])
  if token_limit > 0 and (tokens_left < 0 or token_limit - used < tokens_left) then
    tokens_left = token_limit - used
  end
end
local requests_left = -1
if limit > 0 then requests_left = limit - requests end
return {0, grant, tokens_left, requests_left}
"""
ADD = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('INCRBY', KEYS[i], ARGV[1]) < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
  end
end
return 0
"""


class RedisCounters:
    """redis-py's asyncio client; short socket timeouts, so a Redis that hangs fails a call fast instead
    of holding a request (quota.py then fails open or closed, as configured)."""

    def __init__(self, url: str, timeout: float):
        import redis.asyncio  # only with SMOA_REDIS_URL: the services run without the package otherwise

        self.client: Any = redis.asyncio.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._take = self.client.register_script(TAKE)
        self._add = self.client.register_script(ADD)

    async def take(self, requests: Counter, tokens: Sequence[Counter], budget: int) -> Taken:
        args: list[int] = [requests.limit, requests.ttl_seconds, budget]
        for counter in tokens:
            args += [counter.limit, counter.ttl_seconds]
        taken = await self._take(keys=[requests.key, *(c.key for c in tokens)], args=args)
        return Taken(*(int(v) for v in taken))

    async def add(self, keys: Sequence[str], amount: int) -> None:
        await self._add(keys=list(keys), args=[amount])

    async def read(self, keys: Sequence[str]) -> list[int]:
        return [int(v or 0) for v in await self.client.mget(list(keys))]

    async def close(self) -> None:
        await self.client.aclose()
