"""A gRPC status as OpenAI's error JSON, with the HTTP code an OpenAI client expects: 400 for a bad
field (named in `param` as the client named it), 401/403 for who may call, 429 with Retry-After for a
full service, 413 for a request over a size limit (never 429: a client would retry it for nothing), 500
when smoa itself is at fault (a misconfigured credential between its services), 503 when nothing could
answer, 504 when the deadline passed. The status's own message goes along: the services write it for
callers, without prompt text."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid_request_error"),
    grpc.StatusCode.FAILED_PRECONDITION: (400, "invalid_request_error"),
    grpc.StatusCode.OUT_OF_RANGE: (400, "invalid_request_error"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "authentication_error"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "permission_error"),
    grpc.StatusCode.NOT_FOUND: (404, "not_found_error"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "rate_limit_error"),
    grpc.StatusCode.CANCELLED: (499, "cancelled"),
    grpc.StatusCode.UNAVAILABLE: (503, "service_unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "timeout"),
    grpc.StatusCode.INTERNAL: (500, "server_error"),
}
# RESOURCE_EXHAUSTED for want of capacity or of quota (the ErrorInfo reasons that say so) is a rate limit;
# any other (gRPC's own message size limit) is a request too large.
RATE_LIMITED = frozenset({"OVERLOADED", "QUOTA_EXCEEDED"})


def body(message: str, kind: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def rate_limit_headers(metadata: Any) -> dict[str, str]:
    """The x-ratelimit-* headers the orchestrator sent as initial metadata (a caller with a quota)."""
    return {k: str(v) for k, v in (metadata or ()) if k.startswith("x-ratelimit-")}


def http_error(
    error: grpc.aio.AioRpcError, params: Mapping[str, str] | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(HTTP status, OpenAI error body, headers) for a failed call. `params`: a bad field's name as the
    client gave it, by its GenerateRequest path (`model.temperature` -> `temperature`)."""
    status, kind = HTTP.get(error.code(), (500, "server_error"))
    param, reason, headers = None, None, {}
    said: dict[str, str] = {}
    rich = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in rich.details if rich is not None else ():
        bad, info, retry = (
            error_details_pb2.BadRequest(),
            error_details_pb2.ErrorInfo(),
            error_details_pb2.RetryInfo(),
        )
        if detail.Unpack(bad) and bad.field_violations:
            param = (params or {}).get(bad.field_violations[0].field, bad.field_violations[0].field)
        elif detail.Unpack(info):
            reason, said = info.reason or None, dict(info.metadata)
        elif detail.Unpack(retry):
            headers["Retry-After"] = str(max(1, math.ceil(retry.retry_delay.ToTimedelta().total_seconds())))
    if reason == "QUOTA_EXCEEDED" and "Retry-After" in headers:
        # OpenAI's headers for the limit that was hit: nothing left of it until the window frees up.
        of = "requests" if said.get("limit") == "requests_per_minute" else "tokens"
        headers[f"x-ratelimit-limit-{of}"] = said.get("quota", "")
        headers[f"x-ratelimit-remaining-{of}"] = "0"
        headers[f"x-ratelimit-reset-{of}"] = f"{headers['Retry-After']}s"
    if status == 429 and reason not in RATE_LIMITED:
        status, kind, reason, headers = 413, "invalid_request_error", "request_too_large", {}
    if status == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = "1"
    return status, body(error.details() or error.code().name, kind, param, reason), headers
