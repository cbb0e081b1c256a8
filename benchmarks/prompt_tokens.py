"""Input tokens of one judge, fused judge and moderator call: the prompts of a git revision against the
working tree's, for the same conversations and candidates, counted by the model itself (a completion of
one token reports its prompt's tokens, chat template included).

    .venv/bin/python benchmarks/prompt_tokens.py --before REV [--base-url http://127.0.0.1:8080/v1]

Conversations: the first 12 `basics` questions as `smoa eval` asks them. Candidates: four answers of
typical proposer length; the moderator sees the first two (k = 2)."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai import OpenAI

from smoa.eval.basics import basics
from smoa.eval.prompts import question_text

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = {
    "judge": "services/smoa_services/judge/prompt.py",
    "moderator": "services/smoa_services/moderator/prompt.py",
}
CANDIDATES = [
    "Let me work through this carefully. Looking at the question, the options given are all plausible at "
    "first sight, but only one of them fits what is asked. Checking each in turn, the first one does not "
    "match, and the second one is exactly right, so that is my answer.",
    "The answer is the second option. It is the only one that satisfies the question; the others are "
    "common mistakes that come from misreading it or from a slip in the arithmetic.",
    "I think the correct choice is the third one, because when you compare them side by side it is the "
    "closest to what the question describes, although the second one is also close.",
    "After considering all of the options, I would pick the second. The question is simple once you read "
    "it slowly, and the answer follows directly from the facts it states.",
]


def module(source: str, name: str) -> Any:
    loaded = types.ModuleType(name)
    exec(compile(source, name, "exec"), loaded.__dict__)
    return loaded


def at(revision: str, path: str) -> str:
    return subprocess.run(
        ["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", required=True, help="git revision whose prompts are compared")
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1", help="the model that counts")
    parser.add_argument("--model", default="smollm2-135m")
    args = parser.parse_args()
    client = OpenAI(base_url=args.base_url, api_key="unused")

    def tokens(messages: list[dict[str, str]]) -> int:
        reply = client.chat.completions.create(model=args.model, messages=messages, max_tokens=1)  # type: ignore[arg-type]
        assert reply.usage is not None
        return reply.usage.prompt_tokens

    versions = {
        label: {role: module(read(path), f"{role}_{label}") for role, path in PROMPTS.items()}
        for label, read in (
            ("before", lambda p: at(args.before, p)),
            ("now", lambda p: (ROOT / p).read_text()),
        )
    }
    calls: dict[str, Callable[[Any, Any, list[dict[str, str]]], list[dict[str, str]]]] = {
        "judge": lambda j, m, c: j.judge_messages(c, CANDIDATES, False),
        "fused judge": lambda j, m, c: j.judge_messages(c, CANDIDATES, True),
        "moderator": lambda j, m, c: m.moderator_messages(c, CANDIDATES[:2], 1, 2),
    }
    print(f"input tokens per call, prompts of {args.before} vs the working tree ({args.model})")
    for name, build in calls.items():
        counts: dict[str, list[int]] = {"before": [], "now": []}
        for item in basics()[:12]:
            conversation = [{"role": "user", "content": question_text(item)}]
            for label, prompts in versions.items():
                counts[label].append(tokens(build(prompts["judge"], prompts["moderator"], conversation)))
        before, now = statistics.mean(counts["before"]), statistics.mean(counts["now"])
        saved = f"saved {before - now:4.0f} ({1 - now / before:.0%})"
        print(f"  {name:12} before {before:5.0f}   now {now:5.0f}   {saved}")


if __name__ == "__main__":
    main()
