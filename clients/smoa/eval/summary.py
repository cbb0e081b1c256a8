"""From per-item results to what the report says: per dataset and system, quality with its interval,
cost and latency; per pair of systems, on the items both finished, whether the quality difference is
beyond noise and what one spends relative to the other."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smoa.eval import statistics as st
from smoa.eval.item import Grading
from smoa.eval.record import ItemResult

# A difference with p below this is reported as beyond noise.
ALPHA = 0.05


@dataclass(frozen=True)
class RoleCost:
    """Means per item."""

    calls: float
    input_tokens: float
    output_tokens: float


@dataclass(frozen=True)
class SystemSummary:
    system: str
    # Items answered, and generations that failed (not in any number below).
    items: int
    errors: int
    # EXACT / CHOICE: share answered right, Wilson interval.
    accuracy: st.Interval | None
    correct: int
    # JUDGED: mean judge rating with a bootstrap interval, over the items the judge rated.
    judge_score: st.Interval | None
    rated: int
    # Means per item, with bootstrap intervals for the total.
    tokens: st.Interval
    input_tokens: float
    output_tokens: float
    calls: float
    latency_p50: float
    latency_p95: float
    latency_mean: st.Interval
    # How many items stopped after each number of layers.
    layers: dict[int, int]
    stop_reasons: dict[str, int]
    # Items on which each step was taken (a skipped judge or aggregator, AUTO's panel and escalation).
    steps: dict[str, int]
    by_role: dict[str, RoleCost]
    # Items whose token counts were partly estimated by the services.
    estimated: int


@dataclass(frozen=True)
class Comparison:
    """`first` against `second` on the items both answered."""

    first: str
    second: str
    items: int
    # Accuracy: McNemar exact. Judge score: Wilcoxon signed-rank on the items both were rated on.
    quality_test: str
    quality_p: float
    # Accuracy: first's minus second's (items right only by first, only by second, in `detail`).
    # Judge score: mean paired difference with a paired-bootstrap interval.
    quality_difference: st.Interval
    detail: str
    # sum of first's tokens / sum of second's, paired bootstrap interval; Wilcoxon p on per-item tokens.
    token_ratio: st.Interval
    tokens_p: float
    calls_ratio: float

    @property
    def quality_within_noise(self) -> bool:
        return math.isnan(self.quality_p) or self.quality_p >= ALPHA


@dataclass(frozen=True)
class DatasetSummary:
    dataset: str
    grading: str
    systems: dict[str, SystemSummary]
    comparisons: list[Comparison] = field(default_factory=list)


def _role_costs(rows: Sequence[ItemResult]) -> dict[str, RoleCost]:
    roles = dict.fromkeys(role for r in rows for role in r.by_role)
    n = len(rows) or 1
    return {
        role: RoleCost(
            sum(r.by_role[role].calls for r in rows if role in r.by_role) / n,
            sum(r.by_role[role].input_tokens for r in rows if role in r.by_role) / n,
            sum(r.by_role[role].output_tokens for r in rows if role in r.by_role) / n,
        )
        for role in roles
    }


def summarize_system(system: str, rows: Sequence[ItemResult], seed: int = 0) -> SystemSummary:
    ok = [r for r in rows if r.ok]
    graded = [r for r in ok if r.correct is not None]
    rated = [r.judge_score for r in ok if r.judge_score is not None]
    correct = sum(1 for r in graded if r.correct)
    latencies = [r.latency for r in ok]
    return SystemSummary(
        system=system,
        items=len(ok),
        errors=len(rows) - len(ok),
        accuracy=st.wilson(correct, len(graded)) if graded else None,
        correct=correct,
        judge_score=st.bootstrap_mean(rated, seed=seed) if rated else None,
        rated=len(rated),
        tokens=st.bootstrap_mean([float(r.tokens) for r in ok], seed=seed),
        input_tokens=st.mean([float(r.input_tokens) for r in ok]),
        output_tokens=st.mean([float(r.output_tokens) for r in ok]),
        calls=st.mean([float(r.calls) for r in ok]),
        latency_p50=st.percentile(latencies, 50),
        latency_p95=st.percentile(latencies, 95),
        latency_mean=st.bootstrap_mean(latencies, seed=seed),
        layers=dict(sorted(Counter(r.layers for r in ok).items())),
        stop_reasons=dict(Counter(r.stop_reason for r in ok).most_common()),
        steps=dict(sorted(Counter(step for r in ok for step in set(r.steps)).items())),
        by_role=_role_costs(ok),
        estimated=sum(1 for r in ok if r.estimated),
    )


def compare(first: str, second: str, rows: Sequence[ItemResult], seed: int = 0) -> Comparison:
    mine = {r.item_id: r for r in rows if r.system == first and r.ok}
    theirs = {r.item_id: r for r in rows if r.system == second and r.ok}
    both = [i for i in mine if i in theirs]
    a, b = [mine[i] for i in both], [theirs[i] for i in both]
    tokens_a, tokens_b = [float(r.tokens) for r in a], [float(r.tokens) for r in b]
    tokens = st.paired_bootstrap(tokens_a, tokens_b, seed=seed)
    calls_b = sum(r.calls for r in b)
    calls_ratio = sum(r.calls for r in a) / calls_b if calls_b else math.nan
    graded = [(x, y) for x, y in zip(a, b, strict=True) if x.correct is not None and y.correct is not None]
    if graded:
        test = st.mcnemar_exact(
            [x.correct is True for x, _ in graded], [y.correct is True for _, y in graded]
        )
        n = len(graded)
        difference = (test.only_first - test.only_second) / n
        # The interval of a paired difference of proportions from the same bootstrap as everything else.
        boot = st.paired_bootstrap(
            [float(x.correct is True) for x, _ in graded],
            [float(y.correct is True) for _, y in graded],
            seed=seed,
        ).mean_difference
        quality = st.Interval(difference, boot.low, boot.high)
        name, p = "McNemar exact", test.p_value
        detail = f"{n} items: {test.only_first} right only by {first}, {test.only_second} only by {second}"
    else:
        rated = [
            (x.judge_score, y.judge_score)
            for x, y in zip(a, b, strict=True)
            if x.judge_score is not None and y.judge_score is not None
        ]
        xs, ys = [x for x, _ in rated], [y for _, y in rated]
        test_w = st.wilcoxon_signed_rank(xs, ys) if rated else None
        quality = st.paired_bootstrap(xs, ys, seed=seed).mean_difference
        name, p = "Wilcoxon signed-rank", test_w.p_value if test_w else math.nan
        detail = f"{len(rated)} items rated for both"
    return Comparison(
        first=first,
        second=second,
        items=len(both),
        quality_test=name,
        quality_p=p,
        quality_difference=quality,
        detail=detail,
        token_ratio=tokens.ratio,
        tokens_p=st.wilcoxon_signed_rank(tokens_a, tokens_b).p_value if both else math.nan,
        calls_ratio=calls_ratio,
    )


def summarize(results: Sequence[ItemResult], systems: Sequence[str], seed: int = 0) -> list[DatasetSummary]:
    """One summary per dataset (in order of first appearance), systems in the order given."""
    datasets = dict.fromkeys(r.dataset for r in results)
    found = []
    for dataset in datasets:
        rows = [r for r in results if r.dataset == dataset]
        present = [s for s in systems if any(r.system == s for r in rows)]
        found.append(
            DatasetSummary(
                dataset=dataset,
                grading=dataset_grading({r.grading for r in rows}),
                systems={s: summarize_system(s, [r for r in rows if r.system == s], seed) for s in present},
                comparisons=[compare(x, y, rows, seed) for x, y in itertools.combinations(present, 2)],
            )
        )
    return found


def _clean(value: Any) -> Any:
    """JSON has no NaN: None instead."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def summary_json(summaries: Sequence[DatasetSummary], settings: dict[str, Any]) -> dict[str, Any]:
    datasets = []
    for d in summaries:
        body = asdict(d)
        for c, comparison in zip(body["comparisons"], d.comparisons, strict=True):
            # None: nothing to test (no item graded or rated for both).
            untested = math.isnan(comparison.quality_p)
            c["quality_within_noise"] = None if untested else comparison.quality_within_noise
        datasets.append(body)
    return {"settings": _clean(settings), "datasets": _clean(datasets)}


def dataset_grading(gradings: set[str]) -> str:
    """One grading, several graded by their answers ("contains+exact": an accuracy still), or "mixed"
    (judged items among them)."""
    if len(gradings) == 1 or Grading.JUDGED.value not in gradings:
        return "+".join(sorted(gradings))
    return "mixed"


def is_accuracy(grading: str) -> bool:
    """Whether a dataset's grading is right or wrong per item (else a judge's rating)."""
    answered = {g.value for g in Grading} - {Grading.JUDGED.value}
    return all(part in answered for part in grading.split("+"))
