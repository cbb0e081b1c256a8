"""Goodput against SLOs, the summary's statistics, and the ghz-like text and JSON."""

from __future__ import annotations

import json

import pytest

from smoa.load.report import format_summary, summary_json
from smoa.load.sample import DROPPED, OK, Sample
from smoa.load.slo import Slo, goodput
from smoa.load.summary import summarize


def sample(
    index: int, latency: float, status: str = OK, ttft: float | None = None, warmup: bool = False
) -> Sample:
    sent = None if status == DROPPED else float(index)
    tokens = (10, 20) if status == OK else (0, 0)
    return Sample(index, float(index), sent, index + latency, status, "", ttft, *tokens, warmup)


SAMPLES = [
    sample(0, 0.100, ttft=0.020),
    sample(1, 0.200, ttft=0.050),
    sample(2, 0.300, ttft=0.200),
    sample(3, 0.050, status="UNAVAILABLE"),
    sample(4, 0.0, status=DROPPED),
    sample(5, 9.0, warmup=True),
]


def test_goodput_needs_success_and_every_objective() -> None:
    assert goodput(SAMPLES, Slo(), 5.0).met == 3  # no objective: success alone
    assert goodput(SAMPLES, Slo(latency_ms=250), 5.0).met == 2
    both = goodput(SAMPLES, Slo(latency_ms=250, ttft_ms=30), 5.0)
    assert (both.met, both.total) == (1, 5)  # warmup excluded; dropped and failed count against
    assert both.share == pytest.approx(0.2) and both.per_second == pytest.approx(0.2)
    # A stream that never produced a token cannot meet a TTFT objective.
    assert not Slo(ttft_ms=1000).met_by(sample(0, 0.1))


def test_summary_counts_statuses_errors_tokens_and_leaves_warmup_out() -> None:
    summary = summarize(SAMPLES, Slo(latency_ms=250))
    assert summary.count == 5 and summary.sent == 4
    assert summary.statuses == {OK: 3, "UNAVAILABLE": 1, DROPPED: 1}
    assert summary.errors == {("UNAVAILABLE", ""): 1}
    assert summary.latency.count == 4 and summary.ttft.count == 3
    assert summary.latency.max == pytest.approx(0.3, rel=1e-3)
    assert summary.seconds == pytest.approx(4.0)  # first schedule (0.0) to the dropped one's (4.0)
    assert summary.output_tokens == 60 and summary.output_tokens_per_second == pytest.approx(15.0)
    assert summary.goodput.met == 2


def test_text_report_reads_like_ghz() -> None:
    text = format_summary(summarize(SAMPLES, Slo(latency_ms=250)))
    for expected in (
        "Summary:",
        "  Count:\t5",
        "  Total:\t4000.00 ms",
        "  Slowest:\t300.",
        "  Requests/sec:\t1.25",
        "Response time histogram (ms):",
        "  50 % in ",
        "  99.9 % in ",
        "Time to first token:",
        "  [OK]\t3 responses",
        "  [DROPPED]\t1 responses",
        "  [1]\tUNAVAILABLE: ",
        "output 60 (15.0/s)",
        "Goodput (latency <= 250 ms): 2/5 (40.0%)",
    ):
        assert expected in text, expected
    bars = [line for line in text.splitlines() if "|" in line]
    assert len(bars) == 10 and any("∎" * 40 in line for line in bars)


def test_json_report_round_trips() -> None:
    data = json.loads(json.dumps(summary_json(summarize(SAMPLES, Slo(ttft_ms=100)))))
    assert data["count"] == 5 and data["statuses"]["OK"] == 3
    assert data["latency"]["percentiles_ms"]["p50"] == pytest.approx(100, rel=1e-2)
    assert set(data["latency"]["percentiles_ms"]) >= {"p50", "p90", "p95", "p99", "p99.9"}
    assert data["ttft"]["count"] == 3 and data["latency"]["hdr"].startswith("HISTF")
    assert data["goodput"]["met"] == 2 and data["goodput"]["slo"]["ttft_ms"] == 100
    assert data["errors"] == [{"code": "UNAVAILABLE", "detail": "", "count": 1}]


def test_an_empty_run_still_reports() -> None:
    text = format_summary(summarize([]))
    assert "Count:\t0" in text and "Requests/sec:\t0.00" in text
