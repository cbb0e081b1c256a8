"""How late a service's event loop runs what is due. Every call a service serves shares its one loop, so a
loop 100 ms late makes every RPC, health check and streamed piece 100 ms late: what CPU saturation or a
blocking call looks like from inside, and what a load test watches while it holds thousands of requests.

A task asks to wake every INTERVAL_SECONDS and records by how much it woke late, as the histogram
`smoa.process.loop_lag` (only when metrics are exported)."""

from __future__ import annotations

import asyncio

from opentelemetry.metrics import Histogram

INTERVAL_SECONDS = 0.1


async def watch_loop_lag(lag: Histogram) -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + INTERVAL_SECONDS
        await asyncio.sleep(INTERVAL_SECONDS)
        lag.record(max(0.0, loop.time() - due))
