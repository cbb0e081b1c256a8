"""What the pipeline needs from the outside, as small Protocols: the three peer services (implemented
over gRPC by peers.py, by in-memory fakes in tests) and a chat model for the orchestrator's own calls
(role writing, the aggregator, SINGLE; ChatModel fits). Per-request context (the conversation on the wire,
the deadline) lives in the implementations, so the pipeline passes only what changes per call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from smoa_services.llm import Completion, ModelChoice
from smoa_services.orchestrator.cost import Usage
from smoa_services.orchestrator.plan import Message
from smoa_services.orchestrator.records import Candidate, Decision


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
    fused: bool = False
    seed: int | None = None
    aggregation: int = 0
    selection: int = 0
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
    decision: Decision = Decision.UNSPECIFIED
    reason: str = ""
    agreement: float = 0.0


@dataclass(frozen=True)
class Moderation:
    decision: Decision
    reason: str = ""
    agreement: float = 0.0
    usage: Usage = field(default_factory=Usage)
    # False: the cheap agreement check decided, no LLM call was made.
    llm_used: bool = True


class Proposers(Protocol):
    async def propose(self, role: str, references: Sequence[Candidate], model: ModelChoice) -> Proposal: ...


class Judge(Protocol):
    async def judge(self, call: JudgeCall) -> Judgement: ...


class Moderator(Protocol):
    async def moderate(
        self, kept: Sequence[Candidate], layer: int, max_layers: int, model: ModelChoice
    ) -> Moderation: ...


@dataclass(frozen=True)
class Peers:
    proposers: Proposers
    judge: Judge
    moderator: Moderator


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


class PeerUnavailable(Exception):
    """A peer service could not be reached (after the channel's retries) or is overloaded."""

    def __init__(self, peer: str, detail: str):
        super().__init__(f"{peer} service unavailable: {detail}")
        self.peer = peer


class PeerDeadlineExceeded(Exception):
    def __init__(self, peer: str):
        super().__init__(f"{peer} service did not answer before the deadline")
        self.peer = peer


class PeerFailed(Exception):
    """A peer answered with an error that retrying will not fix (a bug on one side or the other)."""

    def __init__(self, peer: str, code: str, detail: str):
        super().__init__(f"{peer} service failed with {code}: {detail}")
        self.peer = peer
        self.code = code


def usage_of(completion: Completion) -> Usage:
    return Usage(completion.input_tokens, completion.output_tokens, 1, completion.estimated)
