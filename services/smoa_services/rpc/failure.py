"""Every failure a caller can see, and the one place it becomes a gRPC status.

A `Failure` carries its status code, an ErrorInfo reason with metadata, any further details (a BadRequest
naming the bad fields), and, when retrying may help, a RetryInfo delay. Handlers raise Failures and the
server's one interceptor (platform/call_gate.py) turns them into rich statuses with `status_of`, so no
servicer maps errors itself.
A peer's status comes back in as a `PeerFailure` that keeps its code and details: a proposer's
INVALID_ARGUMENT reaches the orchestrator's caller as INVALID_ARGUMENT, an LLM backend's refusal as
FAILED_PRECONDITION, never as INTERNAL."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from smoa_services.rpc.rpc_handler import (
    Context,
    Undecodable,
)

log = logging.getLogger(__name__)

DOMAIN = "smoa.dev"
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
# What a peer answers when it does not accept a service's own credentials.
REFUSED_CREDENTIALS = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
# A caller with less than this left when a timeout surfaces had its deadline reached (the margin every call
# leaves its caller, deadline.py, and then some).
DEADLINE_SLACK_SECONDS = 1.0


@dataclass(frozen=True)
class Violation:
    """A bad field, named by its path in the request (`messages[2].content`, `k`)."""

    field: str
    description: str


class Failure(Exception):
    """A failure with the status a caller should see. `reason` is ErrorInfo's machine-readable reason ("" for
    none); `retry_after` adds RetryInfo (None: retrying the same call will not help)."""

    def __init__(
        self,
        message: str,
        code: grpc.StatusCode,
        reason: str = "",
        *,
        retry_after: float | None = None,
        metadata: Mapping[str, str] | None = None,
        details: Sequence[Message] = (),
        out_of_time: bool = False,
    ):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.retry_after = retry_after
        self.metadata = dict(metadata or {})
        self.details = list(details)
        # It ran out of the time it was given: when that was all the caller's time, the caller sees
        # DEADLINE_EXCEEDED (see status_for).
        self.out_of_time = out_of_time

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE

    def status_for(self, time_left: float | None) -> grpc.Status:
        """The status for a caller with `time_left` seconds: a failure that ran out of time when the caller
        had (almost) none left is the caller's deadline, not the dependency's fault."""
        if self.out_of_time and time_left is not None and time_left <= DEADLINE_SLACK_SECONDS:
            return Failure(
                str(self), grpc.StatusCode.DEADLINE_EXCEEDED, self.reason, metadata=self.metadata
            ).status()
        return self.status()

    def status(self) -> grpc.Status:
        details: list[Message] = list(self.details)
        if self.reason:
            details.append(
                error_details_pb2.ErrorInfo(reason=self.reason, domain=DOMAIN, metadata=self.metadata)
            )
        if self.retry_after is not None:
            delay = duration_pb2.Duration()
            delay.FromNanoseconds(int(max(self.retry_after, 0.0) * 1e9))
            details.append(error_details_pb2.RetryInfo(retry_delay=delay))
        return rpc_status.to_status(
            status_pb2.Status(code=self.code.value[0], message=str(self), details=[_pack(d) for d in details])
        )


# A refusal travels in the response's trailers, which gRPC clients refuse beyond 8 KiB at random and beyond
# 16 KiB always: the caller would then see RESOURCE_EXHAUSTED (which looks retryable) and none of the
# violations. So a refusal lists this many at most.
MAX_REPORTED = 10


class InvalidArgument(Failure):
    """Bad input: every violation at once (up to MAX_REPORTED, the last saying how many more), in a
    BadRequest."""

    def __init__(self, violations: Sequence[Violation]):
        if len(violations) > MAX_REPORTED:
            last, rest = violations[MAX_REPORTED - 1], len(violations) - MAX_REPORTED
            summary = Violation(last.field, f"{last.description} (and {rest} more problems not listed)")
            violations = [*violations[: MAX_REPORTED - 1], summary]
        request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in violations
            ]
        )
        message = "invalid request: " + "; ".join(f"{v.field}: {v.description}" for v in violations)
        super().__init__(message, grpc.StatusCode.INVALID_ARGUMENT, details=[request])
        self.violations = list(violations)


def refuse(violations: Sequence[Violation]) -> None:
    """InvalidArgument naming every violation, when there is one: each service's request.py checks its
    request with this before building the policy's input."""
    if violations:
        raise InvalidArgument(violations)


class Unauthenticated(Failure):
    """No caller could be made out: a missing, malformed or unknown bearer token. Says which, never the
    token itself."""

    def __init__(self, detail: str):
        super().__init__(detail, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")


class PermissionDenied(Failure):
    """A known caller asked for a method it may not call."""

    def __init__(self, caller: str, method: str):
        super().__init__(
            f"caller {caller!r} may not call {method}",
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_DENIED",
            metadata={"caller": caller, "method": method},
        )


class LLMUnavailable(Failure):
    """An LLM backend could not answer within the call's budget (errors, timeouts, 429s, malformed replies
    after the retries the budget allowed), or its circuit breaker is open."""

    def __init__(self, backend: str, detail: str, retry_after: float = 1.0, out_of_time: bool = False):
        name = backend or "default"
        super().__init__(
            f"LLM backend {name!r} unavailable: {detail}",
            grpc.StatusCode.UNAVAILABLE,
            "LLM_UNAVAILABLE",
            retry_after=retry_after,
            metadata={"backend": name},
            out_of_time=out_of_time,
        )
        self.backend = backend


class LLMRejected(Failure):
    """The backend refused the request itself (a 4xx other than 429: a wrong model name, a prompt over the
    context window): retrying will not help."""

    def __init__(self, backend: str, detail: str):
        name = backend or "default"
        super().__init__(
            f"LLM backend {name!r} rejected the request: {detail}",
            grpc.StatusCode.FAILED_PRECONDITION,
            "LLM_REJECTED",
            metadata={"backend": name},
        )
        self.backend = backend


class QuorumNotMet(Failure):
    """Too few proposers of a layer answered to go on. Raised as soon as the quorum is out of reach, not when
    the deadline comes; `failures` says what happened to each one that did not answer."""

    def __init__(self, layer: int, answered: int, quorum: int, failures: Sequence[str]):
        super().__init__(
            f"layer {layer}: {answered} of the {quorum} proposers needed answered: " + "; ".join(failures),
            grpc.StatusCode.UNAVAILABLE,
            "QUORUM_NOT_MET",
            retry_after=1.0,
            metadata={"layer": str(layer), "answered": str(answered), "quorum": str(quorum)},
        )


class OutputNotValid(Failure):
    """No answer in the requested format (a JSON object, JSON valid against the caller's schema) could be
    had within the request's budget: the last call's and every kept answer were checked. Sampling again
    may succeed, so it is worth a retry; a schema no model can meet is not."""

    def __init__(self, problem: str):
        super().__init__(
            f"no answer in the requested format: {problem}",
            grpc.StatusCode.UNAVAILABLE,
            "OUTPUT_NOT_VALID",
            retry_after=1.0,
        )


class ShuttingDown(Failure):
    """The server's drain ran out of grace with this call still running: another replica can take it."""

    def __init__(self, service: str):
        super().__init__(
            f"the {service} service is shutting down and its grace period ran out",
            grpc.StatusCode.UNAVAILABLE,
            "SHUTTING_DOWN",
            retry_after=0.0,
            metadata={"service": service},
        )


class StreamInterrupted(Failure):
    """The final answer's stream broke after tokens were sent: they cannot be taken back, so the stream ends
    with this status rather than silently short."""

    def __init__(self, cause: Failure, tokens_sent: int):
        super().__init__(
            f"the answer's stream broke after {tokens_sent} pieces were sent: {cause}",
            grpc.StatusCode.UNAVAILABLE,
            "STREAM_INTERRUPTED",
            retry_after=1.0,
            metadata={"tokens_sent": str(tokens_sent), **cause.metadata},
        )


class PeerFailure(Failure):
    """A peer service's error status, kept as it was (code, ErrorInfo reason and metadata, BadRequest, ...)
    with the peer named in the metadata."""

    def __init__(self, peer: str, error: grpc.aio.AioRpcError):
        code = error.code()
        detail = error.details() or code.name
        reason, metadata, retry_after, details = f"PEER_{code.name}", {}, None, []
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        for packed in status.details if status is not None else []:
            info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
            if packed.Unpack(info):
                reason, metadata = info.reason, dict(info.metadata)
            elif packed.Unpack(retry):
                retry_after = retry.retry_delay.ToNanoseconds() / 1e9
            else:
                details.append(_unpacked(packed))
        if retry_after is None and code in RETRYABLE:
            retry_after = 1.0
        if code in REFUSED_CREDENTIALS:
            # The peer refused this service's own token or certificate: no end caller can mend that, and
            # passing the 401 on would tell them their key is bad. The operator's to fix, so logged.
            log.error("the %s service refused this service's credentials (%s): %s", peer, code.name, detail)
            detail = (
                f"refused this service's peer credentials ({code.name}): smoa is misconfigured (see its log)"
            )
            code, reason, retry_after = grpc.StatusCode.INTERNAL, "PEER_CREDENTIALS_REFUSED", None
            details = []
        super().__init__(
            f"{peer} service: {detail}",
            code,
            reason,
            retry_after=retry_after,
            metadata={**metadata, "peer": peer},
            details=[d for d in details if d is not None],
            out_of_time=code == grpc.StatusCode.DEADLINE_EXCEEDED,
        )
        self.peer = peer
        self.detail = detail


class PeerNotReady(Failure):
    """No replica of a peer was ready to take a call, and a replica said why: the circuit breakers of the
    LLM backends it calls are open (reason BREAKER_OPEN, the backends named), or it is draining
    (PEER_DRAINING). gRPC's own words for it ("connections to all backends failing", its backends being
    replicas) name neither."""

    def __init__(self, peer: str, open_breakers: Sequence[str]):
        if open_breakers:
            named = ", ".join(repr(b) for b in open_breakers)
            why = f"the circuit breaker of LLM backend {named} is open"
            if len(open_breakers) > 1:
                why = f"the circuit breakers of LLM backends {named} are open"
            reason, metadata = "BREAKER_OPEN", {"backend": ",".join(open_breakers)}
        else:
            why, reason, metadata = "it is draining", "PEER_DRAINING", {}
        super().__init__(
            f"{peer} service: no replica is ready: {why}",
            grpc.StatusCode.UNAVAILABLE,
            reason,
            retry_after=1.0,
            metadata={**metadata, "peer": peer},
        )
        self.peer = peer


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _unpacked(packed: any_pb2.Any) -> Message | None:
    request = error_details_pb2.BadRequest()
    return request if packed.Unpack(request) else None


async def abort(context: Context, status: grpc.Status) -> NoReturn:
    # The OpenTelemetry server interceptor marks spans failed for context.abort only, not for
    # abort_with_status: mark the RPC's span here so rich errors show as errors in traces.
    span = trace.get_current_span()
    span.set_attribute("rpc.grpc.status_code", status.code.value[0])
    span.set_status(Status(StatusCode.ERROR, f"{status.code.name}: {status.details}"))
    await context.abort_with_status(status)
    raise AssertionError("abort_with_status returned")  # grpc raises; this keeps the type checker honest


def _frames(error: BaseException) -> str:
    return "".join(traceback.format_tb(error.__traceback__))


def refuse_undecodable(request: Any) -> None:
    if isinstance(request, Undecodable):
        detail = str(request.error).split(": ", 1)[-1][:200] or type(request.error).__name__
        raise InvalidArgument([Violation("request", f"the message does not decode: {detail}")])


def status_of(error: Exception, method: str, context: Context) -> grpc.Status:
    """The status a handler's exception becomes: a Failure's own (rich) status, anything else INTERNAL,
    logged with where it happened. Traces and logs get an exception's type, message and frames, never the
    messages of the exceptions it was raised from: a Failure's message is written for callers, but its
    cause (an HTTP error with the backend's body, a bug's message) may quote a prompt."""
    span = trace.get_current_span()
    if isinstance(error, Failure):
        span.record_exception(error, attributes={"exception.stacktrace": _frames(error)})
        return error.status_for(context.time_remaining())
    # A bug's message may quote whatever it was handling: its type and frames say where to look.
    log.error("%s failed with an unexpected %s:\n%s", method, type(error).__name__, _frames(error))
    span.record_exception(error, attributes={"exception.message": "", "exception.stacktrace": _frames(error)})
    return Failure(f"internal error ({type(error).__name__})", grpc.StatusCode.INTERNAL).status()


def violations_of(error: grpc.aio.AioRpcError) -> list[Violation]:
    """The BadRequest field violations carried by an error, for clients and tests."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return []
    found: list[Violation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            found += [Violation(v.field, v.description) for v in request.field_violations]
    return found
