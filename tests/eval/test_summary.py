"""The per-system numbers and the paired comparisons, from hand-made per-item results."""

from __future__ import annotations

import math

import pytest

from smoa.eval.orchestrator_call import RoleUsage
from smoa.eval.record import ItemResult
from smoa.eval.report import markdown
from smoa.eval.summary import summarize, summary_json


def row(system: str, item: str, correct: bool | None, tokens: int, layers: int, **more: object) -> ItemResult:
    return ItemResult(
        system, "d", item, "exact" if correct is not None else "judged", correct=correct,
        input_tokens=tokens, output_tokens=0, calls=layers + 1, layers=layers, latency=float(layers),
        by_role={"proposer": RoleUsage(layers, tokens, 0)}, stop_reason="consensus", **more,  # type: ignore[arg-type]
    )  # fmt: skip


def test_accuracy_cost_and_the_paired_test() -> None:
    rows = [row("moa", str(i), i < 8, 1000, 3) for i in range(10)]
    rows += [row("smoa", str(i), i < 7, 400 + 100 * (i % 2), 1 + i % 2) for i in range(10)]
    rows.append(ItemResult("smoa", "d", "10", "exact", ok=False, error="UNAVAILABLE: down"))
    (d,) = summarize(rows, ["moa", "smoa"])
    moa, smoa = d.systems["moa"], d.systems["smoa"]
    assert (moa.items, moa.correct, moa.errors) == (10, 8, 0) and (smoa.items, smoa.errors) == (10, 1)
    assert moa.accuracy is not None and moa.accuracy.estimate == 0.8
    assert smoa.tokens.estimate == 450 and smoa.layers == {1: 5, 2: 5}
    assert smoa.by_role["proposer"].calls == 1.5 and smoa.latency_p50 == 1.5
    (c,) = d.comparisons
    assert c.items == 10 and "1 right only by moa, 0 only by smoa" in c.detail
    assert c.quality_p == 1.0 and c.quality_within_noise
    assert c.token_ratio.estimate == pytest.approx(1000 / 450)
    assert c.tokens_p < 0.01  # moa spent more on every item: beyond noise
    assert "spends 0.45x dense MoA's tokens (55% less" in markdown([d], {"n": 4}, {})


def test_nothing_to_compare_is_said_so() -> None:
    rows = [row("moa", "1", None, 10, 2), row("smoa", "1", None, 5, 1)]
    (d,) = summarize(rows, ["moa", "smoa"])
    assert d.systems["moa"].judge_score is None and math.isnan(d.comparisons[0].quality_p)
    assert summary_json([d], {})["datasets"][0]["comparisons"][0]["quality_within_noise"] is None
    text = markdown([d], {}, {})
    assert "not compared (no items scored for both)" in text and "untested" in text
