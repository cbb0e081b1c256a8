"""MT-Bench's single-answer grading (Zheng et al. 2023): an LLM judge rates a response 1-10 with the
prompts FastChat ships (`single-v1`; `single-math-v1` with a reference answer), read from the package
data, and the rating is read from "[[7]]" as FastChat reads it.

The judge is any OpenAI-compatible endpoint, called through the `openai` SDK (the eval extra); its key,
if it needs one, comes from SMOA_JUDGE_API_KEY (never a flag).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from smoa.eval.datasets import MTBENCH_JUDGE_PROMPTS
from smoa.eval.extras import require
from smoa.eval.item import Item

GENERAL_PROMPT = "single-v1"
REFERENCE_PROMPT = "single-math-v1"
# FastChat's patterns: "[[7]]", else "[7]"; the first match counts.
RATING = re.compile(r"\[\[(\d+\.?\d*)\]\]")
RATING_BACKUP = re.compile(r"\[(\d+\.?\d*)\]")
LOWEST, HIGHEST = 1.0, 10.0
# FastChat judges with temperature 0 and up to 2048 tokens.
DEFAULT_MAX_TOKENS = 2048
API_KEY_VARIABLE = "SMOA_JUDGE_API_KEY"


@dataclass(frozen=True)
class JudgePrompt:
    name: str
    system: str
    template: str


def judge_prompts() -> dict[str, JudgePrompt]:
    prompts = {}
    for line in MTBENCH_JUDGE_PROMPTS.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            prompts[row["name"]] = JudgePrompt(row["name"], row["system_prompt"], row["prompt_template"])
    return prompts


def judge_messages(item: Item, answer: str, prompts: dict[str, JudgePrompt]) -> list[dict[str, str]]:
    """The chat the judge sees: with a reference answer when the item has one, as FastChat does for its
    math, reasoning and coding questions."""
    if item.reference:
        prompt = prompts[REFERENCE_PROMPT]
        user = prompt.template.format(question=item.question, answer=answer, ref_answer_1=item.reference)
    else:
        prompt = prompts[GENERAL_PROMPT]
        user = prompt.template.format(question=item.question, answer=answer)
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": user}]


def parse_rating(judgment: str) -> float | None:
    """The judge's rating, or None where it gave none (FastChat records -1) or one outside 1-10."""
    match = RATING.search(judgment) or RATING_BACKUP.search(judgment)
    if match is None:
        return None
    rating = float(match.group(1))
    return rating if LOWEST <= rating <= HIGHEST else None


@dataclass(frozen=True)
class Judgment:
    # None: the judge gave no readable rating (or its call failed: see `error`).
    score: float | None
    text: str
    error: str = ""


class MtBenchRater:
    """Rates answers with one model on one endpoint. Open it inside the event loop that uses it."""

    def __init__(
        self, base_url: str, model: str, *, max_tokens: int = DEFAULT_MAX_TOKENS, timeout: float = 600
    ):
        openai = require("openai", "the LLM judge")
        self.model, self.max_tokens = model, max_tokens
        self.prompts = judge_prompts()
        self._client: Any = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=os.environ.get(API_KEY_VARIABLE) or "none",
            timeout=timeout,
            max_retries=2,
        )

    async def rate(self, item: Item, answer: str) -> Judgment:
        try:
            reply = await self._client.chat.completions.create(
                model=self.model,
                messages=judge_messages(item, answer, self.prompts),
                temperature=0.0,
                max_tokens=self.max_tokens,
            )
        except Exception as e:  # any failure of the judge is recorded with the item, not fatal to the run
            return Judgment(None, "", f"{type(e).__name__}: {e}")
        text = reply.choices[0].message.content or "" if reply.choices else ""
        return Judgment(parse_rating(text), text)

    async def close(self) -> None:
        await self._client.close()
