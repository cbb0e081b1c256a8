"""What one caller's requests put on the proposers at once, bounded at the front door.

A request with n proposers makes up to n proposer calls at once (its layers run one after another, so n,
not n x layers, is what it holds in flight). Within its share of requests (32 at the orchestrator), a
caller asking n = 32 each would put a thousand calls on the proposers, whose own share per end caller
would then refuse most of them mid-request, after tokens were spent. So the n of one caller's requests in
flight are summed and bounded (SMOA_MAX_PROPOSERS_IN_FLIGHT_PER_CALLER, by default the proposers' share
per end caller), a request over it refused at once with RESOURCE_EXHAUSTED OVERLOADED, before any work.
A caller with nothing in flight is always let in: one request is never refused for its own size, which
check_request bounds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from smoa_services.platform.admission import Overloaded


class ProposerLoad:
    def __init__(self, limit: int):
        """`limit`: 0 for no bound."""
        self.limit = limit
        self.by_caller: Counter[str] = Counter()

    @contextmanager
    def admitted(self, caller: str, proposers: int) -> Iterator[None]:
        """Holds `proposers` of the caller's bound while the request runs ("" is no known caller: none)."""
        if not caller or not self.limit:
            yield
            return
        held = self.by_caller[caller]
        if held and held + proposers > self.limit:
            raise Overloaded("this caller's requests hold their share of", self.limit, "proposer calls")
        self.by_caller[caller] += proposers
        try:
            yield
        finally:
            self.by_caller[caller] -= proposers
            if not self.by_caller[caller]:
                del self.by_caller[caller]
