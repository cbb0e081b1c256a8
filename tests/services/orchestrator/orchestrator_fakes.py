"""In-memory stand-ins for what the orchestrator's pipeline talks to: the three peer ports and a chat
model, each scripted by the test and recording every call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smoa_services.ensemble.decision import Decision
from smoa_services.llm import Completion, ModelChoice
from smoa_services.llm.completion import Message
from smoa_services.llm.usage import Usage
from smoa_services.orchestrator.ports import JudgeCall, Judgement, Moderation, Peers, Proposal
from smoa_services.orchestrator.records import Candidate

PROPOSER_USAGE = Usage(100, 20, 1)
JUDGE_USAGE = Usage(300, 30, 1)
MODERATOR_USAGE = Usage(200, 10, 1)


@dataclass(frozen=True)
class ProposeCall:
    role: str
    references: list[Candidate]
    model: ModelChoice


class FakeProposers:
    """Answers per role; `delays` and `failures` by role override the common delay and success."""

    def __init__(
        self,
        answer: Callable[[str, Sequence[Candidate]], str] | None = None,
        delay: float = 0.0,
        delays: Mapping[str, float] | None = None,
        failures: Mapping[str, Exception] | None = None,
    ):
        # Each role's answer commits to its own number, so that by default they disagree.
        self.answer = answer or (
            lambda role, refs: f"{role} answers after {len(refs)} references: {sum(map(ord, role))}"
        )
        self.delay = delay
        self.delays = dict(delays or {})
        self.failures = dict(failures or {})
        self.calls: list[ProposeCall] = []
        self.cancelled = 0

    async def propose(self, role: str, references: Sequence[Candidate], model: ModelChoice) -> Proposal:
        self.calls.append(ProposeCall(role, list(references), model))
        try:
            delay = self.delays.get(role, self.delay)
            if delay:
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if role in self.failures:
            raise self.failures[role]
        return Proposal(self.answer(role, references), PROPOSER_USAGE, "fake-model")


class FakeJudge:
    """Keeps the k candidates with the highest proposer index (so "which were kept" is not just the
    first k), unless `keep` says otherwise; fused decisions come from `decisions` by layer."""

    def __init__(
        self,
        keep: Callable[[JudgeCall], list[str]] | None = None,
        decisions: dict[int, Decision] | None = None,
        duplicates: Sequence[str] = (),
        fail: Exception | None = None,
    ):
        self.keep = keep or (lambda call: [c.id for c in reversed(call.candidates)][: call.k])
        self.fail = fail
        self.decisions = decisions or {}
        self.duplicates = list(duplicates)
        self.calls: list[JudgeCall] = []

    async def judge(self, call: JudgeCall) -> Judgement:
        self.calls.append(call)
        if self.fail is not None:
            raise self.fail
        kept = self.keep(call)
        return Judgement(
            kept_ids=kept,
            scores=[(i, 10.0 - n) for n, i in enumerate(kept)],
            duplicate_ids=self.duplicates,
            usage=JUDGE_USAGE,
            decision=self.decisions.get(call.layer, Decision.CONTINUE) if call.decide else None,
            reason="fused reason" if call.decide else "",
        )


@dataclass
class FakeModerator:
    # By layer; CONTINUE (with an LLM call) when not given.
    decisions: dict[int, Moderation] = field(default_factory=dict)
    calls: list[tuple[list[str], int, int]] = field(default_factory=list)
    fail: Exception | None = None

    async def moderate(
        self, kept: Sequence[Candidate], layer: int, max_layers: int, model: ModelChoice
    ) -> Moderation:
        self.calls.append(([c.id for c in kept], layer, max_layers))
        if self.fail is not None:
            raise self.fail
        return self.decisions.get(layer, Moderation(Decision.CONTINUE, "go on", 0.3, MODERATOR_USAGE, True))


class FakeChat:
    """The orchestrator's own LLM calls. `complete` answers with `replies` in turn (role writing, a
    structured final answer); `stream` writes `text` word by word (aggregator, SINGLE), or raises `fail`
    after `fail_after` words (`complete` raises it when `fail_after` is 0)."""

    def __init__(
        self,
        text: str = "the final answer",
        replies: Sequence[str] = (),
        fail: Exception | None = None,
        fail_after: int = 0,
    ):
        self.text = text
        self.replies = list(replies)
        self.fail = fail
        self.fail_after = fail_after
        self.completed: list[list[Message]] = []
        self.streamed: list[list[Message]] = []

    def _completion(self, text: str) -> Completion:
        return Completion(text, 50, len(text.split()), False, "fake-model", "stop", 0.0)

    async def complete(
        self,
        messages: Sequence[Message],
        choice: ModelChoice,
        *,
        timeout: float,
        json_mode: bool = False,
        schema: Mapping[str, Any] | None = None,
    ) -> Completion:
        self.completed.append(list(messages))
        if self.fail is not None and self.fail_after == 0:
            raise self.fail
        return self._completion(self.replies.pop(0))

    async def stream(
        self, messages: Sequence[Message], choice: ModelChoice, *, timeout: float
    ) -> AsyncIterator[str | Completion]:
        self.streamed.append(list(messages))
        words = self.text.split(" ")
        for i, word in enumerate(words):
            if self.fail is not None and i == self.fail_after:
                raise self.fail
            yield word if i == 0 else " " + word
        yield self._completion(self.text)


def fake_peers(
    proposers: FakeProposers | None = None,
    judge: FakeJudge | None = None,
    moderator: FakeModerator | None = None,
) -> tuple[Peers, FakeProposers, FakeJudge, FakeModerator]:
    p, j, m = proposers or FakeProposers(), judge or FakeJudge(), moderator or FakeModerator()
    return Peers(p, j, m), p, j, m
