"""A whole small run through `smoa eval` against the four real services and a scripted LLM: two GSM8K
items and two MT-Bench questions, every system; the report's tables, plots and JSON agree with the
per-item results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from smoa.cli import main
from smoa.eval.record import ItemResult
from smoa.eval.results_file import ResultsFile
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.stack_thread import stack_in_thread
from tests.eval.scripted_llm import caller, reply

SYSTEMS = ["single", "moa", "smoa", "smoa-fused"]


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(reply) as fake:
        yield fake


@pytest.fixture(scope="module")
def run(llm: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("eval")
    with stack_in_thread(llm.base_url) as target:
        code = main(
            ["--target", target, "eval", "--dataset", "gsm8k:2,mtbench:2", "--systems", ",".join(SYSTEMS),
             "--out", str(out), "-n", "3", "-k", "2", "--layers", "2", "--max-tokens", "64",
             "--concurrency", "2", "--judge-base-url", llm.base_url, "--judge-model", "fake", "--no-progress"]
        )  # fmt: skip
        assert code == 0
        yield out


def results(out: Path) -> list[ItemResult]:
    return ResultsFile(out).read()


def test_every_system_answered_every_item(run: Path) -> None:
    rows = results(run)
    assert sorted((r.system, r.dataset) for r in rows) == sorted(
        (s, d) for s in SYSTEMS for d in ("gsm8k", "gsm8k", "mtbench", "mtbench")
    )
    assert all(r.ok for r in rows)
    by = {(r.system, r.dataset, r.item_id): r for r in rows}
    gsm8k = sorted({r.item_id for r in rows if r.dataset == "gsm8k"})
    assert by[("smoa", "gsm8k", gsm8k[0])].correct is True
    single_wrong = [r for r in rows if r.system == "single" and r.dataset == "gsm8k" and not r.correct]
    assert len(single_wrong) == 1
    assert {r.judge_score for r in rows if r.dataset == "mtbench" and r.system == "single"} == {4.0}
    assert {r.judge_score for r in rows if r.dataset == "mtbench" and r.system != "single"} == {8.0}
    for r in rows:
        assert r.calls == sum(u.calls for u in r.by_role.values())
        assert r.input_tokens == sum(u.input_tokens for u in r.by_role.values())
    assert all(r.layers == 2 for r in rows if r.system == "moa")
    assert all(r.layers == 0 and set(r.by_role) == {"single"} for r in rows if r.system == "single")
    # The scripted proposers all agree: SMoA keeps them by centrality and answers with the best of them,
    # with no judge, moderator or aggregator call (the service's default skips).
    for r in rows:
        if r.system.startswith("smoa"):
            assert set(r.by_role) == {"proposer"} and (r.layers, r.stop_reason) == (1, "consensus"), r


def test_summary_json_matches_the_per_item_results(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    rows = results(run)
    datasets = {d["dataset"]: d for d in summary["datasets"]}
    assert set(datasets) == {"gsm8k", "mtbench"}
    assert summary["settings"]["n"] == 3 and summary["settings"]["judge_model"] == "fake"
    for name, d in datasets.items():
        assert list(d["systems"]) == SYSTEMS
        for system, s in d["systems"].items():
            mine = [r for r in rows if r.system == system and r.dataset == name]
            assert s["items"] == len(mine) == 2
            assert s["tokens"]["estimate"] == pytest.approx(sum(r.tokens for r in mine) / 2)
            assert s["calls"] == pytest.approx(sum(r.calls for r in mine) / 2)
            if name == "gsm8k":
                assert s["accuracy"]["estimate"] == sum(bool(r.correct) for r in mine) / 2
            else:
                assert s["judge_score"]["estimate"] == sum(r.judge_score or 0 for r in mine) / 2
        assert len(d["comparisons"]) == 6
    assert datasets["gsm8k"]["systems"]["single"]["accuracy"]["estimate"] == 0.5
    assert datasets["gsm8k"]["systems"]["moa"]["accuracy"]["estimate"] == 1.0


def test_report_has_the_tables_and_plots(run: Path) -> None:
    report = (run / "report.md").read_text()
    for heading in ("## gsm8k (exact, 2 items)", "## mtbench (judged, 2 items)", "### Paired comparisons",
                    "### Tokens per item by role", "### Layers run"):  # fmt: skip
        assert heading in report
    assert "| system | items | accuracy % [95% CI]" in report
    assert "| single | 2 | 50.0 [" in report and "(1/2)" in report
    assert "| moa | 2 | 100.0 [" in report
    assert (
        "| system | items | judge score 1-10 [95% CI]" in report and "8.00 [8.00, 8.00] (2 rated)" in report
    )
    assert "| moa vs smoa | 2 |" in report and "McNemar exact" in report and "Wilcoxon signed-rank" in report
    assert "spends" in report and "dense MoA's tokens" in report
    for dataset in ("gsm8k", "mtbench"):
        for kind in ("quality_vs_tokens", "stop_layers", "tokens_by_role"):
            png = run / f"{kind}_{dataset}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({png.name})" in report


def test_a_rerun_sends_nothing_and_report_only_rewrites(run: Path, llm: FakeOpenAI) -> None:
    before = len(llm.requests)
    (run / "report.md").unlink()
    assert main(["eval", "--dataset", "gsm8k:2,mtbench:2", "--out", str(run), "--report-only"]) == 0
    assert (run / "report.md").exists() and len(llm.requests) == before
    judged = [r for r in llm.requests if caller(r) == "evaluation judge"]
    assert len(judged) == 2 * len(SYSTEMS)
