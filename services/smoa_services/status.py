"""Rich gRPC errors (google.rpc.Status with details), so callers in any language see which field was
wrong, or that a dependency is down and when to retry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

DOMAIN = "smoa.dev"


@dataclass(frozen=True)
class Violation:
    """A bad field, named by its path in the request (`messages[2].content`, `k`)."""

    field: str
    description: str


class InvalidArgument(Exception):
    """Bad input found by the policy layer; the servicer turns it into INVALID_ARGUMENT."""

    def __init__(self, violations: Sequence[Violation]):
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = list(violations)


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def invalid_argument(violations: Sequence[Violation]) -> grpc.Status:
    request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in violations
        ]
    )
    message = "invalid request: " + "; ".join(f"{v.field}: {v.description}" for v in violations)
    return rpc_status.to_status(
        status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message, details=[_pack(request)])
    )


def unavailable(reason: str, message: str, retry_after_seconds: float = 1.0, **metadata: str) -> grpc.Status:
    """A dependency (an LLM endpoint, a peer service) failed after retries: UNAVAILABLE with ErrorInfo
    saying which, and RetryInfo saying when a retry may help."""
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata)
    delay = duration_pb2.Duration()
    delay.FromNanoseconds(int(retry_after_seconds * 1e9))
    retry = error_details_pb2.RetryInfo(retry_delay=delay)
    return rpc_status.to_status(
        status_pb2.Status(code=code_pb2.UNAVAILABLE, message=message, details=[_pack(info), _pack(retry)])
    )


def failed_precondition(reason: str, message: str, **metadata: str) -> grpc.Status:
    """A dependency refused the request itself (an LLM endpoint answering 4xx): retrying the same call
    will not help, so unlike UNAVAILABLE there is no RetryInfo; ErrorInfo says which dependency and why."""
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata)
    return rpc_status.to_status(
        status_pb2.Status(code=code_pb2.FAILED_PRECONDITION, message=message, details=[_pack(info)])
    )


async def abort(context: grpc.aio.ServicerContext[Any, Any], status: grpc.Status) -> NoReturn:
    # The OpenTelemetry server interceptor marks spans failed for context.abort only, not for
    # abort_with_status: mark the RPC's span here so rich errors show as errors in traces.
    span = trace.get_current_span()
    span.set_attribute("rpc.grpc.status_code", status.code.value[0])
    span.set_status(Status(StatusCode.ERROR, f"{status.code.name}: {status.details}"))
    await context.abort_with_status(status)
    raise AssertionError("abort_with_status returned")  # grpc raises; this keeps the type checker honest


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
