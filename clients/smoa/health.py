"""The standard gRPC health check (grpc.health.v1.Health/Check), spoken without grpcio-health-checking:
the SDK depends on grpcio and protobuf only.

HealthCheckRequest is {string service = 1} and HealthCheckResponse {ServingStatus status = 1}, so
protobuf's own StringValue and Int32Value (a field 1 of the same wire type each) encode and decode them.
"""

from __future__ import annotations

from enum import Enum

from google.protobuf import wrappers_pb2

CHECK = "/grpc.health.v1.Health/Check"


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
