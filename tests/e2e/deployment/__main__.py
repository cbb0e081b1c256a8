"""`make e2e`: the compose deployment on a real engine, started and broken from outside.

    python -m tests.e2e.deployment [--results DIR] [--rate 4] [--phase-seconds 30] [--keep]

1. An engine: the one running, else Debian's dockerd in a network namespace of its own (engine.py).
2. The image, by `make image-offline` (the host's wheelhouse on a base made from Debian's packages).
3. docker-compose.yml with docker-compose.e2e.yml: 3 proposers, 2 judges, 2 orchestrators, the moderator,
   the gateway, the embedded model and the fault-injecting endpoint; every container healthy.
4. Checks the real engine answers: the containers run as UID 10001 on a read-only root, a replica count
   per service, one smoke request on the embedded model, and the conformance cases (tests/conformance)
   through both doors.
5. The phases (scenario.py): fault-free, then kill a proposer, pause another, stop an orchestrator (the
   drain), a slow lossy link to a proposer, a judge cut off; `smoa load` over gRPC and over HTTP
   through the published ports for each. Expected: no request fails, every degraded answer says so,
   NOT_SERVING before the stopped orchestrator's port closes, the paused replica out of rotation.
6. The secured variant (docker-compose.secure.yml on top, trial secrets): healthy, a token's call passes
   over TLS and a stranger's is refused.
7. Everything it started stopped and removed, within --time-limit whatever happens.

The figures go to DIR (e2e.json, e2e.txt and the raw samples). Exit 0 when every expectation held or
when no engine can run here (the last line then says why), 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
import openai

from smoa import TLS, AsyncSmoaClient, GenerateOptions, ModelSettings, SmoaClient, SmoaError
from tests.conformance.cases import CASES, outcomes
from tests.conformance.doors import GrpcDoor, HttpDoor
from tests.e2e.deployment.compose import E2E_FILE, ROOT, ComposeProject
from tests.e2e.deployment.engine import Engine, EngineUnavailable, find_or_start
from tests.e2e.deployment.faults import Kill, Partition, Pause, SlowLink, Stop
from tests.e2e.deployment.report import Report
from tests.e2e.deployment.scenario import Doors, Load, Phase, run_phases

REPLICAS = {"orchestrator": 2, "proposer": 3, "judge": 2, "moderator": 1, "gateway": 1, "model": 1, "llm": 1}
ORCHESTRATOR_PORTS = "50051-50052"
UID = "10001"
IMAGE = "smoa:0.1.0"


class TimeLimit(Exception):
    pass


def logger(path: Path) -> Any:
    started = time.monotonic()
    sink = path.open("a")

    def log(message: str) -> None:
        line = f"[{time.monotonic() - started:6.0f}s] {message}"
        print(line, flush=True)
        sink.write(line + "\n")
        sink.flush()

    return log


def build_image(engine: Engine, log: Any) -> float:
    started = time.monotonic()
    done = subprocess.run(
        ["make", "--no-print-directory", "image-offline", f"DOCKER={' '.join(engine.docker)}"],
        cwd=ROOT,
        env={**os.environ, **engine.env},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"make image-offline failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    took = time.monotonic() - started
    log(f"image: make image-offline in {took:.0f} s")
    return took


# What must never reach the image's build: local state, builds of this machine, secrets, and the parts of
# the repository no image needs.
LOCAL_FOLDERS = {
    ".git",
    "target",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
}
NOT_FOR_THE_IMAGE = {"tests", "benchmarks", "deploy", ".ci", ".run"}


def kept_out(path: str) -> bool:
    parts = path.split("/")
    return (
        parts[0] in NOT_FOR_THE_IMAGE
        or bool(LOCAL_FOLDERS.intersection(parts[:-1]))
        or any(p.startswith(".venv") or p.endswith(".egg-info") for p in parts)
        or path.endswith((".so", ".pyc"))
        or parts[-1] == ".env"
    )


def check_build_context(engine: Engine, report: Report, image: str) -> None:
    """What `docker build .` sends, as the engine applies the real .dockerignore: nothing local, built or
    secret, and every tracked file of what the Dockerfile copies."""
    probe = f"FROM {image}\nUSER 0\nCOPY . /context\n"
    build = [*engine.docker, "build", "--quiet", "--tag", "smoa-e2e-context", "--file", "-", "."]
    env = {**os.environ, **engine.env}
    built = subprocess.run(build, input=probe, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    report.expect(built.returncode == 0, f"the build context copies {built.stderr.strip()[-200:]}".strip())
    if built.returncode != 0:
        return
    listed = engine.run("run", "--rm", "--entrypoint", "find", "smoa-e2e-context", "/context", "-type", "f")
    engine.run("rmi", "smoa-e2e-context", check=False)
    sent = {line.removeprefix("/context/") for line in listed.stdout.splitlines()}
    leaked = sorted(p for p in sent if kept_out(p))
    report.expect(not leaked, f"the build context holds nothing local, built or secret ({leaked[:5]})")
    copied = ["clients", "services", "smoa_core_rs", "Cargo.toml", "Cargo.lock", "pyproject.toml"]
    listing = subprocess.run(
        ["git", "ls-files", *copied], cwd=ROOT, capture_output=True, text=True, check=True
    )
    tracked = listing.stdout.split()
    missing = sorted(set(tracked) - sent)
    report.expect(
        bool(tracked) and not missing, f"every tracked file the Dockerfile copies is sent ({missing[:5]})"
    )
    wheels = [p for p in sent if p.startswith("build/wheelhouse/") and p.endswith(".whl")]
    report.expect(bool(wheels), f"the host's wheelhouse is sent ({len(wheels)} wheels)")


def check_containers(project: ComposeProject, report: Report) -> None:
    for service, count in REPLICAS.items():
        found = len(project.containers(service))
        report.expect(found == count, f"{service}: {found} replicas running, {count} asked for")
    orchestrator = project.containers("orchestrator")[0]
    uid = project.engine.run("exec", orchestrator, "id", "-u").stdout.strip()
    report.expect(uid == UID, f"containers run as UID {uid} (the image's user is {UID})")
    wrote = project.engine.run("exec", orchestrator, "touch", "/opt/smoa/x", check=False)
    report.expect(wrote.returncode != 0, "the root filesystem is read-only")


def smoke(doors: Doors, report: Report, log: Any) -> None:
    """One request on the embedded model (the named backend the e2e file sets), as a new user's first."""
    started = time.monotonic()
    options = GenerateOptions(
        n=3, k=2, max_layers=1, seed=1, model=ModelSettings(backend="embedded", max_tokens=48)
    )
    with SmoaClient(doors.grpc_target, timeout=300) as client:
        result = client.generate("What is 6 x 7?", options)
    took = time.monotonic() - started
    log(f"smoke: the embedded model answered in {took:.1f} s: {result.text[:80]!r}")
    report.smoke = {
        "seconds": took,
        "text": result.text,
        "model": result.model,
        "calls": result.cost.total.calls,
        "degraded": result.degraded,
        "stop_reason": result.stop_reason.name,
    }
    report.expect(bool(result.text.strip()), "the embedded model's smoke answer is not empty")


def conformance(doors: Doors, report: Report, log: Any) -> None:
    """The conformance cases (tests/conformance) through both doors of the deployment."""

    async def check() -> None:
        async with AsyncSmoaClient(doors.grpc_target, timeout=120) as client:
            url = f"{doors.http_url}/v1"
            http = openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0, timeout=120)
            async for outcome in outcomes([GrpcDoor(client), HttpDoor(http)], list(CASES)):
                log(f"conformance: {outcome.door} {outcome.case}: {outcome.error or 'ok'}")
                report.expect(outcome.error is None, f"conformance {outcome.door}: {outcome.case}")

    asyncio.run(check())


def secured(engine: Engine, report: Report, log: Any) -> None:
    """docker-compose.secure.yml on top: healthy, a token passes over TLS, a stranger does not."""
    with tempfile.TemporaryDirectory(prefix="smoa-e2e-secrets-") as folder:
        secrets = Path(folder)
        subprocess.run([sys.executable, str(ROOT / "deploy" / "make_secrets.py"), str(secrets)], check=True)
        secrets.chmod(0o755)  # the containers' user reads the bind-mounted files
        project = ComposeProject(
            engine,
            [ROOT / "docker-compose.yml", E2E_FILE, ROOT / "docker-compose.secure.yml"],
            name="smoa-e2e-secure",
            env={"SMOA_ORCHESTRATOR_PORT": ORCHESTRATOR_PORTS, "SMOA_SECRETS_DIR": str(secrets)},
        )
        try:
            took = project.up(log)
            report.secure["healthy_after_s"] = took
            token = (secrets / "front-door.tokens").read_text().split()[1]
            tls = TLS(secrets / "ca.crt", server_name="orchestrator")
            target = f"{engine.address}:{ORCHESTRATOR_PORTS.split('-')[0]}"
            with SmoaClient(target, tls=tls, token=token, timeout=60) as client:
                answer = client.generate("What is 6 x 7?", n=2, k=1, max_layers=1)
            report.expect(bool(answer.text), "secured: a token's Generate over TLS answers")
            refused = ""
            try:
                with SmoaClient(target, tls=tls, timeout=60) as client:
                    client.generate("What is 6 x 7?", n=2, k=1, max_layers=1)
            except SmoaError as e:
                refused = e.code
            report.secure["stranger"] = refused or "answered"
            report.expect(
                refused == "UNAUTHENTICATED", f"secured: a call without a token is refused ({refused})"
            )
        except RuntimeError as e:
            report.expect(False, f"secured: {e}")
        finally:
            project.down(log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=Path, default=ROOT / ".run" / "e2e")
    parser.add_argument("--rate", type=float, default=4.0, help="requests per second, per door")
    parser.add_argument("--phase-seconds", type=float, default=30.0)
    parser.add_argument("--inject-after", type=float, default=5.0, help="seconds into each fault's phase")
    parser.add_argument("--time-limit", type=float, default=1800.0, help="seconds, everything included")
    parser.add_argument("--keep", action="store_true", help="leave the deployment and the engine running")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print(
            "make e2e: skipped: the faults are injected from outside the containers (nsenter, iptables), "
            "which needs root"
        )
        return 0
    args.results.mkdir(parents=True, exist_ok=True)
    log = logger(args.results / "e2e.log")

    def expired(_signum: int, _frame: FrameType | None) -> None:
        raise TimeLimit(f"the e2e ran past its time limit of {args.time_limit:.0f} s")

    signal.signal(signal.SIGALRM, expired)
    signal.alarm(int(args.time_limit))
    started = time.monotonic()
    try:
        engine = find_or_start(log)
    except EngineUnavailable as e:
        signal.alarm(0)
        print(f"make e2e: skipped: {e}")
        return 0
    report = Report(started=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
    project = ComposeProject(
        engine, [ROOT / "docker-compose.yml", E2E_FILE], env={"SMOA_ORCHESTRATOR_PORT": ORCHESTRATOR_PORTS}
    )
    try:
        report.timings["image_s"] = build_image(engine, log)
        check_build_context(engine, report, IMAGE)
        project.down(log)  # what an interrupted run left
        report.timings["compose_up_s"] = project.up(log)
        check_containers(project, report)
        orchestrators = project.containers("orchestrator")
        ports = [project.published(c, 50051) for c in orchestrators]
        doors = Doors(
            grpc_target="ipv4:" + ",".join(f"{engine.address}:{p}" for p in ports),
            http_url=f"http://{engine.address}:{project.published(project.containers('gateway')[0], 8000)}",
        )
        smoke(doors, report, log)
        conformance(doors, report, log)
        proposers, judges = project.containers("proposer"), project.containers("judge")
        phases = [
            Phase("warm-up", None),
            Phase("fault-free", None),
            Phase("kill-proposer", Kill(engine, proposers[0])),
            Phase("pause-proposer", Pause(engine, proposers[1])),
            Phase("stop-orchestrator", Stop(engine, orchestrators[0], f"{engine.address}:{ports[0]}")),
            Phase("slow-link-proposer", SlowLink(engine, proposers[2])),
            Phase("partition-judge", Partition(engine, judges[0])),
        ]
        load = Load(args.rate, args.phase_seconds, args.inject_after)
        asyncio.run(run_phases(project, phases, doors, load, args.results, log))
        report.add_phases(phases[1:])  # the warm-up sets the baseline only after it, and is not reported
        project.down(log)
        secured(engine, report, log)
    except (TimeLimit, RuntimeError, subprocess.SubprocessError, grpc.RpcError, OSError) as e:
        report.expect(False, f"the e2e stopped: {type(e).__name__}: {e}")
    finally:
        signal.alarm(0)
        if not args.keep:
            project.down(log)
            engine.stop(log)
    report.timings["total_s"] = time.monotonic() - started
    (args.results / "e2e.json").write_text(json.dumps(report.as_json(), indent=2) + "\n")
    text = report.text()
    (args.results / "e2e.txt").write_text(text)
    print(text, end="")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
