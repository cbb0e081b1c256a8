"""The summary as text (laid out like ghz's, so it reads familiar) and as JSON."""

from __future__ import annotations

from collections import Counter
from typing import Any

from smoa.load.histogram import LatencyHistogram
from smoa.load.sample import OK
from smoa.load.summary import Summary

PERCENTILES = (10, 25, 50, 75, 90, 95, 99, 99.9)
BAR_WIDTH = 40
# Error messages listed; the rest are counted under "other".
ERRORS_SHOWN = 10


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _histogram_lines(histogram: LatencyHistogram) -> list[str]:
    buckets = histogram.buckets()
    tallest = max((b.count for b in buckets), default=0)
    lines = []
    for b in buckets:
        bar = "∎" * (round(b.count * BAR_WIDTH / tallest) if tallest else 0)
        lines.append(f"  {b.upper_seconds * 1000:10.3f} [{b.count}]\t|{bar}")
    return lines


def _distribution_lines(histogram: LatencyHistogram) -> list[str]:
    return [f"  {p:g} % in {_ms(histogram.percentile(p))}" for p in PERCENTILES]


def format_summary(summary: Summary, title: str = "") -> str:
    s = summary
    lines = [title] if title else []
    lines += [
        "Summary:",
        f"  Count:\t{s.count}",
        f"  Total:\t{_ms(s.seconds)}",
        f"  Slowest:\t{_ms(s.latency.max)}",
        f"  Fastest:\t{_ms(s.latency.min)}",
        f"  Average:\t{_ms(s.latency.mean)}",
        f"  Requests/sec:\t{s.rps:.2f}",
        "",
        "Response time histogram (ms):",
        *_histogram_lines(s.latency),
        "",
        "Latency distribution (from each request's scheduled send time):",
        *_distribution_lines(s.latency),
    ]
    if s.ttft.count:
        lines += [
            "",
            "Time to first token:",
            f"  Fastest {_ms(s.ttft.min)}, average {_ms(s.ttft.mean)}, slowest {_ms(s.ttft.max)}",
            *_distribution_lines(s.ttft),
        ]
    lines += ["", "Status code distribution:"]
    lines += [f"  [{status}]\t{count} responses" for status, count in s.statuses.most_common()]
    answered = s.statuses[OK]
    if answered:
        stages = ", ".join(f"{stage} {n}" for stage, n in (s.degraded_stages or Counter()).most_common())
        lines.append(
            f"  degraded: {s.degraded} of {answered} answers ({s.degraded / answered * 100:.1f}%)"
            + (f" [{stages}]" if stages else "")
        )
    if s.errors:
        lines += ["", "Error distribution:"]
        shown = s.errors.most_common(ERRORS_SHOWN)
        lines += [f"  [{count}]\t{code}: {detail}" for (code, detail), count in shown]
        other = sum(s.errors.values()) - sum(count for _, count in shown)
        if other:
            lines.append(f"  [{other}]\tother errors")
    lines += [
        "",
        "Tokens (from the responses' cost):",
        f"  input {s.input_tokens} ({s.input_tokens_per_second:.1f}/s), "
        f"output {s.output_tokens} ({s.output_tokens_per_second:.1f}/s)",
        "",
        f"Goodput ({s.slo.describe()}): {s.goodput.met}/{s.goodput.total} "
        f"({s.goodput.share * 100:.1f}%), {s.goodput.per_second:.2f}/s",
        f"Late sends (> 10 ms after schedule): {s.late}, worst {_ms(s.max_lateness)}",
    ]
    return "\n".join(lines) + "\n"


def _histogram_json(histogram: LatencyHistogram) -> dict[str, Any]:
    if not histogram.count:
        return {"count": 0}
    return {
        "count": histogram.count,
        "fastest_ms": histogram.min * 1000,
        "slowest_ms": histogram.max * 1000,
        "average_ms": histogram.mean * 1000,
        "percentiles_ms": {f"p{p:g}": histogram.percentile(p) * 1000 for p in PERCENTILES},
        "buckets": [{"upper_ms": b.upper_seconds * 1000, "count": b.count} for b in histogram.buckets()],
        # Merge runs from several machines with any HdrHistogram port.
        "hdr": histogram.encode(),
    }


def summary_json(summary: Summary) -> dict[str, Any]:
    s = summary
    return {
        "count": s.count,
        "total_seconds": s.seconds,
        "rps": s.rps,
        "statuses": dict(s.statuses),
        "errors": [{"code": code, "detail": detail, "count": n} for (code, detail), n in s.errors.items()],
        "latency": _histogram_json(s.latency),
        "ttft": _histogram_json(s.ttft),
        "tokens": {
            "input": s.input_tokens,
            "output": s.output_tokens,
            "input_per_second": s.input_tokens_per_second,
            "output_per_second": s.output_tokens_per_second,
        },
        "goodput": {
            "slo": {"latency_ms": s.slo.latency_ms, "ttft_ms": s.slo.ttft_ms},
            "met": s.goodput.met,
            "total": s.goodput.total,
            "share": s.goodput.share,
            "per_second": s.goodput.per_second,
        },
        "late": {"count": s.late, "worst_ms": s.max_lateness * 1000},
        "degraded": {
            "count": s.degraded,
            "share": s.degraded / s.statuses[OK] if s.statuses[OK] else 0.0,
            "by_stage": dict(s.degraded_stages or {}),
        },
    }
