"""Every GenerateOptions field has a flag, in `smoa ask`, `smoa load` and Locust alike (one table,
smoa.option_flags.ROWS), and what each flag says lands on the wire: the test walks GenerateOptions, so a
field added to it fails here until it has a row."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smoa import GenerateOptions, JsonAnswer, ModelSettings, Skips, Tool, cli
from smoa.load import command as load_command
from smoa.option_flags import ROWS, add_option_flags, options_from
from smoa.request import generate_request

OPTIONS = [f.name for f in dataclasses.fields(GenerateOptions)]
TOOL = {"type": "function", "function": {"name": "lookup", "description": "Look up.", "parameters": {}}}


def examples(folder: Path) -> dict[str, tuple[list[str], Any]]:
    """Each option: a command line (smoa's own spelling) and the value it must give."""
    (folder / "agents.json").write_text(json.dumps({"1": "small", "2": {"model": "m", "temperature": 0.2}}))
    (folder / "schema.json").write_text('{"type": "object"}')
    (folder / "tools.json").write_text(json.dumps([TOOL]))
    return {
        "mode": (["--mode", "moa"], "moa"),
        "n": (["-n", "5"], 5),
        "k": (["-k", "3"], 3),
        "max_layers": (["--layers", "2"], 2),
        "roles": (["--role", "historian", "--role", "chemist"], ["historian", "chemist"]),
        "task_description": (["--task", "maths"], "maths"),
        "model": (["--model", "m", "--max-tokens", "64"], ModelSettings(model="m", max_tokens=64)),
        "agents": (
            ["--agents", str(folder / "agents.json")],
            {1: "small", 2: ModelSettings(model="m", temperature=0.2)},
        ),
        "fused": (["--no-fused"], False),
        "token_budget": (["--token-budget", "5000"], 5000),
        "seed": (["--seed", "7"], 7),
        "aggregation": (["--aggregation", "rrf"], "rrf"),
        "selection": (["--selection", "mmr"], "mmr"),
        "quorum": (["--quorum", "2"], 2),
        "judge_passes": (["--judge-passes", "3"], 3),
        "first_layer_start": (["--first-layer-start", "2"], 2),
        "first_layer_step": (["--first-layer-step", "1"], 1),
        "rank_agents": (["--rank-agents"], True),
        "skips": (
            ["--no-skip", "judge_on_consensus", "--skip", "synthesis_on_agreement"],
            Skips(judge_on_consensus=False, synthesis_on_agreement=True),
        ),
        "stop": (["--stop", "END"], ["END"]),
        "metadata": (["--metadata", "user=u-1"], {"user": "u-1"}),
        "response_format": (
            ["--json-schema", str(folder / "schema.json")],
            JsonAnswer(schema={"type": "object"}, name="schema"),
        ),
        "tools": (["--tools", str(folder / "tools.json")], [Tool("lookup", "Look up.", {})]),
        "tool_choice": (["--tool-choice", "required"], "required"),
        "parallel_tool_calls": (["--no-parallel-tool-calls"], False),
    }


def ask(argv: list[str]) -> argparse.Namespace:
    return cli.parser().parse_args(["ask", "q", *argv])


def load(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    load_command.add_arguments(parser)
    return parser.parse_args(argv)


def locust(argv: list[str]) -> argparse.Namespace:
    """As Locust's own parser takes them: each flag as --smoa-NAME."""
    parser = argparse.ArgumentParser()
    add_option_flags(parser, prefix="smoa-")
    return parser.parse_args([locust_spelling(w) for w in argv])


def locust_spelling(word: str) -> str:
    if not word.startswith("-"):
        return word
    name = word.lstrip("-")
    if name in ("no-fused", "no-parallel-tool-calls"):  # argparse's --no-FLAG of a yes/no flag
        return f"--no-smoa-{name.removeprefix('no-')}"
    return f"--smoa-{name}"


DOORS: dict[str, tuple[Callable[[list[str]], argparse.Namespace], tuple[str, ...]]] = {
    "ask": (ask, ()),
    "load": (load, load_command.SCHEDULE_SEED),  # its --seed seeds the arrival schedule
    "locust": (locust, ()),
}


def test_every_option_has_a_row() -> None:
    assert list(ROWS) == OPTIONS


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name", OPTIONS)
def test_each_flag_lands_on_the_wire(tmp_path: Path, door: str, name: str) -> None:
    parse, leave_out = DOORS[door]
    if name in leave_out:
        return
    argv, value = examples(tmp_path)[name]
    expected = GenerateOptions(**{name: value})
    options = options_from(parse(argv), leave_out=leave_out)
    assert options == expected
    assert generate_request("q", options) == generate_request("q", expected)
    assert generate_request("q", options) != generate_request("q", GenerateOptions())


def test_no_flags_leave_every_option_to_the_service() -> None:
    for door, (parse, leave_out) in DOORS.items():
        assert options_from(parse([]), leave_out=leave_out) == GenerateOptions(), door


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--agents", "missing.json"], "--agents"),
        (["--metadata", "no-equals"], "--metadata"),
        (["--tools", "missing.json"], "--tools"),
        (["-n", "0"], "n"),
    ],
)
def test_a_bad_flag_is_a_value_error_naming_it(argv: list[str], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        options_from(ask(argv))
