"""The caller breaker test for as long as asked (60 s by default): Alice floods a stack whose breaker opens
after 3 failures in a row with hanging and over-long requests, Bob asks every 2 s. Prints, once a second,
the breaker's openings so far and Bob's answers and failures, then the totals; exits 1 if Bob lost a
request or the breaker opened. Then the other side: a backend down for everyone, served by 1, 2 or 3
callers until then, and what the breaker took to open (seconds, failed backend calls, requests).

    .venv/bin/python benchmarks/breaker_flood.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from smoa_testing.load.breaker_flood import Flooded, dead_backend, flood


def line(seen: Flooded) -> None:
    elapsed, openings, answered, failed = seen.timeline[-1]
    print(
        f"{elapsed:5.1f} s  breaker openings {openings:.0f}  Bob answered {answered}  failed {failed}",
        flush=True,
    )


async def main(seconds: float) -> int:
    with tempfile.TemporaryDirectory() as folder:
        seen = await flood(Path(folder), seconds, with_bob=True, every_second=line)
    print(
        f"\nBob: {seen.answered} answered, {len(seen.failed)} failed; breaker openings: {seen.openings:.0f}"
    )
    for failure in seen.failed[:5]:
        print(f"  {failure}")
    print("\nA backend down for everyone (the callers take turns asking):")
    for callers in (1, 2, 3):
        with tempfile.TemporaryDirectory() as folder:
            opening = await dead_backend(Path(folder), callers)
        print(
            f"  {callers} caller(s): open after {opening.seconds:.2f} s, "
            f"{opening.failed_calls} failed backend calls in {opening.requests} requests"
        )
    return 1 if seen.failed or seen.openings else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    sys.exit(asyncio.run(main(parser.parse_args().seconds)))
