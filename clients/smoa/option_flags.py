"""The command line's flags for what a request asks for, and the GenerateOptions they make, side by side:
`smoa ask` takes them all; `smoa load` and `smoa eval` take the judge's ranking flags next to their own
(their -n, -k and --layers have defaults of their own, and their --seed seeds something else)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from smoa.options import GenerateOptions
from smoa.ranking import Aggregation, Selection
from smoa.request import JsonAnswer, ModelSettings
from smoa.result import Mode


def add_option_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.SMOA.value,
        help="smoa: sparse, judge and early stop; moa: dense; single: one call; auto: two proposers first, "
        "more only when they disagree (default: %(default)s)",
    )
    p.add_argument("-n", type=int, help="proposers per layer (default: the service's)")
    p.add_argument("-k", type=int, help="answers kept per layer (default: the service's)")
    p.add_argument("--layers", type=int, help="maximum layers (default: the service's)")
    p.add_argument(
        "--fused",
        action=argparse.BooleanOptionalAction,
        help="judge and moderator in one LLM call, or (--no-fused) two (default: the service's, fused)",
    )
    add_ranking_flags(p)
    p.add_argument("--task", help="task description the proposers' roles are written for")
    p.add_argument("--role", action="append", help="a proposer role (repeat for more; not with --task)")
    p.add_argument("--max-tokens", type=int, help="per LLM call (default: the service's)")
    p.add_argument("--token-budget", type=int, help="total tokens the request may spend (default: unlimited)")
    p.add_argument("--seed", type=int, help="same seed, same pipeline decisions")
    p.add_argument("--stop", action="append", help="the answer ends before this (repeat for up to 4)")
    answer = p.add_mutually_exclusive_group()
    answer.add_argument(
        "--json-object", action="store_true", help="the answer is a JSON object (checked before it is sent)"
    )
    answer.add_argument(
        "--json-schema",
        type=Path,
        metavar="FILE",
        help="the answer is JSON valid against the JSON Schema in FILE (checked before it is sent)",
    )


def json_answer(args: argparse.Namespace) -> JsonAnswer | None:
    if args.json_schema is not None:
        try:
            schema = json.loads(args.json_schema.read_text())
        except (OSError, ValueError) as e:
            raise ValueError(
                f"--json-schema: cannot read a JSON Schema from {args.json_schema}: {e}"
            ) from None
        if not isinstance(schema, dict):
            raise ValueError(f"--json-schema: {args.json_schema} holds no JSON object")
        return JsonAnswer(schema=schema, name=args.json_schema.stem)
    return JsonAnswer() if args.json_object else None


def add_ranking_flags(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument(
        "--aggregation",
        choices=[a.value for a in Aggregation],
        help="how the judge combines its ballots (default: the service's, borda)",
    )
    p.add_argument(
        "--selection",
        choices=[s.value for s in Selection],
        help="how the judge picks the answers kept (default: the service's, top_k)",
    )


def options_from(args: argparse.Namespace) -> GenerateOptions:
    """`smoa ask`'s. Raises ValueError naming the option for a bad value (n = 0, --role with --task)."""
    return GenerateOptions(
        mode=args.mode,
        n=args.n,
        k=args.k,
        max_layers=args.layers,
        roles=args.role,
        task_description=args.task,
        model=ModelSettings(max_tokens=args.max_tokens) if args.max_tokens is not None else None,
        fused=args.fused,
        token_budget=args.token_budget,
        seed=args.seed,
        aggregation=args.aggregation,
        selection=args.selection,
        stop=args.stop,
        response_format=json_answer(args),
    )
