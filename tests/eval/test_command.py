"""`smoa eval`'s arguments, and the errors it gives before any request."""

from __future__ import annotations

from pathlib import Path

import pytest

from smoa.cli import main, parser
from smoa.eval import Evaluation, ItemResult, command
from smoa.eval.command import dataset_specs, evaluation_from
from smoa.eval.extras import MissingExtra, require
from smoa.eval.progress import ProgressBar
from smoa.eval.results_file import ResultsFile
from smoa.eval.systems import EVERY_CALL, SYSTEMS, EvalSettings, parse_systems
from smoa.options import GenerateOptions
from smoa.ranking import Selection
from smoa.request import ModelSettings, options_message
from smoa.result import Mode


def test_dataset_specs() -> None:
    assert dataset_specs(["gsm8k:30,mtbench"], 5) == [("gsm8k", 30), ("mtbench", 5)]
    assert dataset_specs(["a.jsonl", "truthfulqa:2"], None) == [("a.jsonl", None), ("truthfulqa", 2)]
    with pytest.raises(ValueError, match="dataset"):
        dataset_specs([" , "], None)


def test_systems() -> None:
    assert [s.name for s in parse_systems("smoa-fused, single,smoa-fused")] == ["smoa-fused", "single"]
    fused = parse_systems("smoa-fused")[0]
    assert fused.options.fused and fused.options.mode == "smoa"
    with pytest.raises(ValueError, match="choose from"):
        parse_systems("smoa,gpt")


def test_flags_become_the_evaluation(tmp_path: Path) -> None:
    args = parser().parse_args(
        ["--target", "h:1", "eval", "--dataset", "gsm8k", "--limit", "3", "--systems", "moa,smoa",
         "--out", str(tmp_path), "-n", "5", "-k", "3", "--layers", "2", "--max-tokens", "99", "--seed", "7",
         "--aggregation", "rrf", "--concurrency", "2", "--judge-model", "big"]
    )  # fmt: skip
    e = evaluation_from(args)
    assert (e.target, e.datasets, list(e.systems), e.out) == (
        "h:1",
        [("gsm8k", 3)],
        ["moa", "smoa"],
        tmp_path,
    )
    assert (e.settings.n, e.settings.k, e.settings.layers, e.settings.max_tokens, e.settings.seed) == (
        5, 3, 2, 99, 7,
    )  # fmt: skip
    assert (e.concurrency, e.judge_model, e.settings.aggregation, e.settings.selection) == (
        2,
        "big",
        "rrf",
        None,
    )


def test_each_system_asks_for_its_own_options_under_the_shared_settings() -> None:
    settings = EvalSettings(n=5, k=3, layers=2, max_tokens=99, seed=7, selection="mmr")
    fused = settings.options_for(SYSTEMS["smoa-fused-full"])
    assert (fused.mode, fused.fused, fused.skips) == (Mode.SMOA, True, EVERY_CALL)
    assert (fused.n, fused.k, fused.max_layers, fused.seed, fused.selection) == (5, 3, 2, 7, Selection.MMR)
    assert fused.model == ModelSettings(max_tokens=99)
    assert settings.options_for(SYSTEMS["moa"]).mode == Mode.MOA
    grown, ranked = (options_message(settings.options_for(SYSTEMS[s])) for s in ("smoa-grown", "smoa-ranked"))
    assert (grown.first_layer_start, grown.first_layer_step, grown.fused_judge_moderator) == (1, 1, True)
    assert (grown.HasField("rank_agents"), grown.rank_agents, ranked.rank_agents) == (True, False, True)
    assert (ranked.n, ranked.first_layer_start) == (5, 1)


def test_bad_settings_are_refused_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--target", "127.0.0.1:1", "eval", "--dataset", "gsm8k:1", "--out", str(tmp_path), "-k", "9"]
    )
    assert code == 2 and "k: must be <= n (4), got 9" in capsys.readouterr().err


def test_bad_input_exits_2_before_any_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--target", "127.0.0.1:1", "eval", "--dataset", "nope", "--out", str(tmp_path)])
    assert code == 2 and "neither a built-in" in capsys.readouterr().err


def test_an_unreachable_orchestrator_fails_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--target", "127.0.0.1:1", "eval", "--dataset", "gsm8k:1", "--out", str(tmp_path), "--no-progress"]
    )
    assert code == 1 and "UNAVAILABLE" in capsys.readouterr().err


def test_a_missing_extra_says_how_to_install_it() -> None:
    with pytest.raises(MissingExtra, match=r"pip install 'smoa\[eval\]'"):
        require("no_such_module_for_eval", "the judge")


def test_ctrl_c_keeps_the_results_writes_a_partial_report_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def interrupted(evaluation: Evaluation, **hooks: object) -> None:
        ResultsFile(evaluation.out).append(
            [ItemResult("single", "gsm8k", "a", "exact", correct=True, calls=1)]
        )
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "evaluate", interrupted)
    code = main(["eval", "--dataset", "gsm8k:1", "--systems", "single", "--out", str(tmp_path)])
    assert code == command.INTERRUPTED and "Run the same command again" in capsys.readouterr().err
    assert "| single | 1 | 100.0 [" in (tmp_path / "report.md").read_text()


def test_the_progress_bar_counts_this_runs_pairs_and_failures() -> None:
    with ProgressBar(total=6, already=2) as bar:
        bar.advance(ItemResult("smoa", "gsm8k", "a", "exact"))
        bar.advance(ItemResult("smoa", "gsm8k", "b", "exact", ok=False, error="UNAVAILABLE"))
    assert bar.failed == 1


async def test_proposer_backends_become_per_agent_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smoa.eval.orchestrator_call import OrchestratorAnswers
    from smoa.result import Result

    args = parser().parse_args(
        ["eval", "--dataset", "gsm8k", "--out", str(tmp_path), "-n", "3", "--proposer-backends", "big, small"]
    )
    settings = evaluation_from(args).settings
    assert settings.proposer_backends == ("big", "small")
    seen: list[GenerateOptions] = []

    async def generate(question: str, options: GenerateOptions) -> Result:
        seen.append(options)
        raise RuntimeError("captured")

    orchestrator = OrchestratorAnswers("127.0.0.1:1", EvalSettings(n=3, proposer_backends=("big", "small")))
    monkeypatch.setattr(orchestrator._client, "generate", generate)
    with pytest.raises(RuntimeError, match="captured"):
        await orchestrator.answer("q", parse_systems("smoa")[0])
    await orchestrator._client.close()
    agents = seen[0].agents
    assert agents is not None
    assert {i: s.backend for i, s in agents.items() if isinstance(s, ModelSettings)} == {
        0: "big", 1: "small", 2: "big",
    }  # fmt: skip
