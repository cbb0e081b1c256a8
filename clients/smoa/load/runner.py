"""Drives a load run: an open loop (requests sent at their scheduled times, however the server is doing,
up to an in-flight cap past which they are dropped and counted) or a closed loop (a fixed number of
workers, each sending its next request when the last one is answered).

Every latency runs from when the request was due. In the open loop that is its scheduled time, so a
request the generator sends late (its event loop was blocked, the cap was hit) is not measured as if the
system had been fine all along: coordinated omission. In the closed loop a worker's next request is due
when the previous one ends, which is what a closed loop means (its rate adapts to the server)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from smoa.load.calls import Outcome, Send
from smoa.load.sample import DROPPED, OK, Sample
from smoa.load.schedule import Arrivals, arrival_times
from smoa.load.shape import LoadRequest
from smoa.load.window import Window

MakeRequest = Callable[[int], LoadRequest]


@dataclass
class Counters:
    """Live counts, read by the progress line."""

    started: float = field(default_factory=time.perf_counter)
    # The same instant on the wall clock, to line samples up with what happened elsewhere (faults, logs).
    started_epoch: float = field(default_factory=time.time)
    sent: int = 0
    done: int = 0
    errors: int = 0
    dropped: int = 0
    in_flight: int = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class Run:
    def __init__(self, send: Send, make_request: MakeRequest, window: Window):
        self.send = send
        self.make_request = make_request
        self.window = window
        self.samples: list[Sample] = []
        self.counters = Counters()

    def now(self) -> float:
        return self.counters.elapsed()

    async def _one(self, index: int, due: float, warmup: bool) -> None:
        request = self.make_request(index)
        self.counters.in_flight += 1
        sent = self.now()
        self.counters.sent += 1
        try:
            outcome = await self.send(request)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a transport bug must not stop the run; it shows in the error table
            outcome = Outcome("CLIENT_ERROR", f"{type(e).__name__}: {e}")
        finally:
            self.counters.in_flight -= 1
        done = self.now()
        self.counters.done += 1
        self.counters.errors += outcome.status != OK
        ttft = None if outcome.first_token is None else outcome.first_token - self.counters.started - due
        self.samples.append(
            Sample(
                index=index,
                scheduled=due,
                sent=sent,
                done=done,
                status=outcome.status,
                detail=outcome.detail,
                ttft=ttft,
                input_tokens=outcome.input_tokens,
                output_tokens=outcome.output_tokens,
                warmup=warmup,
                degraded=outcome.degraded,
            )
        )

    async def open_loop(self, arrivals: Arrivals, max_in_flight: int, seed: int = 0) -> list[Sample]:
        self.counters = Counters()
        tasks: set[asyncio.Task[None]] = set()
        schedule: Iterator[float] = arrival_times(arrivals, seed)
        try:
            for index, due in enumerate(schedule):
                warmup = self.window.admit(index, due)
                if warmup is None:
                    break
                wait = due - self.now()
                # Sleep until due; a generator that is behind sends at once (and the lateness shows).
                await asyncio.sleep(max(wait, 0.0))
                if len(tasks) >= max_in_flight:
                    self.counters.dropped += 1
                    self.samples.append(Sample(index, due, None, due, DROPPED, warmup=warmup))
                    continue
                task = asyncio.create_task(self._one(index, due, warmup))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        return self.samples

    async def closed_loop(self, concurrency: int) -> list[Sample]:
        self.counters = Counters()
        indices = itertools.count()

        async def worker() -> None:
            while True:
                index, due = next(indices), self.now()
                warmup = self.window.admit(index, due)
                if warmup is None:
                    return
                await self._one(index, due, warmup)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return self.samples
