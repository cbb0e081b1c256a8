"""The whole local stack as background processes: the embedded model server, the four services and the
OpenAI-compatible gateway.

    python -m smoa_services.stack start    # start what is not running, wait until every part is healthy
    python -m smoa_services.stack status
    python -m smoa_services.stack stop     # SIGTERM each part (services drain), then wait

Process ids and logs live in .run/ (SMOA_RUN_DIR). Ports are the defaults (model 8080, orchestrator
50051, proposer 50052, judge 50053, moderator 50054, gateway 8000); the stack is reachable after this
command exits.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smoa_services.config import DEFAULT_PORTS


@dataclass(frozen=True)
class Part:
    name: str
    command: list[str]
    port: int
    # HTTP parts: the path that answers 200 when the part is ready; gRPC parts ("") are asked the standard
    # health service.
    http_ready: str = ""

    def healthy(self) -> bool:
        if self.http_ready:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{self.http_ready}", timeout=2) as r:
                    return bool(r.status == 200)
            except (urllib.error.URLError, OSError):
                return False
        try:
            with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
        except grpc.RpcError:
            return False


# No load balancer watches a local stack's health, so its drain need not wait for one.
LOCAL = ["--drain-delay-seconds", "0"]
# The embedded model answers as many requests at once as it has workers (one per CPU): the proposers
# beyond them queue, and a proposer's lateness is its place in that queue, not slowness, so the stragglers
# of a layer are waited for (see README, "Failures and degradation").
EMBEDDED_QUEUE = ["--straggler-wait-factor", "4", "--straggler-max-wait-seconds", "120"]


def parts() -> list[Part]:
    model_port = int(os.environ.get("SMOA_EMBEDDED_PORT", "8080"))
    model = [sys.executable, "-m", "smoa_services.llm.embedded", "--port", str(model_port)]
    services = [
        Part(name, [sys.executable, "-m", f"smoa_services.{name}", "--port", str(port), *LOCAL], port)
        for name, port in DEFAULT_PORTS.items()
        if name not in ("orchestrator", "gateway")
    ]
    orchestrator = DEFAULT_PORTS["orchestrator"]
    front = Part(
        "orchestrator",
        [
            sys.executable,
            "-m",
            "smoa_services.orchestrator",
            "--port",
            str(orchestrator),
            *LOCAL,
            *EMBEDDED_QUEUE,
        ],
        orchestrator,
    )
    gateway = DEFAULT_PORTS["gateway"]
    # Ready when the orchestrator behind it answers SERVING.
    door = Part(
        "gateway",
        [sys.executable, "-m", "smoa_services.gateway", "--port", str(gateway), *LOCAL],
        gateway,
        http_ready="/readyz",
    )
    return [Part("model", model, model_port, http_ready="/v1/models"), *services, front, door]


def run_dir() -> Path:
    return Path(os.environ.get("SMOA_RUN_DIR", ".run"))


def pid_of(part: Part) -> int | None:
    path = run_dir() / f"{part.name}.pid"
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def start(timeout: float) -> int:
    run_dir().mkdir(parents=True, exist_ok=True)
    for part in parts():
        if pid_of(part) is not None:
            print(f"{part.name:13} already running (pid {pid_of(part)})")
            continue
        log = open(run_dir() / f"{part.name}.log", "ab")  # noqa: SIM115 - the child keeps it
        # A session of its own: the stack outlives this command and the terminal that ran it.
        process = subprocess.Popen(part.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        (run_dir() / f"{part.name}.pid").write_text(str(process.pid))
        log_path = run_dir() / f"{part.name}.log"
        print(f"{part.name:13} started (pid {process.pid}, port {part.port}, log {log_path})")
    deadline = time.monotonic() + timeout
    pending = parts()
    while pending and time.monotonic() < deadline:
        for part in list(pending):
            if pid_of(part) is None:
                print(f"{part.name} exited; see {run_dir() / (part.name + '.log')}", file=sys.stderr)
                return 1
            if part.healthy():
                print(f"{part.name:13} healthy")
                pending.remove(part)
        time.sleep(0.3)
    if pending:
        print(f"not healthy after {timeout:.0f}s: {', '.join(p.name for p in pending)}", file=sys.stderr)
        return 1
    return 0


def stop(timeout: float) -> int:
    for part in reversed(parts()):
        pid = pid_of(part)
        if pid is None:
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_of(part) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_of(part) is not None:
            os.kill(pid, signal.SIGKILL)
        (run_dir() / f"{part.name}.pid").unlink(missing_ok=True)
        print(f"{part.name:13} stopped")
    return 0


def status() -> int:
    for part in parts():
        pid = pid_of(part)
        state = "healthy" if pid and part.healthy() else ("running" if pid else "stopped")
        print(f"{part.name:13} {state}" + (f" (pid {pid}, port {part.port})" if pid else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for health / drain")
    args = parser.parse_args(argv)
    if args.action == "start":
        return start(args.timeout)
    if args.action == "stop":
        return stop(min(args.timeout, 30.0))
    return status()


if __name__ == "__main__":
    raise SystemExit(main())
