"""The load loops against scripted in-process `send` functions: latency counted from the schedule
(coordinated omission), the in-flight cap, the closed loop, warmup, errors."""

from __future__ import annotations

import asyncio
import time

import pytest

from smoa.load.calls import Outcome
from smoa.load.runner import Run
from smoa.load.sample import DROPPED, OK, Sample
from smoa.load.schedule import Arrivals
from smoa.load.shape import LoadRequest, RequestShape
from smoa.load.summary import summarize
from smoa.load.window import Window

SHAPE = RequestShape()


class SerialServer:
    """Answers one request at a time in `service` seconds, except that request `stall_at` (by arrival
    order) takes `stall` seconds: everything queued behind it waits."""

    def __init__(self, service: float = 0.002, stall_at: int = -1, stall: float = 0.0):
        self.lock = asyncio.Lock()
        self.service, self.stall_at, self.stall = service, stall_at, stall
        self.arrived = 0
        self.in_flight = 0
        self.peak = 0
        self.stall_window: tuple[float, float] = (0.0, 0.0)

    async def send(self, request: LoadRequest) -> Outcome:
        mine = self.arrived
        self.arrived += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            async with self.lock:
                if mine == self.stall_at:
                    start = time.perf_counter()
                    await asyncio.sleep(self.stall)
                    self.stall_window = (start, time.perf_counter())
                else:
                    await asyncio.sleep(self.service)
        finally:
            self.in_flight -= 1
        return Outcome(OK, input_tokens=3, output_tokens=5)


async def test_a_server_stall_counts_for_every_request_due_during_it() -> None:
    server = SerialServer(stall_at=10, stall=0.5)
    run = Run(server.send, SHAPE.request, Window(requests=100))
    samples = await run.open_loop(Arrivals(100.0, kind="constant"), max_in_flight=1000)
    started = run.counters.started
    stall_start, stall_end = (t - started for t in server.stall_window)
    during = [s for s in samples if stall_start <= s.scheduled < stall_end]
    assert len(during) >= 40
    for s in during:
        # Each waited, from when it was due, at least until the stall ended.
        assert s.latency >= stall_end - s.scheduled - 0.002
        assert s.lateness < 0.25  # the generator itself sent them on time: well inside the 0.5 s stall
    summary = summarize(samples)
    assert summary.latency.percentile(90) > 0.25 and summary.latency.percentile(10) < 0.05
    assert summary.count == 100 and summary.statuses == {OK: 100}


async def test_a_blocked_generator_sends_late_and_the_wait_still_counts() -> None:
    blocked: list[float] = []

    async def send(request: LoadRequest) -> Outcome:
        if not blocked:
            # Blocks the whole event loop: the requests due meanwhile cannot be sent on time.
            blocked.append(time.perf_counter())
            time.sleep(0.3)
        await asyncio.sleep(0.001)
        return Outcome(OK)

    run = Run(send, SHAPE.request, Window(requests=60))
    samples = await run.open_loop(Arrivals(100.0, kind="constant"), max_in_flight=1000)
    late = [s for s in samples if s.lateness > 0.1]
    assert len(late) >= 20
    for s in late:
        assert s.latency >= s.lateness  # from the schedule, not from the (late) send
    summary = summarize(samples)
    assert summary.late >= 20 and summary.max_lateness >= 0.25
    assert summary.latency.max >= 0.25


async def test_beyond_the_in_flight_cap_requests_are_dropped_and_counted() -> None:
    server = SerialServer(stall_at=0, stall=0.3)
    run = Run(server.send, SHAPE.request, Window(requests=40))
    samples = await run.open_loop(Arrivals(100.0, kind="constant"), max_in_flight=5)
    dropped = [s for s in samples if s.status == DROPPED]
    assert server.peak <= 5
    assert len(dropped) >= 20 and all(s.sent is None for s in dropped)
    summary = summarize(samples)
    assert summary.count == 40 and summary.statuses[DROPPED] == len(dropped)
    assert summary.latency.count == 40 - len(dropped)  # dropped requests have no latency
    assert run.counters.dropped == len(dropped)


async def test_closed_loop_keeps_concurrency_and_counts_requests() -> None:
    server = SerialServer(service=0.001)
    server.lock = asyncio.Lock()
    run = Run(server.send, SHAPE.request, Window(requests=50, warmup_requests=10))
    samples = await run.closed_loop(concurrency=4)
    assert len(samples) == 60 and sum(s.warmup for s in samples) == 10
    assert server.peak == 4
    summary = summarize(samples)
    assert summary.count == 50 and summary.output_tokens == 250


async def test_closed_loop_duration_and_time_warmup() -> None:
    server = SerialServer(service=0.005)
    run = Run(server.send, SHAPE.request, Window(duration=0.3, warmup_seconds=0.2))
    started = time.perf_counter()
    samples = await run.closed_loop(concurrency=2)
    assert 0.45 <= time.perf_counter() - started < 2.0  # 0.5 s asked for; a busy machine adds, never less
    assert all(s.warmup == (s.scheduled < 0.2) for s in samples)
    assert any(s.warmup for s in samples) and any(not s.warmup for s in samples)


async def test_open_loop_warmup_is_excluded_and_the_rate_holds() -> None:
    server = SerialServer(service=0.0)
    run = Run(server.send, SHAPE.request, Window(duration=1.0, warmup_seconds=0.25))
    samples = await run.open_loop(Arrivals(80.0, kind="poisson"), max_in_flight=100, seed=5)
    measured = [s for s in samples if not s.warmup]
    assert all(s.scheduled >= 0.25 for s in measured)
    assert len(measured) == pytest.approx(80, rel=0.35)
    assert summarize(samples).count == len(measured)


async def test_failures_and_transport_bugs_are_counted_by_code() -> None:
    calls = 0

    async def send(request: LoadRequest) -> Outcome:
        nonlocal calls
        calls += 1
        if calls % 3 == 0:
            raise RuntimeError("boom")
        if calls % 3 == 1:
            return Outcome("UNAVAILABLE", "peer down")
        return Outcome(OK)

    run = Run(send, SHAPE.request, Window(requests=30))
    summary = summarize(await run.closed_loop(concurrency=1))
    assert summary.statuses == {"UNAVAILABLE": 10, OK: 10, "CLIENT_ERROR": 10}
    assert summary.errors[("UNAVAILABLE", "peer down")] == 10
    assert summary.errors[("CLIENT_ERROR", "RuntimeError: boom")] == 10


def test_streams_time_to_first_token_is_from_the_schedule() -> None:
    sample = Sample(index=0, scheduled=1.0, sent=1.2, done=2.0, status=OK, ttft=0.5)
    assert sample.latency == 1.0 and sample.lateness == pytest.approx(0.2) and sample.ttft == 0.5


async def test_stream_outcomes_give_ttft_relative_to_the_schedule() -> None:
    async def send(request: LoadRequest) -> Outcome:
        await asyncio.sleep(0.05)
        first = time.perf_counter()
        await asyncio.sleep(0.05)
        return Outcome(OK, first_token=first)

    run = Run(send, SHAPE.request, Window(requests=3))
    samples = await run.closed_loop(concurrency=1)
    for s in samples:
        assert s.ttft is not None and 0.04 <= s.ttft < s.latency
    assert summarize(samples).ttft.count == 3
