"""The library behind `smoa eval`: load the items, run every system on each (resuming what an earlier run
finished), then write the report.

    import asyncio
    from pathlib import Path
    from smoa.eval import Evaluation, EvalSettings, evaluate

    evaluation = Evaluation(datasets=[("gsm8k", 30)], out=Path("eval-out"),
                            systems=("single", "moa", "smoa"), settings=EvalSettings(n=4, k=2))
    report = asyncio.run(evaluate(evaluation))
    print(report.markdown_path.read_text())
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smoa.connection import DEFAULT_TARGET
from smoa.eval import datasets
from smoa.eval.item import Grading, Item
from smoa.eval.judge import DEFAULT_MAX_TOKENS, MtBenchRater
from smoa.eval.orchestrator_call import OrchestratorAnswers
from smoa.eval.plots import plot_all
from smoa.eval.record import ItemResult
from smoa.eval.report import markdown
from smoa.eval.results_file import ResultsFile
from smoa.eval.runner import Answers, Rates, pending, run_pairs
from smoa.eval.summary import DatasetSummary, summarize, summary_json
from smoa.eval.systems import DEFAULT_SYSTEMS, EvalSettings, parse_systems

# The embedded model server the local stack starts (smoa_services.config's defaults).
EMBEDDED_BASE_URL = "http://127.0.0.1:8080/v1"
EMBEDDED_MODEL = "smollm2-135m"
SUMMARY = "summary.json"
REPORT = "report.md"


@dataclass(frozen=True)
class Evaluation:
    # (built-in name or JSONL path, limit or None for all).
    datasets: Sequence[tuple[str, int | None]]
    out: Path
    systems: Sequence[str] = DEFAULT_SYSTEMS
    target: str = DEFAULT_TARGET
    settings: EvalSettings = field(default_factory=EvalSettings)
    judge_base_url: str = EMBEDDED_BASE_URL
    judge_model: str = EMBEDDED_MODEL
    judge_max_tokens: int = DEFAULT_MAX_TOKENS
    concurrency: int = 1
    # Tries again after an UNAVAILABLE generation before recording it as failed.
    retries: int = 1

    def items(self) -> list[Item]:
        found = [item for name, limit in self.datasets for item in datasets.load(name, limit)]
        seen: set[tuple[str, str]] = set()
        for item in found:
            if (item.dataset, item.id) in seen:
                raise ValueError(f"datasets: {item.dataset}/{item.id} is listed twice")
            seen.add((item.dataset, item.id))
        return found

    def fingerprint(self, judged: bool) -> dict[str, Any]:
        """What changes the answers or their scores; a rerun must match it to continue."""
        found: dict[str, Any] = {k: v for k, v in asdict(self.settings).items() if k != "timeout"}
        if judged:
            found |= {"judge_base_url": self.judge_base_url, "judge_model": self.judge_model,
                      "judge_max_tokens": self.judge_max_tokens}  # fmt: skip
        return found


@dataclass(frozen=True)
class Report:
    directory: Path
    results: list[ItemResult]
    summaries: list[DatasetSummary]

    @property
    def markdown_path(self) -> Path:
        return self.directory / REPORT

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if not r.ok)


def write_report(directory: Path, systems: Sequence[str] | None = None, seed: int = 0) -> Report:
    """report.md, summary.json and the plots from what results.jsonl holds (also after an interrupted run)."""
    results = ResultsFile(directory).read()
    names = list(systems) if systems else list(dict.fromkeys(r.system for r in results))
    chosen = [r for r in results if r.system in names]
    summaries = summarize(chosen, names, seed=seed)
    run = directory / "run.json"
    settings = json.loads(run.read_text(encoding="utf-8")) if run.exists() else {}
    plots = {d.dataset: plot_all(d, directory) for d in summaries}
    (directory / SUMMARY).write_text(
        json.dumps(summary_json(summaries, settings), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (directory / REPORT).write_text(markdown(summaries, settings, plots), encoding="utf-8")
    return Report(directory, chosen, summaries)


@dataclass
class RunPlan:
    """What a run will do, before it does it (for the progress bar and the command's first line)."""

    items: list[Item]
    total: int
    already: int


async def evaluate(
    evaluation: Evaluation,
    *,
    on_start: Callable[[RunPlan], None] | None = None,
    on_result: Callable[[ItemResult], None] | None = None,
    answers: Answers | None = None,
    judge: Rates | None = None,
) -> Report:
    """Runs what is not finished yet and writes the report. `answers` and `judge` replace the orchestrator
    and the LLM judge (tests, other transports); by default they are opened from `evaluation`."""
    systems = parse_systems(",".join(evaluation.systems))
    items = evaluation.items()
    judged = any(item.grading is Grading.JUDGED for item in items)
    results = ResultsFile(evaluation.out)
    results.claim(evaluation.fingerprint(judged))
    pairs = pending(items, systems, results.finished())
    plan = RunPlan(items, len(items) * len(systems), len(items) * len(systems) - len(pairs))
    if on_start is not None:
        on_start(plan)
    opened_judge: MtBenchRater | None = None
    if judge is None and judged and pairs:
        judge = opened_judge = MtBenchRater(
            evaluation.judge_base_url, evaluation.judge_model, max_tokens=evaluation.judge_max_tokens
        )
    try:
        if answers is not None:
            await run_pairs(
                pairs, answers, judge, results, evaluation.concurrency, on_result, evaluation.retries
            )
        elif pairs:
            async with OrchestratorAnswers(evaluation.target, evaluation.settings) as orchestrator:
                await orchestrator.check()
                await run_pairs(
                    pairs, orchestrator, judge, results, evaluation.concurrency, on_result, evaluation.retries
                )
    finally:
        if opened_judge is not None:
            await opened_judge.close()
    return write_report(evaluation.out, [s.name for s in systems], evaluation.settings.seed)
