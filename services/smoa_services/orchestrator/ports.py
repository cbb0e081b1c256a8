"""What the pipeline needs from the outside, as small Protocols: the three peer services (implemented
over gRPC by peers.py, by in-memory fakes in tests) and a chat model for the orchestrator's own calls
(role writing, the aggregator, SINGLE; ChatModel fits). Per-request context (the conversation on the wire,
the request's timeline) lives in the implementations, so the pipeline passes only what changes per call.
A peer that fails raises a `Failure` (failure.py); the pipeline degrades around it or lets it through."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from smoa_services.ensemble.decision import Decision
from smoa_services.ensemble.ranking_methods import Aggregation, Selection
from smoa_services.llm import Completion, ModelChoice
from smoa_services.llm.completion import Message
from smoa_services.llm.usage import Usage
from smoa_services.orchestrator.records import Candidate


@dataclass(frozen=True)
class Proposal:
    text: str
    usage: Usage
    model: str = ""


@dataclass(frozen=True)
class JudgeCall:
    candidates: Sequence[Candidate]
    k: int
    layer: int
    max_layers: int
    model: ModelChoice
    # The judge also decides whether to stop (fused with the moderator). Only asked while layers remain.
    decide: bool = False
    seed: int | None = None
    aggregation: Aggregation | None = None
    selection: Selection | None = None
    passes: int = 1


@dataclass(frozen=True)
class Judgement:
    kept_ids: list[str]
    scores: list[tuple[str, float]] = field(default_factory=list)
    # Candidates judged as near-duplicates of another (not the cluster representatives).
    duplicate_ids: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    # Every LLM pass failed; the ranking is the consensus centrality fallback.
    fallback: bool = False
    # Only for fused calls.
    decision: Decision | None = None
    reason: str = ""
    agreement: float = 0.0


@dataclass(frozen=True)
class Moderation:
    # None only from a moderator that broke the contract (UNSPECIFIED on the wire).
    decision: Decision | None
    reason: str = ""
    agreement: float = 0.0
    usage: Usage = field(default_factory=Usage)
    # False: the cheap agreement check decided, no LLM call was made.
    llm_used: bool = True
    # The moderator's LLM failed or gave no valid decision and its rule decided.
    fallback: bool = False


class Proposers(Protocol):
    async def propose(self, role: str, references: Sequence[Candidate], model: ModelChoice) -> Proposal: ...


class JudgePeer(Protocol):
    async def judge(self, call: JudgeCall) -> Judgement: ...


class ModeratorPeer(Protocol):
    async def moderate(
        self, kept: Sequence[Candidate], layer: int, max_layers: int, model: ModelChoice
    ) -> Moderation: ...


@dataclass(frozen=True)
class Peers:
    proposers: Proposers
    judge: JudgePeer
    moderator: ModeratorPeer


class Chat(Protocol):
    async def complete(
        self,
        messages: Sequence[Message],
        choice: ModelChoice,
        *,
        timeout: float,
        json_mode: bool = False,
        schema: Mapping[str, Any] | None = None,
    ) -> Completion: ...

    def stream(
        self, messages: Sequence[Message], choice: ModelChoice, *, timeout: float
    ) -> AsyncIterator[str | Completion]: ...
