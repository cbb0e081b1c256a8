"""The command line's flags for GenerateOptions, in one table with a row per field: `smoa ask`, `smoa load`
and Locust (as --smoa-NAME) add their flags from it and read the GenerateOptions back with it, so a field
GenerateOptions gains gets its flag here, once (tests/client/test_option_flags.py walks GenerateOptions
and fails until it does). `smoa eval` takes the judge's ranking rows only: its requests are its own."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from smoa.options import GenerateOptions
from smoa.ranking import Aggregation, Selection
from smoa.request import JsonAnswer, ModelSettings, Skips
from smoa.result import Mode
from smoa.tools import Tool

SKIPPABLE = [f.name for f in fields(Skips)]


class Flags:
    """Adds flags to a parser or group with a prefix ("" for smoa's own commands, "smoa-" among Locust's),
    each storing under a destination of its own, so the rows read them back whatever the prefix."""

    def __init__(self, parser: Any, prefix: str = ""):
        self.parser = parser
        self.prefix = prefix

    def __call__(self, name: str, **options: Any) -> None:
        short = len(name) == 1 and not self.prefix
        flag = f"-{name}" if short else f"--{self.prefix}{name.replace('_', '-')}"
        self.parser.add_argument(flag, dest=destination(name), **options)

    def exclusive(self) -> Flags:
        return Flags(self.parser.add_mutually_exclusive_group(), self.prefix)


def destination(name: str) -> str:
    return f"option_{name}"


def given(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, destination(name))


def json_file(flag: str, path: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"--{flag}: cannot read JSON from {path}: {e}") from None


def add_model(add: Flags) -> None:
    add("model", help="the model every agent asks (default: the service's)")
    add("max_tokens", type=int, help="per LLM call (default: the service's)")
    add("temperature", type=float, help="sampling temperature (default: the service's)")


def read_model(args: argparse.Namespace) -> ModelSettings | None:
    model, max_tokens, temperature = (given(args, n) for n in ("model", "max_tokens", "temperature"))
    if model is None and max_tokens is None and temperature is None:
        return None
    return ModelSettings(model=model or "", max_tokens=max_tokens, temperature=temperature)


def read_agents(args: argparse.Namespace) -> dict[int, ModelSettings | str] | None:
    path = given(args, "agents")
    if path is None:
        return None
    found = json_file("agents", path)
    if not isinstance(found, dict):
        raise ValueError(f'--agents: {path} holds no JSON object such as {{"0": "model-name"}}')
    agents: dict[int, ModelSettings | str] = {}
    for index, settings in found.items():
        if not str(index).isdigit():
            raise ValueError(f"--agents: {index!r} is not a proposer's index (0, 1, ...)")
        try:
            agents[int(index)] = settings if isinstance(settings, str) else ModelSettings(**settings)
        except TypeError as e:
            raise ValueError(f"--agents: proposer {index}: {e}") from None
    return agents


def add_skips(add: Flags) -> None:
    add("skip", action="append", choices=SKIPPABLE, metavar="CALL", help=f"may leave out: {SKIPPABLE}")
    add("no_skip", action="append", choices=SKIPPABLE, metavar="CALL", help="must not leave out CALL")


def read_skips(args: argparse.Namespace) -> Skips | None:
    skip, keep = given(args, "skip") or [], given(args, "no_skip") or []
    if not skip and not keep:
        return None
    return Skips(**{name: True for name in skip}, **{name: False for name in keep})


def read_metadata(args: argparse.Namespace) -> dict[str, str] | None:
    pairs = given(args, "metadata")
    if pairs is None:
        return None
    if not all("=" in pair for pair in pairs):
        raise ValueError("--metadata: give KEY=VALUE")
    return dict(pair.split("=", 1) for pair in pairs)


def add_answer_format(add: Flags) -> None:
    answer = add.exclusive()
    answer("json_object", action="store_true", help="the answer is a JSON object (checked before it is sent)")
    answer(
        "json_schema",
        metavar="FILE",
        help="the answer is JSON valid against the JSON Schema in FILE (checked before it is sent)",
    )


def read_answer_format(args: argparse.Namespace) -> JsonAnswer | None:
    path = given(args, "json_schema")
    if path is not None:
        schema = json_file("json-schema", path)
        if not isinstance(schema, dict):
            raise ValueError(f"--json-schema: {path} holds no JSON object")
        return JsonAnswer(schema=schema, name=Path(path).stem)
    return JsonAnswer() if given(args, "json_object") else None


def read_tools(args: argparse.Namespace) -> list[Tool] | None:
    path = given(args, "tools")
    if path is None:
        return None
    found = json_file("tools", path)
    if not isinstance(found, list):
        raise ValueError(f"--tools: {path} holds no JSON list of tools")
    tools = []
    for tool in found:
        # OpenAI's form ({"type": "function", "function": {...}}) or the function alone.
        function = tool.get("function", tool) if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ValueError(f"--tools: {path}: each tool needs a name")
        tools.append(Tool(function["name"], function.get("description", ""), function.get("parameters")))
    return tools


def one(name: str, **options: Any) -> tuple[Callable[[Flags], None], Callable[[argparse.Namespace], Any]]:
    """A row whose one flag gives the option as parsed."""
    return (lambda add: add(name, **options)), (lambda args: given(args, name))


# Each GenerateOptions field: how its flags are added, and how its value is read from them.
ROWS: Mapping[str, tuple[Callable[[Flags], None], Callable[[argparse.Namespace], Any]]] = {
    "mode": one(
        "mode",
        choices=[m.value for m in Mode],
        default=Mode.SMOA.value,
        help="smoa: sparse, judge and early stop; moa: dense; single: one call; auto: two proposers first, "
        "more only when they disagree (default: %(default)s)",
    ),
    "n": one("n", type=int, help="proposers per layer (default: the service's)"),
    "k": one("k", type=int, help="answers kept per layer (default: the service's)"),
    "max_layers": one("layers", type=int, help="maximum layers (default: the service's)"),
    "roles": one("role", action="append", help="a proposer role (repeat for more; not with --task)"),
    "task_description": one("task", help="task description the proposers' roles are written for"),
    "model": (add_model, read_model),
    "agents": (
        lambda add: add(
            "agents",
            metavar="FILE",
            help='JSON settings of single proposers by index, over --model: {"0": "model-name", '
            '"1": {"model": "m", "temperature": 0.2}}',
        ),
        read_agents,
    ),
    "fused": one(
        "fused",
        action=argparse.BooleanOptionalAction,
        help="judge and moderator in one LLM call, or (--no-fused) two (default: the service's, fused)",
    ),
    "token_budget": one("token_budget", type=int, help="total tokens the request may spend"),
    "seed": one("seed", type=int, help="same seed, same pipeline decisions"),
    "aggregation": one(
        "aggregation",
        choices=[a.value for a in Aggregation],
        help="how the judge combines its ballots (default: the service's, borda)",
    ),
    "selection": one(
        "selection",
        choices=[s.value for s in Selection],
        help="how the judge picks the answers kept (default: the service's, top_k)",
    ),
    "quorum": one("quorum", type=int, help="proposers a layer needs to go on (default: max(k, n/2))"),
    "judge_passes": one(
        "judge_passes", type=int, help="shuffled judge passes per layer, 1 to 8 (default: 1)"
    ),
    "first_layer_start": one(
        "first_layer_start",
        type=int,
        help="proposers the first layer asks first, more only while they disagree (default: all n)",
    ),
    "first_layer_step": one(
        "first_layer_step", type=int, help="proposers the first layer adds each time (default: 1)"
    ),
    "rank_agents": one(
        "rank_agents",
        action=argparse.BooleanOptionalAction,
        help="ask the first layer's proposers in the agent ranking's order (default: the service's, no)",
    ),
    "skips": (add_skips, read_skips),
    "stop": one("stop", action="append", help="the answer ends before this (repeat for up to 4)"),
    "metadata": (
        lambda add: add(
            "metadata",
            action="append",
            metavar="KEY=VALUE",
            help="a label recorded with the request (repeat)",
        ),
        read_metadata,
    ),
    "response_format": (add_answer_format, read_answer_format),
    "tools": (
        lambda add: add(
            "tools", metavar="FILE", help="a JSON list of functions the answer may call (OpenAI's tools)"
        ),
        read_tools,
    ),
    "tool_choice": one("tool_choice", help="auto, none, required, or the name of the function to call"),
    "parallel_tool_calls": one(
        "parallel_tool_calls",
        action=argparse.BooleanOptionalAction,
        help="whether one answer may call several tools (default: yes)",
    ),
}
RANKING = ("aggregation", "selection")


def add_option_flags(
    parser: Any, prefix: str = "", leave_out: Collection[str] = (), only: Collection[str] | None = None
) -> None:
    add = Flags(parser, prefix)
    for name, (adds, _) in ROWS.items():
        if name not in leave_out and (only is None or name in only):
            adds(add)


def options_from(
    args: argparse.Namespace,
    leave_out: Collection[str] = (),
    only: Collection[str] | None = None,
    **fixed: Any,
) -> GenerateOptions:
    """The GenerateOptions the flags say (those added with the same `leave_out` and `only`), and `fixed`.
    Raises ValueError naming the flag or option for a bad value (n = 0, --role with --task, a bad file)."""
    chosen = {
        name: read(args)
        for name, (_, read) in ROWS.items()
        if name not in leave_out and (only is None or name in only)
    }
    return GenerateOptions(**{**chosen, **fixed})
