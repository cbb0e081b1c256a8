"""SMoA's promise, measured as n grows: one `smoa eval` run per n against the running stack, then one
report of every system at every n, each against dense MoA on the same items (paired), with the issue's
targets checked, and a plot of tokens and accuracy against n.

    .venv/bin/python benchmarks/scaling_study.py --out DIR [--ns 3,4,6,8] [--dataset basics:100]
        [--systems single,moa,smoa,smoa-fused,auto] [--layers 2] [-k 2] [--max-tokens 128]
        [--target HOST:PORT] [--report-only] [-- MORE SMOA EVAL FLAGS]

Flags after `--` go to every `smoa eval` run as they are (e.g. `--proposer-backends a,b,c,d
--concurrency 8 --judge-model gpt-4o` for real models).

Each run is resumable (`smoa eval` appends as items finish), so an interrupted study continues where it
stopped; --report-only rebuilds the report from what is there. Pointing the services at real models
(README, "Evaluating") needs no change here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Targets of issue 11, against dense MoA on the same items.
TOKEN_TARGETS = {4: 0.5, 8: 0.3}
LATENCY_TARGET = 0.6


@dataclass(frozen=True)
class Versus:
    """`system` against MoA: token ratio (system/MoA) with its interval, McNemar p, accuracy points."""

    tokens: float
    low: float
    high: float
    quality_p: float
    points: float
    items: int


def versus(dataset: dict[str, Any], system: str, other: str = "moa") -> Versus | None:
    for c in dataset["comparisons"]:
        pair = (c["first"], c["second"])
        if pair not in ((system, other), (other, system)):
            continue
        ratio, diff = c["token_ratio"], c["quality_difference"]
        if pair == (system, other):
            return Versus(
                ratio["estimate"], ratio["low"], ratio["high"], c["quality_p"], diff["estimate"], c["items"]
            )
        # The other way round: invert the ratio (and its interval) and the difference.
        return Versus(
            1 / ratio["estimate"],
            1 / ratio["high"],
            1 / ratio["low"],
            c["quality_p"],
            -diff["estimate"],
            c["items"],
        )
    return None


def run_eval(args: argparse.Namespace, n: int) -> None:
    command = [
        sys.executable, "-m", "smoa.cli", "--target", args.target, "eval",
        "--dataset", args.dataset, "--systems", args.systems, "-n", str(n), "-k", str(args.k),
        "--layers", str(args.layers), "--max-tokens", str(args.max_tokens), "--concurrency", "1",
        "--seed", "1", "--no-progress", "--out", str(args.out / f"n{n}"), *args.eval_flags,
    ]  # fmt: skip
    print("$", " ".join(command[2:]), flush=True)
    subprocess.run(command, check=False)


def load(out: Path, n: int) -> list[dict[str, Any]]:
    """Every dataset of the run at n, or none when it has not finished an item yet."""
    path = out / f"n{n}" / "summary.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text())["datasets"])


def runs(out: Path, ns: list[int]) -> list[tuple[int, dict[str, Any]]]:
    """(n, dataset) for every finished run, dataset by dataset."""
    found = [(n, d) for n in ns for d in load(out, n)]
    return sorted(found, key=lambda pair: (pair[1]["dataset"], pair[0]))


def percent(interval: dict[str, float]) -> str:
    return f"{100 * interval['estimate']:.0f} [{100 * interval['low']:.0f}, {100 * interval['high']:.0f}]"


def fmt_ratio(v: Versus | None) -> str:
    return "-" if v is None else f"{v.tokens:.2f} [{v.low:.2f}, {v.high:.2f}]"


def report(out: Path, ns: list[int], systems: list[str]) -> str:
    lines = ["# SMoA against dense MoA as n grows", ""]
    lines += [
        "| dataset | n | system | items | accuracy % [95% CI] | tokens/item | tokens vs MoA [95% CI] "
        "| accuracy vs MoA, points (McNemar p) | LLM calls | p50 / p95 s | p50 vs MoA "
        "| stop reasons | steps |",
        "|---|---:|---|---:|---|---:|---|---|---:|---|---:|---|---|",
    ]
    checks: list[str] = []
    found = runs(out, ns)
    for n, dataset in found:
        moa = dataset["systems"].get("moa")
        for system in systems:
            s = dataset["systems"].get(system)
            if s is None:
                continue
            acc = s["accuracy"]
            accuracy = (
                "-"
                if acc is None
                else f"{100 * acc['estimate']:.0f} [{100 * acc['low']:.0f}, {100 * acc['high']:.0f}]"
            )
            v = None if system == "moa" else versus(dataset, system)
            quality = "-" if v is None else f"{100 * v.points:+.0f} (p = {v.quality_p:.2f})"
            latency = (
                "-" if moa is None or system == "moa" else f"{s['latency_p50'] / moa['latency_p50']:.2f}"
            )
            stops = ", ".join(f"{k} {c}" for k, c in s["stop_reasons"].items())
            steps = ", ".join(f"{k} {c}" for k, c in s.get("steps", {}).items()) or "-"
            tokens = f"{s['tokens']['estimate']:.0f}"
            seconds = f"{s['latency_p50']:.1f} / {s['latency_p95']:.1f}"
            cells = [dataset["dataset"], str(n), system, str(s["items"]), accuracy, tokens]
            cells += [fmt_ratio(v), quality]
            cells += [f"{s['calls']:.1f}", seconds, latency, stops, steps]
            lines.append("| " + " | ".join(cells) + " |")
        checks += targets(n, dataset)
    lines += ["", "## Targets", "", *(checks or ["(no run finished)"])]
    lines += ["", *by_role(found, systems), "", *skips(found)]
    return "\n".join(lines) + "\n"


def by_role(found: list[tuple[int, dict[str, Any]]], systems: list[str]) -> list[str]:
    """Where the tokens go: what still dominates SMoA's cost once the skips have done their part."""
    roles = ("proposer", "judge", "moderator", "aggregator")
    lines = [
        "## Tokens per item by role (input + output)",
        "",
        "| dataset | n | system | " + " | ".join(roles) + " |",
        "|---|---:|---|" + "---:|" * len(roles),
    ]
    for n, dataset in found:
        for system in systems:
            s = dataset["systems"].get(system)
            if s is None or system == "single":
                continue
            used = s.get("by_role", {})
            cells = [
                f"{u['input_tokens'] + u['output_tokens']:.0f}" if (u := used.get(role)) else "-"
                for role in roles
            ]
            lines.append(f"| {dataset['dataset']} | {n} | {system} | " + " | ".join(cells) + " |")
    return lines


def skips(found: list[tuple[int, dict[str, Any]]]) -> list[str]:
    """The skips on and off: each system against its -full twin (every call made), on the same items."""
    lines = ["## Skips on against off (the -full systems make every call)", ""]
    for n, dataset in found:
        for system in ("smoa", "smoa-fused"):
            v = versus(dataset, system, f"{system}-full")
            if v is None:
                continue
            steps = dataset["systems"][system].get("steps", {})
            fired = ", ".join(f"{k} {c}" for k, c in steps.items()) or "never fired"
            lines.append(
                f"- {dataset['dataset']}, n={n}: {system} {v.tokens:.2f}x the tokens of {system}-full "
                f"[{v.low:.2f}, {v.high:.2f}], accuracy {100 * v.points:+.0f} points "
                f"(McNemar p = {v.quality_p:.2f}); skips on {v.items} items: {fired}"
            )
    return lines if len(lines) > 2 else []


def targets(n: int, dataset: dict[str, Any]) -> list[str]:
    found: list[str] = []
    where = f"{dataset['dataset']}, n={n}"
    moa = dataset["systems"].get("moa")
    for system in ("smoa", "smoa-fused"):
        sparse, v = dataset["systems"].get(system), versus(dataset, system)
        if v is not None and n in TOKEN_TARGETS:
            met = "met" if v.tokens <= TOKEN_TARGETS[n] else "MISSED"
            found.append(
                f"- {where}: {system} tokens {v.tokens:.2f}x MoA's (target <= {TOKEN_TARGETS[n]}x): {met}"
            )
        if sparse is not None and moa is not None:
            ratio = sparse["latency_p50"] / moa["latency_p50"]
            met = "met" if ratio <= LATENCY_TARGET else "MISSED"
            found.append(
                f"- {where}: {system} p50 latency {ratio:.2f}x MoA's (target <= {LATENCY_TARGET}x): {met}"
            )
        if v is not None and sparse is not None and sparse["accuracy"] is not None:
            below = v.points < 0 and v.quality_p < 0.05
            found.append(
                f"- {where}: {system} accuracy vs MoA {100 * v.points:+.0f} points, "
                f"McNemar p = {v.quality_p:.2f}: "
                + ("BELOW beyond noise" if below else "not below beyond noise")
            )
    auto = versus(dataset, "auto", "smoa")
    if auto is not None:
        below = auto.points < 0 and auto.quality_p < 0.05
        found.append(
            f"- {where}: AUTO vs SMoA: accuracy {100 * auto.points:+.0f} points (p = {auto.quality_p:.2f}, "
            f"{'BELOW' if below else 'within noise or above'}), tokens {auto.tokens:.2f}x "
            f"({'met' if auto.tokens <= 1 else 'MISSED'})"
        )
    return found


def plot(out: Path, ns: list[int], systems: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # The first dataset of each run: the plot is of the main set (the report has every one).
    found = {n: datasets[0] for n in ns if (datasets := load(out, n))}
    figure, (tokens, accuracy) = plt.subplots(1, 2, figsize=(11, 4))
    for system in systems:
        points = [(n, d["systems"][system]) for n, d in found.items() if system in d["systems"]]
        if not points:
            continue
        tokens.plot(
            [n for n, _ in points], [s["tokens"]["estimate"] for _, s in points], marker="o", label=system
        )
        graded = [(n, s["accuracy"]) for n, s in points if s["accuracy"] is not None]
        accuracy.errorbar(
            [n for n, _ in graded],
            [100 * a["estimate"] for _, a in graded],
            yerr=[
                [100 * (a["estimate"] - a["low"]) for _, a in graded],
                [100 * (a["high"] - a["estimate"]) for _, a in graded],
            ],
            marker="o",
            capsize=3,
            label=system,
        )
    tokens.set(xlabel="n (proposers per layer)", ylabel="tokens per item", title="Tokens")
    accuracy.set(xlabel="n (proposers per layer)", ylabel="accuracy % (95% CI)", title="Accuracy")
    tokens.legend()
    figure.tight_layout()
    figure.savefig(out / "scaling.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ns", default="3,4,6,8")
    parser.add_argument("--dataset", default="basics:100")
    parser.add_argument("--systems", default="single,moa,smoa,smoa-fused,auto")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("-k", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("eval_flags", nargs=argparse.REMAINDER, help="after --: more smoa eval flags")
    args = parser.parse_args()
    args.eval_flags = [f for f in args.eval_flags if f != "--"]
    ns = [int(n) for n in args.ns.split(",")]
    systems = [s.strip() for s in args.systems.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        for n in ns:
            run_eval(args, n)
    (args.out / "report.md").write_text(report(args.out, ns, systems))
    plot(args.out, ns, systems)
    print((args.out / "report.md").read_text())


if __name__ == "__main__":
    main()
