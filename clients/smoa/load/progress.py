"""A live progress line on stderr, rewritten in place with \r: elapsed time, requests sent and done,
in flight, errors, dropped, and the completion rate."""

from __future__ import annotations

import asyncio
from typing import TextIO

from smoa.load.runner import Counters, Run

INTERVAL_SECONDS = 0.5


def progress_line(counters: Counters, total: str) -> str:
    elapsed = counters.elapsed()
    rate = counters.done / elapsed if elapsed > 0 else 0.0
    return (
        f"{elapsed:6.1f}s / {total}  sent {counters.sent}  done {counters.done}  "
        f"in flight {counters.in_flight}  errors {counters.errors}  dropped {counters.dropped}  "
        f"{rate:.1f} req/s"
    )


async def show_progress(run: Run, total: str, out: TextIO) -> None:
    """Until cancelled; the run's counters are read anew each time (starting a loop replaces them)."""
    try:
        while True:
            # \x1b[K clears what a longer previous line left behind.
            out.write("\r" + progress_line(run.counters, total) + "\x1b[K")
            out.flush()
            await asyncio.sleep(INTERVAL_SECONDS)
    finally:
        out.write("\n")
        out.flush()
