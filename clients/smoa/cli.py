"""The `smoa` command line.

    smoa ask "question" [--mode smoa|moa|single] [-n 4] [-k 2] [--layers 3] [--json]
    smoa health
    smoa serve {start|stop|status}     # the local stack, embedded model included (needs smoa-services)

The orchestrator address comes from --target or SMOA_TARGET (default 127.0.0.1:50051).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import TextIO

import grpc
from google.protobuf import json_format

from smoa.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

DEFAULT_TARGET = "127.0.0.1:50051"
MODES = {
    "smoa": orchestrator_pb2.MODE_SMOA,
    "moa": orchestrator_pb2.MODE_MOA,
    "single": orchestrator_pb2.MODE_SINGLE,
}
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
# grpc.health.v1.HealthCheckResponse.ServingStatus, which arrives as field 1 (a varint) of the reply.
SERVING_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def _enum(value: int, enum: object, prefix: str) -> str:
    name: str = enum.Name(value)  # type: ignore[attr-defined]
    return name.removeprefix(prefix)


def _seconds(d: object) -> float:
    return float(d.ToNanoseconds()) / 1e9  # type: ignore[attr-defined]


def request_from(args: argparse.Namespace) -> orchestrator_pb2.GenerateRequest:
    request = orchestrator_pb2.GenerateRequest(
        messages=[common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content=args.question)],
        mode=MODES[args.mode],
        n=args.n,
        k=args.k,
        max_layers=args.layers,
        fused_judge_moderator=args.fused,
        seed=args.seed,
    )
    if args.max_tokens:
        request.model.max_tokens = args.max_tokens
    if args.task:
        request.task_description = args.task
    return request


def describe_progress(progress: orchestrator_pb2.Progress) -> str | None:
    trace = progress.trace
    stage = progress.stage
    if stage == orchestrator_pb2.Progress.STAGE_PROPOSALS_DONE:
        ids = " ".join(c.id for c in trace.candidates)
        return f"layer {progress.layer}: {len(trace.candidates)} proposals ({ids})"
    if stage == orchestrator_pb2.Progress.STAGE_JUDGED:
        scores = {s.id: s.score for s in trace.scores}
        kept = ", ".join(f"{i} ({scores[i]:.2f})" if i in scores else i for i in trace.kept_ids)
        extra = " [judge failed: consensus fallback]" if trace.judge_fallback else ""
        dupes = f", {len(trace.duplicate_ids)} duplicates dropped" if trace.duplicate_ids else ""
        return f"layer {progress.layer}: kept {kept}{dupes}{extra}"
    if stage == orchestrator_pb2.Progress.STAGE_MODERATED:
        decision = _enum(trace.decision, common_pb2.Decision, "DECISION_")
        return f"layer {progress.layer}: {decision} (agreement {trace.agreement:.2f}): {trace.reason}"
    if stage == orchestrator_pb2.Progress.STAGE_AGGREGATING:
        return "aggregating:"
    return None


def describe_summary(summary: orchestrator_pb2.GenerateResponse) -> list[str]:
    lines = [
        f"stop: {_enum(summary.stop_reason, common_pb2.StopReason, 'STOP_REASON_')} after "
        f"{len(summary.layers)} layer(s) · mode {_enum(summary.mode, orchestrator_pb2.Mode, 'MODE_')}"
    ]
    total = summary.cost.total
    by_stage: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for stage in summary.cost.stages:
        row = by_stage[stage.stage]
        row[0] += stage.usage.calls
        row[1] += stage.usage.input_tokens
        row[2] += stage.usage.output_tokens
    parts = ", ".join(f"{name} {c} calls {i}/{o}" for name, (c, i, o) in by_stage.items())
    estimated = " (some estimated)" if total.estimated else ""
    lines.append(
        f"cost: {total.calls} LLM calls, {total.input_tokens} input / {total.output_tokens} output tokens"
        f"{estimated} [{parts}]"
    )
    timings = ", ".join(f"{t.stage} {_seconds(t.duration):.1f}s" for t in summary.timings)
    lines.append(f"time: {timings}")
    return lines


def ask(args: argparse.Namespace, out: TextIO) -> int:
    with grpc.insecure_channel(args.target) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
        request = request_from(args)
        try:
            if args.json:
                summary = stub.Generate(request, timeout=args.timeout)
                out.write(json_format.MessageToJson(summary) + "\n")
                return 0
            for event in stub.GenerateStream(request, timeout=args.timeout):
                kind = event.WhichOneof("event")
                if kind == "progress":
                    line = describe_progress(event.progress)
                    if line:
                        print(line, file=sys.stderr, flush=True)
                elif kind == "token":
                    out.write(event.token)
                    out.flush()
                elif kind == "summary":
                    out.write("\n\n")
                    for line in describe_summary(event.summary):
                        print(line, file=sys.stderr)
        except grpc.RpcError as e:
            print(f"smoa ask: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    return 0


def check_health(target: str, timeout: float = 3.0) -> str:
    """The standard health check, spoken without the grpcio-health-checking package (the SDK depends on
    grpcio and protobuf only): an empty HealthCheckRequest asks about the whole server."""
    with grpc.insecure_channel(target) as channel:
        check: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(HEALTH_CHECK)
        try:
            reply: bytes = check(b"", timeout=timeout)
        except grpc.RpcError as e:
            return str(e.code().name)
    status = reply[1] if len(reply) >= 2 and reply[0] == 0x08 else 0
    return SERVING_STATUS.get(status, "UNKNOWN")


def health(args: argparse.Namespace, out: TextIO) -> int:
    targets = {"orchestrator": args.target, **dict(args.peer or [])}
    unhealthy = 0
    for name, target in targets.items():
        status = check_health(target)
        unhealthy += status != "SERVING"
        out.write(f"{name:13} {target:24} {status}\n")
    return 1 if unhealthy else 0


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
        "--target", default=os.environ.get("SMOA_TARGET", DEFAULT_TARGET), help="orchestrator address"
    )
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("ask", help="ask a question; streams the answer, each layer's progress, and the cost")
    a.add_argument("question")
    a.add_argument("--mode", choices=sorted(MODES), default="smoa")
    a.add_argument("-n", type=int, default=0, help="proposers per layer (0: the service default)")
    a.add_argument("-k", type=int, default=0, help="answers kept per layer (0: the service default)")
    a.add_argument("--layers", type=int, default=0, help="maximum layers (0: the service default)")
    a.add_argument("--fused", action="store_true", help="judge and moderator in one call")
    a.add_argument("--task", default="", help="task description the proposers' roles are written for")
    a.add_argument("--max-tokens", type=int, default=0, help="per LLM call (0: the service default)")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--timeout", type=float, default=600.0, help="deadline in seconds")
    a.add_argument("--json", action="store_true", help="print the whole response as JSON instead")
    a.set_defaults(run=ask)

    h = sub.add_parser("health", help="serving status of every service")
    h.add_argument(
        "--peer", nargs=2, action="append", metavar=("NAME", "TARGET"), help="also check NAME at TARGET"
    )
    h.set_defaults(run=health)

    s = sub.add_parser("serve", help="start, stop or inspect the local stack (embedded model included)")
    s.add_argument("action", choices=["start", "stop", "status"])
    s.set_defaults(run=serve)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args, sys.stdout)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
