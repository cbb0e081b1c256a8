"""report.md: per dataset, a table per system (quality with its interval, cost, latency, layers), the
tokens by role, the stop layers, and the paired comparisons that say whether a difference is noise."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from smoa.eval.plots import ROLE_ORDER
from smoa.eval.statistics import Interval
from smoa.eval.summary import ALPHA, DatasetSummary, SystemSummary, is_accuracy

# An empty cell.
DASH = "-"


def _num(value: float, digits: int = 0) -> str:
    return DASH if math.isnan(value) else f"{value:,.{digits}f}"


def _interval(i: Interval | None, digits: int = 0, scale: float = 1.0) -> str:
    if i is None or math.isnan(i.estimate):
        return DASH
    if math.isnan(i.low):
        return _num(i.estimate * scale, digits)
    return (
        f"{_num(i.estimate * scale, digits)} [{_num(i.low * scale, digits)}, {_num(i.high * scale, digits)}]"
    )


def _p(p: float) -> str:
    return DASH if math.isnan(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def _quality(s: SystemSummary, accuracy: bool) -> str:
    if accuracy:
        return f"{_interval(s.accuracy, 1, 100)} ({s.correct}/{s.items})" if s.accuracy else DASH
    return f"{_interval(s.judge_score, 2) if s.judge_score else DASH} ({s.rated} rated)"


def system_table(d: DatasetSummary) -> list[str]:
    accuracy = is_accuracy(d.grading)
    quality = "accuracy % [95% CI]" if accuracy else "judge score 1-10 [95% CI]"
    lines = [
        f"| system | items | {quality} | tokens/item [95% CI] | in / out | LLM calls/item "
        "| latency p50 / p95 (s) | layers run (mean) | errors |",
        "|---|---:|---|---|---|---:|---|---:|---:|",
    ]
    for s in d.systems.values():
        mean_layers = sum(k * v for k, v in s.layers.items()) / s.items if s.items else math.nan
        lines.append(
            f"| {s.system} | {s.items} | {_quality(s, accuracy)} | {_interval(s.tokens)} "
            f"| {_num(s.input_tokens)} / {_num(s.output_tokens)} | {_num(s.calls, 1)} "
            f"| {_num(s.latency_p50, 1)} / {_num(s.latency_p95, 1)} | {_num(mean_layers, 2)} | {s.errors} |"
        )
    return lines


def role_table(d: DatasetSummary) -> list[str]:
    present = {role for s in d.systems.values() for role in s.by_role}
    roles = [r for r in ROLE_ORDER if r in present] + sorted(present - set(ROLE_ORDER))
    lines = [
        "| system | " + " | ".join(roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for s in d.systems.values():
        cells = []
        for role in roles:
            c = s.by_role.get(role)
            cells.append(
                f"{_num(c.input_tokens)} / {_num(c.output_tokens)} ({_num(c.calls, 1)} calls)" if c else DASH
            )
        lines.append(f"| {s.system} | " + " | ".join(cells) + " |")
    return lines


def layer_table(d: DatasetSummary) -> list[str]:
    layers = sorted({k for s in d.systems.values() for k in s.layers})
    lines = [
        "| system | " + " | ".join(f"{k} layer(s)" for k in layers) + " | stop reasons | steps (items) |",
        "|---|" + "---:|" * len(layers) + "---|---|",
    ]
    for s in d.systems.values():
        reasons = ", ".join(f"{reason} {count}" for reason, count in s.stop_reasons.items())
        taken = ", ".join(f"{step} {count}" for step, count in s.steps.items()) or DASH
        lines.append(
            f"| {s.system} | "
            + " | ".join(str(s.layers.get(k, 0)) for k in layers)
            + f" | {reasons} | {taken} |"
        )
    return lines


def comparison_table(d: DatasetSummary) -> list[str]:
    accuracy = is_accuracy(d.grading)
    difference = "accuracy difference, points [95% CI]" if accuracy else "score difference [95% CI]"
    lines = [
        f"| A vs B | paired items | {difference} | test, p | beyond noise? | tokens A/B [95% CI] "
        "| tokens p (Wilcoxon) | calls A/B |",
        "|---|---:|---|---|---|---|---|---:|",
    ]
    for c in d.comparisons:
        scale = 100.0 if accuracy else 1.0
        verdict = (
            "untested (nothing to pair)"
            if math.isnan(c.quality_p)
            else "no (within noise)"
            if c.quality_within_noise
            else f"**yes** (p < {ALPHA})"
        )
        lines.append(
            f"| {c.first} vs {c.second} | {c.items} "
            f"| {_interval(c.quality_difference, 1 if accuracy else 2, scale)} "
            f"| {c.quality_test}, {_p(c.quality_p)} | {verdict} | {_interval(c.token_ratio, 2)} "
            f"| {_p(c.tokens_p)} | {_num(c.calls_ratio, 2)} |"
        )
    return lines


def headline(d: DatasetSummary) -> list[str]:
    """SMoA's claim in one sentence per SMoA variant: its cost relative to dense MoA, and whether its
    quality differs beyond noise."""
    found = []
    for c in d.comparisons:
        pair = {c.first, c.second}
        if "moa" not in pair or not pair & {"smoa", "smoa-fused", "smoa-grown", "smoa-ranked"}:
            continue
        sparse = c.first if c.first != "moa" else c.second
        ratio = c.token_ratio if c.first == sparse else _inverse(c.token_ratio)
        if math.isnan(ratio.estimate):
            continue
        change = (1 - ratio.estimate) * 100
        saving = f"{change:.0f}% less" if change >= 0 else f"{-change:.0f}% more"
        noise = (
            "not compared (no items scored for both)"
            if math.isnan(c.quality_p)
            else "within noise"
            if c.quality_within_noise
            else "a difference beyond noise"
        )
        found.append(
            f"- **{sparse}** spends {ratio.estimate:.2f}x dense MoA's tokens ({saving}; 95% CI "
            f"{_num(ratio.low, 2)}-{_num(ratio.high, 2)}x); quality vs moa: {noise} "
            f"({c.quality_test}, p = {_p(c.quality_p)}, {c.items} paired items)."
        )
    return found


def _inverse(i: Interval) -> Interval:
    def inv(x: float) -> float:
        return 1 / x if x and not math.isnan(x) else math.nan

    return Interval(inv(i.estimate), inv(i.high), inv(i.low))


def markdown(
    summaries: Sequence[DatasetSummary], settings: Mapping[str, Any], plots: Mapping[str, Mapping[str, str]]
) -> str:
    shown = ", ".join(f"{k} {v}" for k, v in settings.items() if v is not None)
    lines = [
        "# SMoA vs dense MoA vs a single model",
        "",
        f"Settings: {shown}.",
        "",
        "Every system answered the same items on the same services and backend with the same seed. "
        "Intervals are 95%: Wilson for accuracies, percentile bootstrap (2000 resamples) for means and "
        "ratios. Comparisons are paired on the items both systems answered: McNemar's exact test for "
        f"accuracy, Wilcoxon signed-rank for judge scores and tokens; p ≥ {ALPHA} is reported as within "
        "noise. Tokens are the pipeline's own (input + output, every LLM call of the generation); the "
        "evaluation judge's calls are not counted. Latency is wall time per generation as the client saw "
        "it, with the run's concurrency.",
    ]
    for d in summaries:
        n = max((s.items for s in d.systems.values()), default=0)
        lines += ["", f"## {d.dataset} ({d.grading}, {n} items)", ""]
        top = headline(d)
        if top:
            lines += [*top, ""]
        lines += system_table(d)
        files = plots.get(d.dataset, {})
        if "quality_vs_tokens" in files:
            lines += ["", f"![quality vs tokens]({files['quality_vs_tokens']})"]
        lines += ["", "### Paired comparisons", "", *comparison_table(d)]
        lines += ["", "### Tokens per item by role (input / output, mean)", "", *role_table(d)]
        if "tokens_by_role" in files:
            lines += ["", f"![tokens by role]({files['tokens_by_role']})"]
        lines += ["", "### Layers run (where SMoA stopped)", "", *layer_table(d)]
        if "stop_layers" in files:
            lines += ["", f"![stop layers]({files['stop_layers']})"]
    return "\n".join(lines) + "\n"
