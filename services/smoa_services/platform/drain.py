"""The drain on SIGTERM, in the order load balancers and clients need:

1. health reports NOT_SERVING for every service name while the listener stays open, for
   `drain_delay_seconds` (what a Kubernetes preStop sleep does): probers, on new connections too, and
   clients whose channels watch health stop sending here, and RPCs that still arrive are served;
2. `stop(grace)`: the listener closes and the RPCs in flight get `grace_seconds`. Every deadline handed
   out by `deadline()` is lowered to the end of the grace, so a generation in flight stops adding layers
   and answers in time;
3. what is still running just before the grace ends is cut: its caller gets UNAVAILABLE with ErrorInfo
   SHUTTING_DOWN and RetryInfo (a clear status, not a reset), and the server stops.

`Drain` also knows which RPCs are in flight, told by call_gate.py (health and reflection are not
tracked: they are not work, and a health Watch lasts as long as its client)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
from grpc_health.v1 import health

from smoa_services.rpc.failure import ShuttingDown
from smoa_services.rpc.rpc_handler import Context
from smoa_services.timing.deadline import Deadline

# Cut what still runs this long before the grace ends, so the statuses go out before grpc's own stop
# cancels the RPCs; requests' deadlines end this much earlier again, so they finish before the cut.
CUT_MARGIN_SECONDS = 0.5


class Drain:
    def __init__(self, service: str):
        self.service = service
        # Monotonic time the grace ends, once the drain has come to `stop(grace)`.
        self.ends_at: float | None = None
        self._running: set[asyncio.Task[Any]] = set()
        self._cut: set[asyncio.Task[Any]] = set()

    def in_flight(self) -> int:
        return len(self._running)

    def deadline(self, context: Context, longest: float | None = None) -> Deadline:
        """The deadline of this RPC: its caller's (or `longest` seconds when that is sooner or there is
        none), lowered to the end of a drain's grace."""
        remaining = context.time_remaining()
        if longest is not None:
            remaining = longest if remaining is None else min(remaining, longest)
        return Deadline(remaining, self._ceiling)

    def _ceiling(self) -> float | None:
        return None if self.ends_at is None else self.ends_at - 2 * CUT_MARGIN_SECONDS

    async def run(
        self, server: grpc.aio.Server, servicer: health.aio.HealthServicer, delay: float, grace: float
    ) -> None:
        await servicer.enter_graceful_shutdown()
        await asyncio.sleep(delay)
        self.ends_at = time.monotonic() + grace
        stopping = asyncio.ensure_future(server.stop(grace))
        await asyncio.wait({stopping}, timeout=max(0.0, grace - CUT_MARGIN_SECONDS))
        if not stopping.done():
            for task in list(self._running):
                self._cut.add(task)
                task.cancel()
        await stopping

    def enter(self) -> asyncio.Task[Any]:
        task = asyncio.current_task()
        assert task is not None  # grpc.aio runs each RPC in a task of its own
        self._running.add(task)
        return task

    def leave(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        self._cut.discard(task)

    def raise_if_cut(self, task: asyncio.Task[Any]) -> None:
        """A call cancelled by the drain's cut answers SHUTTING_DOWN instead of being cancelled."""
        if task in self._cut:
            task.uncancel()
            raise ShuttingDown(self.service) from None
