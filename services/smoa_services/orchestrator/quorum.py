"""A layer is a quorum, not a barrier. The n proposer calls run at once; as soon as q of them answered,
the rest get a bounded extra wait (a share of the time the quorum took, capped) and are then cancelled.
Who failed, timed out or was cut off is recorded. When the quorum can no longer be reached (too many
failed), the layer fails at once, without waiting for the rest or for the deadline.

Plain asyncio over awaitables, no gRPC: the failures it sorts are `Failure`s (a peer's status, kept) and
timeouts."""

from __future__ import annotations

import asyncio
import enum
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import grpc

from smoa_services.rpc.failure import Failure, PeerNotReady, QuorumNotMet

T = TypeVar("T")


def default_quorum(n: int, k: int) -> int:
    """max(k, ⌈n/2⌉): enough answers for the judge to keep k, and a majority of the layer."""
    return min(n, max(k, math.ceil(n / 2)))


@dataclass(frozen=True)
class StragglerWait:
    """Once the quorum answered after t seconds, the rest get min(max_seconds, max(min_seconds, factor * t))
    more."""

    factor: float = 1.0
    # However fast the quorum was, the rest get this long: a busy host's scheduling delays are not
    # slowness. On a fast backend (tens of milliseconds) they are most of a call; at 0.05 s, one in five
    # answers of a fault-free compose deployment on 2 cores lost a proposer (make e2e, 2026-12-07).
    min_seconds: float = 0.5
    max_seconds: float = 10.0

    def seconds(self, quorum_seconds: float) -> float:
        return min(self.max_seconds, max(self.min_seconds, self.factor * quorum_seconds))


@dataclass(frozen=True)
class QuorumPolicy:
    quorum: int
    wait: StragglerWait = StragglerWait()


class MissingKind(enum.Enum):
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CUT_OFF = "cut_off"


@dataclass(frozen=True)
class Missing:
    """A call that did not answer: which, why, and when (seconds from the start of the layer)."""

    index: int
    kind: MissingKind
    code: str
    detail: str
    elapsed: float

    def describe(self) -> str:
        what = {
            MissingKind.FAILED: f"failed {self.code}: {self.detail}",
            MissingKind.TIMED_OUT: "timed out",
            MissingKind.CUT_OFF: "cut off",
        }[self.kind]
        return f"P{self.index} {what} after {self.elapsed:.2f}s"


@dataclass(frozen=True)
class Gathered(Generic[T]):
    # By proposer index, in index order.
    answers: dict[int, T]
    missing: list[Missing]


async def gather_quorum(
    calls: Mapping[int, Callable[[], Awaitable[T]]], policy: QuorumPolicy, layer: int = 0
) -> Gathered[T]:
    """`calls` by proposer index (a layer may be asked in parts: AUTO's panel, then the rest)."""
    started = time.perf_counter()
    tasks = {asyncio.ensure_future(call()): i for i, call in calls.items()}
    answers: dict[int, T] = {}
    missing: list[Missing] = []
    failures: list[Failure] = []
    cut_at: float | None = None
    try:
        while tasks:
            timeout = None if cut_at is None else max(0.0, cut_at - time.perf_counter())
            done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                break  # the stragglers' wait is over
            for task in done:
                index = tasks.pop(task)
                elapsed = time.perf_counter() - started
                error = task.exception()
                if error is None:
                    answers[index] = task.result()
                    if cut_at is None and len(answers) >= policy.quorum:
                        cut_at = time.perf_counter() + policy.wait.seconds(elapsed)
                    continue
                missing.append(_missing(index, error, elapsed))
                if isinstance(error, Failure):
                    failures.append(error)
            if len(answers) + len(tasks) < policy.quorum:
                raise _not_met(len(answers), missing, failures, policy.quorum, layer)
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
    elapsed = time.perf_counter() - started
    missing += [Missing(i, MissingKind.CUT_OFF, "CANCELLED", "", elapsed) for i in tasks.values()]
    return Gathered(dict(sorted(answers.items())), sorted(missing, key=lambda m: m.index))


def _missing(index: int, error: BaseException, elapsed: float) -> Missing:
    if isinstance(error, TimeoutError) or (
        isinstance(error, Failure) and error.code == grpc.StatusCode.DEADLINE_EXCEEDED
    ):
        return Missing(index, MissingKind.TIMED_OUT, "DEADLINE_EXCEEDED", str(error), elapsed)
    if isinstance(error, Failure):
        return Missing(index, MissingKind.FAILED, error.code.name, str(error), elapsed)
    raise error  # not a failure of the peer: a bug here, which must not pass for a degraded layer


def _not_met(
    answered: int,
    missing: Sequence[Missing],
    failures: Sequence[Failure],
    quorum: int,
    layer: int,
) -> Failure:
    """When every proposer failed the same way, and the way says more than a quorum not met does (each
    one's backend rejected the prompt, the request is invalid for them, or no replica was ready, saying
    why: a circuit breaker open), that failure itself, with its details; else QUORUM_NOT_MET,
    UNAVAILABLE."""
    if len(failures) == len(missing) and len({f.code for f in failures}) == 1:
        unready = all(isinstance(f, PeerNotReady) for f in failures) and len({str(f) for f in failures}) == 1
        if unready or not failures[0].retryable:
            return failures[0]
    described = [m.describe() for m in sorted(missing, key=lambda m: m.index)]
    return QuorumNotMet(layer, answered, quorum, described)
