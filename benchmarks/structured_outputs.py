"""Structured outputs against plain text, on the same items, against a running stack (the local stack of
`make run` by default, so the embedded model): for each item one request for free text and one for JSON
valid against a small schema, in turn. It reports how often the JSON answer validated, how often it took
a repair (asked again) or fell back to a kept answer, how often no valid answer could be had, and the
tokens and wall time of JSON against text, paired per item.

    .venv/bin/python -m smoa_services.stack start
    .venv/bin/python benchmarks/structured_outputs.py --items 20 [--target 127.0.0.1:50051] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jsonschema

from smoa import GenerateOptions, JsonAnswer, ModelSettings, SmoaClient, SmoaError
from smoa.eval.basics import basics

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}


@dataclass
class Outcome:
    item: str
    form: str  # text or json
    seconds: float
    tokens: int
    ok: bool  # text: answered; json: answered with JSON valid against SCHEMA
    repaired: bool = False
    fell_back: bool = False
    error: str = ""


def ask(client: SmoaClient, question: str, options: GenerateOptions, item: str, form: str) -> Outcome:
    started = time.monotonic()
    try:
        result = client.generate(question, options)
    except SmoaError as e:
        return Outcome(item, form, time.monotonic() - started, 0, False, error=f"{e.code}: {e.message[:160]}")
    seconds, tokens = (
        time.monotonic() - started,
        result.cost.total.input_tokens + result.cost.total.output_tokens,
    )
    if form == "text":
        return Outcome(item, form, seconds, tokens, bool(result.text.strip()))
    try:
        jsonschema.validate(json.loads(result.text), SCHEMA)
        ok = True
    except (ValueError, jsonschema.ValidationError):
        ok = False
    return Outcome(
        item,
        form,
        seconds,
        tokens,
        ok,
        repaired=any(s.action == "format_repair" for s in result.steps),
        fell_back=any(d.stage in {"aggregator", "single"} for d in result.degradations),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--mode", default="smoa")
    parser.add_argument("-n", type=int, default=3)
    parser.add_argument("-k", type=int, default=2)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--out", type=Path, help="also write every outcome as JSON")
    args = parser.parse_args(argv)
    base = GenerateOptions(
        mode=args.mode, n=args.n, k=args.k, max_layers=args.layers, seed=1,
        model=ModelSettings(max_tokens=args.max_tokens),
    )  # fmt: skip
    as_json = GenerateOptions(
        **{**asdict_shallow(base), "response_format": JsonAnswer(SCHEMA, name="answer")}
    )
    outcomes: list[Outcome] = []
    with SmoaClient(args.target, timeout=600) as client:
        for item in basics(args.items):
            for form, options in (("text", base), ("json", as_json)):
                outcome = ask(client, item.question, options, item.id, form)
                outcomes.append(outcome)
                print(json.dumps(asdict(outcome)), flush=True)
    report(outcomes)
    if args.out:
        args.out.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")
    return 0


def asdict_shallow(options: GenerateOptions) -> dict[str, Any]:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


def report(outcomes: list[Outcome]) -> None:
    text = {o.item: o for o in outcomes if o.form == "text"}
    structured = [o for o in outcomes if o.form == "json"]
    n = len(structured)
    valid = sum(o.ok for o in structured)
    print(f"\nstructured answers: {valid} of {n} valid against the schema")
    print(f"  valid at once: {sum(o.ok and not o.repaired and not o.fell_back for o in structured)}")
    print(f"  needed a repair (asked again): {sum(o.repaired for o in structured)}")
    print(f"  fell back to a kept answer: {sum(o.fell_back for o in structured)}")
    print(f"  failed, no valid answer (OUTPUT_NOT_VALID): {sum(bool(o.error) for o in structured)}")
    paired = [
        (text[o.item], o) for o in structured if o.item in text and not o.error and not text[o.item].error
    ]
    if paired:
        tokens = [s.tokens / t.tokens for t, s in paired if t.tokens]
        seconds = [s.seconds / t.seconds for t, s in paired if t.seconds]
        print(
            f"JSON against text on the same {len(paired)} items: tokens x{statistics.median(tokens):.2f} "
            f"(median of ratios; totals {sum(s.tokens for _, s in paired)} vs "
            f"{sum(t.tokens for t, _ in paired)}), "
            f"wall time x{statistics.median(seconds):.2f} "
            f"(p50 {statistics.median(s.seconds for _, s in paired):.1f} s vs "
            f"{statistics.median(t.seconds for t, _ in paired):.1f} s)"
        )


if __name__ == "__main__":
    sys.exit(main())
