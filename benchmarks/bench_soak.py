"""The soak benchmark: the deployment of tests/soak (3 proposer and 2 judge replicas, the moderator, 2
orchestrators, each a process) at a fixed open-loop rate, first fault-free, then for ten minutes in bad
weather: the LLM endpoint fails 10% of calls with HTTP 500, hangs on 5%, answers garbage to 2%, and one
proposer replica is frozen (SIGSTOP) from the first minute (or quarter, if shorter) to the end.

    .venv/bin/python benchmarks/bench_soak.py [--minutes 10] [--baseline-minutes 2] [--rate 5] \\
        [--latency 0.2] [--hedge p95] [--json PATH]

It reports, for the faulty run: failed requests (target 0), the share of answers that degraded (and how),
p50/p99 as ratios to the fault-free run of the same invocation (target p99 <= 2x), and the resident memory
of every smoa process after the first minute and at the end (target: flat). Both runs use fresh processes
and the same settings; `--hedge` sets SMOA_LLM_HEDGE_AFTER and SMOA_PEER_HEDGE_AFTER for both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from release_core import require_release_core

from smoa_testing.load.open_loop import Answer, open_loop
from smoa_testing.stacks.deployment import SETTINGS, Deployment, FaultyLLM

REQUEST = {"n": 4, "k": 2, "max_layers": 2}
FAULTS = {"error": 0.10, "hang": 0.05, "malformed": 0.02}
TIMEOUT_SECONDS = 15.0
TARGET_P99_RATIO = 2.0
FREEZE_AT_SECONDS = 60.0
RSS_EVERY_SECONDS = 10.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def sample_rss(stack: Deployment, every: float, into: dict[str, list[tuple[float, float]]]) -> None:
    started = time.monotonic()
    while True:
        for replica in stack.replicas():
            assert replica.process is not None
            name = f"{replica.service}@{replica.host}"
            into.setdefault(name, []).append((time.monotonic() - started, rss_mb(replica.process.pid)))
        await asyncio.sleep(every)


def latency_summary(answers: list[Answer]) -> dict[str, float]:
    ok = [a.latency * 1000 for a in answers if a.ok]
    if not ok:
        return {}
    return {f"p{q:g}_ms": percentile(ok, q) for q in (50, 90, 99, 99.9)} | {"max_ms": max(ok)}


def degradation_summary(answers: list[Answer]) -> dict[str, Any]:
    results = [a.result for a in answers if a.result is not None]
    stages: Counter[str] = Counter(stage for r in results for stage in {d.stage for d in r.degradations})
    lost = sum(len(layer.failures) for r in results for layer in r.layers)
    return {
        "answers": len(results),
        "degraded": sum(r.degraded for r in results),
        "share": sum(r.degraded for r in results) / len(results) if results else 0.0,
        "answers_by_stage": dict(stages),
        "proposers_lost": lost,
        "stop_reasons": dict(Counter(r.stop_reason.value for r in results)),
        "llm_calls_per_answer": sum(r.cost.total.calls for r in results) / len(results) if results else 0.0,
    }


def rss_summary(samples: dict[str, list[tuple[float, float]]], after: float) -> dict[str, Any]:
    """Per process: resident MB after the warm-up, half way from there, at the end, and once a minute."""
    found: dict[str, Any] = {}
    for name, series in sorted(samples.items()):
        settled = [(t, mb) for t, mb in series if t >= after] or series[-1:]
        start, middle, end = settled[0][1], settled[len(settled) // 2][1], settled[-1][1]
        found[name] = {
            "after_warmup_mb": start,
            "middle_mb": middle,
            "end_mb": end,
            "growth_mb": end - start,
            "second_half_growth_mb": end - middle,
            "per_minute_mb": [round(mb, 1) for t, mb in series if int(t) % 60 < RSS_EVERY_SECONDS],
        }
    return found


async def run_phase(
    name: str, logs: Path, args: argparse.Namespace, seconds: float, faults: dict[str, float], freeze: bool
) -> dict[str, Any]:
    llm = FaultyLLM(logs / f"{name}-llm.log", latency_seconds=args.latency, **faults)
    settings = dict(SETTINGS) | {"llm_hedge_after": args.hedge, "peer_hedge_after": args.hedge}
    (logs / name).mkdir(parents=True, exist_ok=True)
    stack = await Deployment(logs / name, llm, settings=settings).start()
    rss: dict[str, list[tuple[float, float]]] = {}
    sampler = asyncio.ensure_future(sample_rss(stack, RSS_EVERY_SECONDS, rss))
    frozen = stack.proposers[-1]
    freeze_at = min(FREEZE_AT_SECONDS, seconds / 4)
    actions = {freeze_at: lambda: frozen.signal(signal.SIGSTOP)} if freeze else {}
    frozen_note = f", a proposer frozen from {freeze_at:.0f}s" if freeze else ""
    print(f"{name}: {args.rate} req/s for {seconds:.0f}s, faults {faults or 'none'}{frozen_note}", flush=True)
    started = time.monotonic()
    try:
        answers = await open_loop(stack.target, args.rate, seconds, REQUEST, TIMEOUT_SECONDS, at=actions)
        seen = llm.stats()
    finally:
        sampler.cancel()
        if freeze:
            frozen.signal(signal.SIGCONT)
        await stack.stop()
        llm.stop()
    errors = Counter(f"{a.error.code}: {a.error.message[:120]}" for a in answers if a.error is not None)
    phase = {
        "seconds": time.monotonic() - started,
        "requests": len(answers),
        "failed": sum(not a.ok for a in answers),
        "errors": dict(errors),
        "latency": latency_summary(answers),
        "degradation": degradation_summary(answers),
        "llm_endpoint": seen,
        "rss": rss_summary(rss, after=min(60.0, seconds / 2)),
    }
    print(
        f"{name}: {phase['requests']} requests, {phase['failed']} failed, latency {phase['latency']}",
        flush=True,
    )
    return phase


def report(result: dict[str, Any]) -> str:
    base, bad = result["baseline"], result["faulty"]
    ratio = {q: bad["latency"][f"{q}_ms"] / base["latency"][f"{q}_ms"] for q in ("p50", "p99")}
    degradation = bad["degradation"]
    lines = [
        f"smoa soak benchmark, {result['date']}, {result['machine']}",
        f"command: {result['command']}",
        f"request: SMOA n=4 k=2 max_layers=2, {TIMEOUT_SECONDS:.0f}s client deadline, open loop at "
        f"{result['rate']} req/s; LLM latency {result['latency_seconds']}s; hedging {result['hedge']}",
        "",
        f"{'':28}{'fault-free':>14}{'faults + frozen':>18}",
        f"{'duration (s)':28}{base['seconds']:>14.0f}{bad['seconds']:>18.0f}",
        f"{'requests':28}{base['requests']:>14}{bad['requests']:>18}",
        f"{'failed (target 0)':28}{base['failed']:>14}{bad['failed']:>18}",
    ]
    for q in ("p50", "p90", "p99", "p99.9", "max"):
        lines.append(
            f"{q + ' latency (ms)':28}{base['latency'][f'{q}_ms']:>14.1f}{bad['latency'][f'{q}_ms']:>18.1f}"
        )
    lines += [
        "",
        f"p50 ratio faulty/fault-free: {ratio['p50']:.2f}x",
        f"p99 ratio faulty/fault-free: {ratio['p99']:.2f}x (target <= {TARGET_P99_RATIO:.0f}x: "
        f"{'met' if ratio['p99'] <= TARGET_P99_RATIO else 'NOT met'})",
        f"degraded answers: {degradation['degraded']} of {degradation['answers']} "
        f"({degradation['share'] * 100:.1f}%), by stage {degradation['answers_by_stage']}",
        f"proposers lost: {degradation['proposers_lost']}; stop reasons {degradation['stop_reasons']}; "
        f"LLM calls per answer {degradation['llm_calls_per_answer']:.1f} "
        f"(fault-free {base['degradation']['llm_calls_per_answer']:.1f})",
        f"faults the LLM endpoint injected: {bad['llm_endpoint']}",
        "",
        "resident memory of each process in the faulty run (MB): after the first minute -> half way -> end",
        "(growth in all; in the second half)",
    ]
    for name, mb in bad["rss"].items():
        lines.append(
            f"  {name:28}{mb['after_warmup_mb']:8.1f} -> {mb['middle_mb']:8.1f} -> {mb['end_mb']:8.1f} "
            f"({mb['growth_mb']:+.1f}; {mb['second_half_growth_mb']:+.1f})"
        )
    if bad["errors"]:
        lines += ["", "errors:", *[f"  [{n}] {e}" for e, n in bad["errors"].items()]]
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smoa-soak-") as tmp:
        logs = Path(args.logs or tmp)
        baseline = await run_phase("baseline", logs, args, args.baseline_minutes * 60, {}, freeze=False)
        faulty = await run_phase("faulty", logs, args, args.minutes * 60, FAULTS, freeze=True)
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {cpu_model()}",
        "command": " ".join(["benchmarks/bench_soak.py", *sys.argv[1:]]),
        "rate": args.rate,
        "latency_seconds": args.latency,
        "hedge": args.hedge,
        "baseline": baseline,
        "faulty": faulty,
    }


def main() -> int:
    if sys.argv[1:2] == ["--report"]:  # the text of a committed JSON result, again
        print(report(json.loads(Path(sys.argv[2]).read_text())), end="")
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="of the faulty run")
    parser.add_argument("--baseline-minutes", type=float, default=2.0, help="of the fault-free run")
    parser.add_argument("--rate", type=float, default=5.0, help="requests a second, open loop")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds every LLM reply takes")
    parser.add_argument("--hedge", default="p95", help="SMOA_LLM_HEDGE_AFTER and SMOA_PEER_HEDGE_AFTER")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--logs", help="keep the services' logs in this folder")
    args = parser.parse_args()
    require_release_core()
    result = asyncio.run(run(args))
    text = report(result)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        args.json.with_suffix(".txt").write_text(text)
    return 0 if result["faulty"]["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
