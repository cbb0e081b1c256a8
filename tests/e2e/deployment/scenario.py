"""The e2e's phases: a fault-free one, then one per fault, each a fresh pair of `smoa load` runs from this
machine through the published ports (gRPC against both orchestrator replicas, HTTP through the gateway)
with the fault injected a few seconds in and undone after the run, and the deployment healthy again
before the next phase. Beside the loads, an auditor asks the same question through the SDK once a
second and checks that every answer that lost a proposer, a judge or a moderator says so (`degraded`)."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from smoa import AsyncSmoaClient, GenerateOptions, Result
from tests.e2e.deployment.compose import ComposeProject
from tests.e2e.deployment.engine import Log
from tests.e2e.deployment.faults import Fault
from tests.e2e.deployment.figures import PhaseFigures, figures, latency, percentile, read_samples

SMOA = str(Path(sys.executable).with_name("smoa"))
# Every request of the loads and the auditor: SMoA, n proposers, k kept, at most this many layers.
N, K, LAYERS = 4, 2, 2
SHAPE = ["--mode", "smoa", "-n", str(N), "-k", str(K), "--layers", str(LAYERS)]


@dataclass(frozen=True)
class Load:
    rate: float  # requests per second, per door
    seconds: float  # of each phase
    inject_after: float  # seconds into the phase


@dataclass
class Doors:
    grpc_target: str  # every orchestrator replica's published port
    http_url: str  # the gateway's


@dataclass
class Audit:
    answers: int = 0
    unflagged: list[str] = field(default_factory=list)

    def check(self, result: Result) -> None:
        self.answers += 1
        for layer in result.layers:
            lost = (
                len(layer.candidates) < N
                or layer.failures
                or layer.judge_fallback
                or layer.moderator_fallback
            )
            if lost and not result.degraded:
                self.unflagged.append(
                    f"layer {layer.layer}: {len(layer.candidates)} of {N} proposals, not flagged"
                )


@dataclass
class Phase:
    name: str
    fault: Fault | None
    figures: list[PhaseFigures] = field(default_factory=list)
    injected_at: float | None = None  # epoch
    audit: Audit = field(default_factory=Audit)


def load_command(door: str, doors: Doors, load: Load, samples: Path, report: Path) -> list[str]:
    where = ["--target", doors.grpc_target] if door == "grpc" else ["--http", doors.http_url]
    return [
        SMOA,
        "load",
        *where,
        "--rate",
        str(load.rate),
        "--duration",
        f"{load.seconds}s",
        *SHAPE,
        "--timeout",
        "60",
        "--no-progress",
        "--samples",
        str(samples),
        "--json",
        str(report),
    ]


async def audit(doors: Doors, found: Audit, until: asyncio.Event) -> None:
    async with AsyncSmoaClient(doors.grpc_target, timeout=60) as client:
        while not until.is_set():
            try:
                found.check(
                    await client.generate("What is 6 x 7?", GenerateOptions(n=N, k=K, max_layers=LAYERS))
                )
            except Exception as e:  # a failed request shows in the loads' figures too
                found.unflagged.append(f"audit request failed: {e}")
            await asyncio.sleep(1.0)


async def run_phase(
    phase: Phase, doors: Doors, load: Load, out: Path, baseline_p99: dict[str, float], log: Log
) -> None:
    log(f"phase {phase.name}: {load.rate:g}/s per door for {load.seconds:g} s")
    paths = {
        door: (out / f"{phase.name}.{door}.jsonl", out / f"{phase.name}.{door}.json")
        for door in ("grpc", "http")
    }
    loads = [
        await asyncio.create_subprocess_exec(
            *load_command(door, doors, load, *paths[door]),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for door in paths
    ]
    stop_audit = asyncio.Event()
    auditor = asyncio.create_task(audit(doors, phase.audit, stop_audit))
    if phase.fault is not None:
        await asyncio.sleep(load.inject_after)
        phase.injected_at = time.time()
        await asyncio.to_thread(phase.fault.inject)
        log(f"phase {phase.name}: injected {phase.fault.describe()}")
    outputs = await asyncio.gather(*(p.communicate() for p in loads))
    stop_audit.set()
    await auditor
    for (door, (samples, _)), (printed, _) in zip(paths.items(), outputs, strict=True):
        if not samples.exists():
            raise RuntimeError(f"smoa load ({door}) wrote no samples:\n{printed.decode()}")
        lines = read_samples(samples)
        if phase.fault is None:  # the latest fault-free phase is what the others are held against
            baseline_p99[door] = percentile([latency(s) for s in lines], 99)
        phase.figures.append(
            figures(
                lines,
                door=door,
                fault=phase.name,
                baseline_p99=baseline_p99[door],
                injected_epoch=phase.injected_at,
                ended_epoch=max(float(s["due_epoch"]) for s in lines),
            )
        )


async def run_phases(
    project: ComposeProject,
    phases: list[Phase],
    doors: Doors,
    load: Load,
    out: Path,
    log: Log,
    heal_timeout: float = 240,
) -> None:
    baseline_p99: dict[str, float] = {}
    for phase in phases:
        try:
            await run_phase(phase, doors, load, out, baseline_p99, log)
        finally:
            if phase.fault is not None:
                await asyncio.to_thread(phase.fault.heal)
                started = time.monotonic()
                await asyncio.to_thread(project.wait_healthy, heal_timeout)
                log(f"phase {phase.name}: healed, healthy again in {time.monotonic() - started:.0f} s")
