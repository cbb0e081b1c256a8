"""What a failed call raises: one exception per status code a caller would handle differently, all
`SmoaError`, each carrying the rich details the services attach (google.rpc.Status in the
`grpc-status-details-bin` trailer).

The details are read with wire-compatible mirrors of the google.rpc messages
(protos/smoa/v1/rpc_status.proto), so the SDK needs neither grpcio-status nor googleapis-common-protos.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from smoa.v1 import rpc_status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


@dataclass(frozen=True)
class FieldViolation:
    """A bad request field, named by its path (`k`, `messages[2].content`, `agents[0].model.backend`)."""

    field: str
    description: str


@dataclass(frozen=True)
class StatusDetails:
    """The google.rpc details of one error; empty where the server sent none."""

    violations: list[FieldViolation] = field(default_factory=list)
    # ErrorInfo: a machine-readable cause ("LLM_UNAVAILABLE", "PEER_UNAVAILABLE"), its domain, and context
    # such as {"backend": "default"} or {"peer": "proposer"}.
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    # RetryInfo: seconds the server suggests waiting before a retry; None: no suggestion.
    retry_after: float | None = None


class SmoaError(Exception):
    """A call failed. `code` is the gRPC status code's name ("UNAVAILABLE"); the rest is what the server
    said: `message`, and from the status details `violations`, `reason`, `domain`, `metadata` and
    `retry_after`."""

    def __init__(self, code: str, message: str, details: StatusDetails | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or StatusDetails()

    @property
    def violations(self) -> list[FieldViolation]:
        return self.details.violations

    @property
    def reason(self) -> str:
        return self.details.reason

    @property
    def domain(self) -> str:
        return self.details.domain

    @property
    def metadata(self) -> dict[str, str]:
        return self.details.metadata

    @property
    def retry_after(self) -> float | None:
        return self.details.retry_after


class InvalidArgumentError(SmoaError):
    """The service refused the request; `violations` names every bad field."""


class FailedPreconditionError(SmoaError):
    """A dependency refused the request itself (an LLM endpoint answering 4xx): retrying will not help;
    `reason` and `metadata` say which dependency."""


class UnavailableError(SmoaError):
    """The service or a dependency (an LLM endpoint, a peer) is down; `retry_after` says when a retry may
    help, `reason` and `metadata` which dependency failed."""


class ResourceExhaustedError(SmoaError):
    """The service is at its concurrency limit or a message was too large."""


class DeadlineExceededError(SmoaError):
    """The call's deadline passed before the answer was complete."""


class CancelledError(SmoaError):
    """The call was cancelled (by the server going away, or by this client). Not asyncio.CancelledError:
    cancelling a task that awaits an AsyncSmoaClient call raises asyncio's own, as asyncio code expects."""


class UnauthenticatedError(SmoaError):
    """The bearer token was missing or refused (by the service or a proxy in front of it)."""


class PermissionDeniedError(SmoaError):
    """The bearer token was accepted but does not allow this call."""


BY_CODE: dict[grpc.StatusCode, type[SmoaError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.CANCELLED: CancelledError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
}


def status_details(trailing_metadata: Iterable[tuple[str, str | bytes]] | None) -> StatusDetails:
    """Decodes the google.rpc.Status trailer. A missing or undecodable trailer gives empty details: the
    status code and message still say what went wrong."""
    raw = next((v for k, v in trailing_metadata or () if k == STATUS_DETAILS_KEY), None)
    if not isinstance(raw, bytes):
        return StatusDetails()
    status = rpc_status_pb2.RpcStatus()
    try:
        status.ParseFromString(raw)
        violations: list[FieldViolation] = []
        info = rpc_status_pb2.RpcErrorInfo()
        retry_after: float | None = None
        for detail in status.details:
            if detail.type_url == BAD_REQUEST:
                request = rpc_status_pb2.RpcBadRequest.FromString(detail.value)
                violations += [FieldViolation(v.field, v.description) for v in request.field_violations]
            elif detail.type_url == ERROR_INFO:
                info = rpc_status_pb2.RpcErrorInfo.FromString(detail.value)
            elif detail.type_url == RETRY_INFO:
                retry = rpc_status_pb2.RpcRetryInfo.FromString(detail.value)
                retry_after = retry.retry_delay.ToNanoseconds() / 1e9
    except DecodeError:
        return StatusDetails()
    return StatusDetails(violations, info.reason, info.domain, dict(info.metadata), retry_after)


def error_from(error: grpc.RpcError) -> SmoaError:
    """The SmoaError for a failed call; `error` is a grpc.Call (sync) or grpc.aio.AioRpcError."""
    call: Any = error  # both kinds have code(), details() and trailing_metadata()
    code: grpc.StatusCode = call.code()
    kind = BY_CODE.get(code, SmoaError)
    return kind(code.name, call.details() or "", status_details(call.trailing_metadata()))
