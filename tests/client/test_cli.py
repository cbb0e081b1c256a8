"""`smoa ask` and `smoa health` on the SDK, run in-process against the four real services."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from smoa import JsonAnswer, cli
from smoa.health import ServingStatus
from smoa.option_flags import options_from
from tests.client.script import ANSWER, ROLES


def ask(target: str, *arguments: str) -> int:
    roles = [part for role in ROLES for part in ("--role", role)]
    return cli.main(
        [
            "--target",
            target,
            "ask",
            "What is 6 times 7?",
            "-n",
            "3",
            "-k",
            "2",
            *roles,
            "--no-fused",
            *arguments,
        ]
    )


def test_ask_streams_the_answer_with_each_layers_progress_and_the_cost(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ask(target, "--layers", "2") == 0
    out, err = capsys.readouterr()
    assert out == ANSWER + "\n\n"
    lines = err.splitlines()
    assert lines[0] == "layer 1: 3 proposals (L1-P0 L1-P1 L1-P2)"
    assert lines[1].startswith("layer 1: kept L1-P0 (") and ", L1-P1 (" in lines[1]
    assert lines[2].startswith("layer 1: CONTINUE (agreement 0.") and lines[2].endswith("): not yet")
    assert lines[3] == "layer 2: 3 proposals (L2-P0 L2-P1 L2-P2)"
    assert lines[4].startswith("layer 2: kept L2-P0 (") and lines[5] == "aggregating:"
    assert lines[6] == "stop: MAX_LAYERS after 2 layer(s) · mode SMOA"
    assert lines[7].startswith("cost: 10 LLM calls, 110 input / ")
    assert "[proposer 6 calls 66/" in lines[7] and "aggregator 1 calls 11/" in lines[7]
    assert lines[8].startswith("time: roles ") and "total" in lines[8]


def test_ask_json_prints_the_whole_result(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert ask(target, "--layers", "1", "--json") == 0
    out, _ = capsys.readouterr()
    result = json.loads(out)
    assert (result["text"], result["mode"], result["stop_reason"]) == (ANSWER, "smoa", "max_layers")
    assert result["layers"][0]["kept_ids"] == ["L1-P0", "L1-P1"]
    assert result["cost"]["total"]["calls"] == 5


def test_ask_reports_bad_arguments_and_the_services_refusal(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--target", target, "ask", "q", "-n", "0"]) == 2
    assert capsys.readouterr().err == "smoa ask: n: must be >= 1, got 0\n"
    assert cli.main(["--target", target, "ask", "q", "-k", "9"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("smoa ask: INVALID_ARGUMENT: ")
    assert err[1].startswith("  k: must be in [1, n=4]")


def test_health_shows_every_services_status(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--target", target, "health"]) == 0
    assert capsys.readouterr().out.split() == ["orchestrator", target, "SERVING", "ready"]
    assert cli.main(["--target", target, "health", "--peer", "nowhere", "127.0.0.1:1", "--timeout", "2"]) == 1
    assert [line.split() for line in capsys.readouterr().out.splitlines()] == [
        ["orchestrator", target, "SERVING", "ready"],
        ["nowhere", "127.0.0.1:1", "UNAVAILABLE"],
    ]


def test_readiness_names_the_backends_whose_breaker_is_open() -> None:
    statuses = {
        "": ServingStatus.SERVING,
        "smoa.v1.Readiness": ServingStatus.NOT_SERVING,
        "smoa.v1.Readiness/default": ServingStatus.SERVING,
        "smoa.v1.Readiness/big": ServingStatus.NOT_SERVING,
    }
    assert cli.readiness_of(statuses) == "not-ready:big"
    assert cli.readiness_of({"": ServingStatus.SERVING}) == "-"


def test_health_of_the_local_stack_names_its_peers(
    target: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Point the "local stack" peers at the suite's orchestrator and at a closed port.
    monkeypatch.setattr(cli, "LOCAL_PEERS", {"proposer": target, "judge": "127.0.0.1:1"})
    assert cli.main(["--target", target, "health", "--stack", "--timeout", "2"]) == 1
    assert [line.split()[0::2] for line in capsys.readouterr().out.splitlines()] == [
        ["orchestrator", "SERVING"],
        ["proposer", "SERVING"],
        ["judge", "UNAVAILABLE"],
    ]


def test_every_subcommand_and_option_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    parser = cli.parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    listed = {choice.dest: choice.help for choice in commands._choices_actions}
    for name in commands.choices:
        assert listed[name], name  # a line in `smoa --help`
        with pytest.raises(SystemExit) as done:
            cli.main([name, "--help"])
        assert done.value.code == 0 and capsys.readouterr().out.startswith(f"usage: smoa {name}")
    for name in ("ask", "health", "serve"):
        command = commands.choices[name]
        assert command.description and command.description.startswith(listed[name] or "?"), name
        for action in command._actions:
            assert action.help, f"{name} {action.dest}"


def test_ask_flags_for_stop_and_a_json_answer_reach_the_options(tmp_path: Path) -> None:
    schema = tmp_path / "count.json"
    schema.write_text('{"type": "object", "required": ["answer"]}')
    args = cli.parser().parse_args(
        ["ask", "q", "--stop", "END", "--stop", "###", "--json-schema", str(schema)]
    )
    options = options_from(args)
    assert options.stop == ("END", "###")
    assert options.response_format == JsonAnswer(
        schema={"type": "object", "required": ["answer"]}, name="count"
    )
    assert (
        options_from(cli.parser().parse_args(["ask", "q", "--json-object"])).response_format == JsonAnswer()
    )
    schema.write_text("[1]")
    with pytest.raises(ValueError, match="--json-schema"):
        options_from(cli.parser().parse_args(["ask", "q", "--json-schema", str(schema)]))
