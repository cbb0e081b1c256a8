"""The standard gRPC health service (grpc.health.v1.Health/Check and /List), spoken without
grpcio-health-checking: the SDK depends on grpcio and protobuf only.

HealthCheckRequest is {string service = 1} and HealthCheckResponse {ServingStatus status = 1}, so
protobuf's own StringValue and Int32Value (a field 1 of the same wire type each) encode and decode them.
HealthListResponse is read through its wire-compatible mirror, smoa.v1.HealthListStatuses.

smoa's services report liveness under "" (the process), each service's own name (NOT_SERVING while
draining), READINESS (NOT_SERVING while an LLM backend's circuit breaker is open) and READINESS/<backend>.
"""

from __future__ import annotations

from enum import Enum

from google.protobuf import wrappers_pb2

from smoa.v1 import health_list_pb2

CHECK = "/grpc.health.v1.Health/Check"
LIST = "/grpc.health.v1.Health/List"
READINESS = "smoa.v1.Readiness"


class ServingStatus(str, Enum):
    UNKNOWN = "UNKNOWN"
    SERVING = "SERVING"
    NOT_SERVING = "NOT_SERVING"  # e.g. draining before shutdown
    SERVICE_UNKNOWN = "SERVICE_UNKNOWN"  # the server does not know the service asked about


BY_NUMBER = {
    0: ServingStatus.UNKNOWN,
    1: ServingStatus.SERVING,
    2: ServingStatus.NOT_SERVING,
    3: ServingStatus.SERVICE_UNKNOWN,
}


def encode_request(service: str) -> bytes:
    """`service` "" asks about the whole server."""
    return wrappers_pb2.StringValue(value=service).SerializeToString()


def decode_response(reply: bytes) -> ServingStatus:
    return BY_NUMBER.get(wrappers_pb2.Int32Value.FromString(reply).value, ServingStatus.UNKNOWN)


def decode_statuses(reply: bytes) -> dict[str, ServingStatus]:
    """Every entry of a Health/List reply, by service name."""
    statuses = health_list_pb2.HealthListStatuses.FromString(reply).statuses
    return {
        name: BY_NUMBER.get(entry.status, ServingStatus.UNKNOWN) for name, entry in sorted(statuses.items())
    }
