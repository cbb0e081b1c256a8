"""How many calls are taken at once, in all and per caller, so one caller cannot take the service from
the others. Over either limit a call is refused at once with RESOURCE_EXHAUSTED and RetryInfo, before
any work.

gRPC's `maximum_concurrent_rpcs` counts health checks too: a full server would refuse its own probes and
get a healthy pod restarted. Here only smoa's calls count (gRPC's own services pass unwrapped), and
gRPC's limit is left far above this one.

A caller is whom the work is for (caller.END_CALLER): at the orchestrator, who `auth.py` found (its
token's name or its certificate's); at a peer, the orchestrator's caller, which it passes on. So one end
caller cannot take a peer from the others through the orchestrator, whose own identity every peer call
carries. Callers nobody knows (no authentication configured) share the service's limit only: an address
is no identity (a proxy, a NAT or a load generator puts many behind one).

The count of calls in flight is also the metric `smoa.rpc.server.in_flight` (telemetry/instruments.py):
what a replica has on its hands, which an autoscaler can follow better than CPU for a service that mostly
waits on its LLM."""

from __future__ import annotations

from collections import Counter

import grpc
from opentelemetry.metrics import UpDownCounter

from smoa_services.access.caller import END_CALLER
from smoa_services.rpc.failure import Failure


class Overloaded(Failure):
    def __init__(self, what: str, limit: int, calls: str = "calls"):
        super().__init__(
            f"{what} {limit} {calls} in flight: try again shortly",
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "OVERLOADED",
            retry_after=1.0,
            metadata={"limit": str(limit)},
        )


class Admission:
    def __init__(self, limit: int, per_caller: int, measured: UpDownCounter | None = None):
        """`measured`, if given, follows `in_flight` (the calls admitted and not yet finished)."""
        self.limit = limit
        self.per_caller = per_caller
        self.in_flight = 0
        self.by_caller: Counter[str] = Counter()
        self.measured = measured

    def admit(self) -> str:
        """The call's caller, counted in; Overloaded over either limit."""
        caller = END_CALLER.get()
        if self.in_flight >= self.limit:
            raise Overloaded("the service has its limit of", self.limit)
        if caller and self.by_caller[caller] >= self.per_caller:
            raise Overloaded("this caller has its share of", self.per_caller)
        self.in_flight += 1
        self.by_caller[caller] += 1
        if self.measured is not None:
            self.measured.add(1)
        return caller

    def leave(self, caller: str) -> None:
        self.in_flight -= 1
        self.by_caller[caller] -= 1
        if not self.by_caller[caller]:
            del self.by_caller[caller]
        if self.measured is not None:
            self.measured.add(-1)
