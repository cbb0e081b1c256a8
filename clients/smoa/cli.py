"""The `smoa` command line.

    smoa ask "question" [--mode smoa|moa|single|auto] [-n 4] [-k 2] [--layers 3] [--aggregation rrf] [--json]
    smoa health [--stack] [--peer NAME TARGET ...]
    smoa serve {start|stop|status}     # the local stack, embedded model included (needs smoa-services)

The orchestrator address comes from --target or SMOA_TARGET (default 127.0.0.1:50051); a bearer token
only from SMOA_TOKEN (never a flag: command lines are visible to every user of the machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from smoa.ask_output import progress_line, summary_lines
from smoa.client import SmoaClient
from smoa.connection import DEFAULT_TARGET, DEFAULT_TIMEOUT_SECONDS, TLS
from smoa.errors import SmoaError
from smoa.eval.command import register as register_eval
from smoa.events import Progress, Summary, Token
from smoa.health import READINESS, ServingStatus
from smoa.load.command import register as register_load
from smoa.option_flags import add_option_flags, options_from
from smoa.usage import write_table

HEALTH_TIMEOUT_SECONDS = 5.0


def client_from(args: argparse.Namespace, target: str | None = None) -> SmoaClient:
    tls: TLS | bool = args.tls
    if args.ca_file or args.cert:
        tls = TLS(args.ca_file, args.cert, args.key)
    return SmoaClient(target or args.target, tls=tls, token=os.environ.get("SMOA_TOKEN") or None)


def ask(args: argparse.Namespace, out: TextIO) -> int:
    try:
        options = options_from(args)
        with client_from(args) as client:
            if args.json:
                result = client.generate(args.question, options, timeout=args.timeout)
                out.write(json.dumps(dataclasses.asdict(result), indent=2) + "\n")
                return 0
            for event in client.stream(args.question, options, timeout=args.timeout):
                if isinstance(event, Progress):
                    line = progress_line(event)
                    if line:
                        print(line, file=sys.stderr, flush=True)
                elif isinstance(event, Token):
                    out.write(event.text)
                    out.flush()
                elif isinstance(event, Summary):
                    out.write("\n\n")
                    out.flush()
                    for line in summary_lines(event.result):
                        print(line, file=sys.stderr)
    except ValueError as e:
        print(f"smoa ask: {e}", file=sys.stderr)
        return 2
    except SmoaError as e:
        print(f"smoa ask: {e}", file=sys.stderr)
        for v in e.violations:
            print(f"  {v.field}: {v.description}", file=sys.stderr)
        if e.retry_after is not None:
            print(f"  retry after {e.retry_after:.1f}s ({e.reason or 'no reason given'})", file=sys.stderr)
        return 1
    return 0


# The peers of the stack `smoa serve` starts, on their default ports.
LOCAL_PEERS = {"proposer": "127.0.0.1:50052", "judge": "127.0.0.1:50053", "moderator": "127.0.0.1:50054"}


def usage(args: argparse.Namespace, out: TextIO) -> int:
    try:
        with client_from(args, args.target) as client:
            write_table(client.usage(args.caller), out)
    except SmoaError as e:
        out.write(f"{e.code}: {e.message}\n")
        return 1
    return 0


def health(args: argparse.Namespace, out: TextIO) -> int:
    """One line per service: liveness (the process), then readiness ("ready", or which LLM backends have
    an open circuit breaker). Exits 1 unless every service is live and ready."""
    targets = {"orchestrator": args.target, **(LOCAL_PEERS if args.stack else {}), **dict(args.peer or [])}
    unwell = 0
    for name, target in targets.items():
        try:
            with client_from(args, target) as client:
                statuses = client.health_statuses(timeout=args.timeout)
        except SmoaError as e:
            unwell += 1
            out.write(f"{name:13} {target:24} {e.code}\n")
            continue
        live = statuses.get("", ServingStatus.SERVICE_UNKNOWN).value
        ready = readiness_of(statuses)
        unwell += live != ServingStatus.SERVING.value or ready != "ready"
        out.write(f"{name:13} {target:24} {live:12} {ready}\n")
    return 1 if unwell else 0


def readiness_of(statuses: dict[str, ServingStatus]) -> str:
    """ "ready", "not-ready:<backend>,..." naming the backends whose breaker is open, or "-" for a server
    that reports no readiness."""
    if READINESS not in statuses:
        return "-"
    if statuses[READINESS] == ServingStatus.SERVING:
        return "ready"
    prefix = READINESS + "/"
    down = [
        n[len(prefix) :] for n, s in statuses.items() if n.startswith(prefix) and s != ServingStatus.SERVING
    ]
    return "not-ready:" + (",".join(down) or statuses[READINESS].value)


def serve(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from smoa_services import stack
    except ImportError:
        print("smoa serve needs the services: pip install smoa-services (see README)", file=sys.stderr)
        return 2
    return stack.main([args.action])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="smoa", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--target",
        default=os.environ.get("SMOA_TARGET", DEFAULT_TARGET),
        help="orchestrator address, host:port or dns:///host:port (default: SMOA_TARGET or %(default)s)",
    )
    p.add_argument(
        "--tls", action="store_true", help="connect with TLS, trusting the system's root certificates"
    )
    p.add_argument("--ca-file", metavar="PEM", help="connect with TLS, trusting these root certificates")
    p.add_argument("--cert", metavar="PEM", help="client certificate chain for mutual TLS (with --key)")
    p.add_argument("--key", metavar="PEM", help="client private key for mutual TLS (with --cert)")
    sub = p.add_subparsers(dest="command", required=True)

    about = "ask a question; streams the answer, each layer's progress, and the cost"
    a = sub.add_parser(
        "ask",
        help=about,
        description=about + ". Progress and the cost go to stderr, the answer to stdout.",
    )
    a.add_argument("question", help="the question (quote it); sent as the user's message")
    add_option_flags(a)
    a.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="deadline in seconds (default: %(default)s)",
    )
    a.add_argument(
        "--json", action="store_true", help="print the whole result as JSON instead (no streaming)"
    )
    a.set_defaults(run=ask)

    about = "liveness and readiness of the orchestrator (and of other services with --peer)"
    h = sub.add_parser(
        "health",
        help=about,
        description=about + "; readiness names the LLM backends whose circuit breaker is open. Exits 1 "
        "unless every one is live and ready.",
    )
    h.add_argument(
        "--peer", nargs=2, action="append", metavar=("NAME", "TARGET"), help="also check NAME at TARGET"
    )
    h.add_argument(
        "--stack",
        action="store_true",
        help="also check the proposer, judge and moderator of the local stack (127.0.0.1:50052-50054)",
    )
    h.add_argument(
        "--timeout",
        type=float,
        default=HEALTH_TIMEOUT_SECONDS,
        help="seconds per check (default: %(default)s)",
    )
    h.set_defaults(run=health)

    about = "what callers have spent against their quotas (an admin caller's view)"
    u = sub.add_parser("usage", help=about, description=about + ", this minute and today.")
    u.add_argument("--caller", default="", help="one caller (default: every caller the quota file names)")
    u.set_defaults(run=usage)

    about = "start, stop or inspect the local stack (embedded model included)"
    s = sub.add_parser("serve", help=about, description=about + "; needs the smoa-services package.")
    s.add_argument("action", choices=["start", "stop", "status"], help="what to do with the stack")
    s.set_defaults(run=serve)

    register_load(sub)
    register_eval(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args, sys.stdout)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
