"""Runs the conformance cases against a deployment by address, through either door or both:

    python -m tests.conformance --grpc 127.0.0.1:50051 --http http://127.0.0.1:8000 [--case NAME ...]

The bearer token, if the deployment wants one, comes from SMOA_TOKEN (both doors). Prints one line per
case and door; exits 1 if any failed."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import openai

from smoa import AsyncSmoaClient
from tests.conformance.cases import CASES, outcomes
from tests.conformance.doors import Door, GrpcDoor, HttpDoor


async def run(doors: list[Door], cases: list[str]) -> int:
    failed = 0
    async for outcome in outcomes(doors, cases):
        failed += outcome.error is not None
        said = "ok" if outcome.error is None else f"FAILED: {outcome.error}"
        print(f"{outcome.door:5} {outcome.case:55} {outcome.seconds:6.1f} s  {said}", flush=True)
    print(f"{len(doors) * len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


async def main(args: argparse.Namespace) -> int:
    token = os.environ.get("SMOA_TOKEN") or None
    doors: list[Door] = []
    client = AsyncSmoaClient(args.grpc, token=token, timeout=args.timeout) if args.grpc else None
    if client is not None:
        doors.append(GrpcDoor(client))
    if args.http:
        base = args.http.rstrip("/").removesuffix("/v1") + "/v1"
        http = openai.AsyncOpenAI(base_url=base, api_key=token or "none", max_retries=0, timeout=args.timeout)
        doors.append(HttpDoor(http))
    try:
        return await run(doors, args.case or list(CASES))
    finally:
        if client is not None:
            await client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--grpc", help="the orchestrator's address (dns:/// ok)")
    parser.add_argument("--http", help="the gateway's base URL")
    parser.add_argument("--case", action="append", choices=list(CASES), help="only this case (repeat)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per generation")
    parsed = parser.parse_args()
    if not parsed.grpc and not parsed.http:
        parser.error("give --grpc, --http or both")
    sys.exit(asyncio.run(main(parsed)))
