"""How a client reaches the orchestrator: target, load balancing, retries, TLS, bearer token, keepalive and
message sizes. Shared by SmoaClient and AsyncSmoaClient, which only differ in the channel they open.

Retries: gRPC retries (per the service config below) only calls that are safe to repeat, and only on
UNAVAILABLE: Health/Check and Health/List. Generate is not retried, although it changes no state: a
retried Generate runs the whole pipeline again and spends its tokens twice, and UNAVAILABLE from Generate
usually means an LLM backend failed after the services' own retries, so the caller should decide (see
UnavailableError's `retry_after`). GenerateStream is never retried (a stream that has sent events cannot
be replayed). gRPC's transparent retries still apply to every call: they resend only a call that never
reached the server, which is always safe.

Bearer token: over TLS it is sent as call credentials, which gRPC refuses to put on a plaintext
connection, so a token cannot leak by a misconfigured target. Without TLS it is sent as plain
`authorization` metadata, which anyone on the path can read: meant for a local TLS-terminating proxy or
sidecar (127.0.0.1, a pod's loopback), not for a network you do not own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc

DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_TIMEOUT_SECONDS = 300.0
# The services' own limit (SMOA_MAX_MESSAGE_BYTES), so nothing the server may send is refused here.
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
HEALTH_SERVICE = "grpc.health.v1.Health"
ORCHESTRATOR_SERVICE = "smoa.v1.OrchestratorService"

SERVICE_CONFIG = json.dumps(
    {
        # Every address a dns:/// name resolves to (replicas, a headless Kubernetes service), in turn.
        "loadBalancingConfig": [{"round_robin": {}}],
        # Client-side health checking: a replica that is draining (or not up yet) says NOT_SERVING, and new
        # calls go to the others before its port closes. A server without the health service counts as
        # healthy.
        "healthCheckConfig": {"serviceName": ORCHESTRATOR_SERVICE},
        "methodConfig": [
            {
                "name": [
                    {"service": HEALTH_SERVICE, "method": "Check"},
                    {"service": HEALTH_SERVICE, "method": "List"},
                ],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)


def _read(path_or_bytes: str | Path | bytes | None) -> bytes | None:
    if path_or_bytes is None or isinstance(path_or_bytes, bytes):
        return path_or_bytes
    return Path(path_or_bytes).read_bytes()


@dataclass(frozen=True)
class TLS:
    """TLS settings: PEM bytes or the path of a PEM file for each. No root certificates: the system's
    default roots (as gRPC finds them). A certificate chain and key: a client certificate (mutual TLS)."""

    root_certificates: bytes | str | Path | None = None
    certificate_chain: bytes | str | Path | None = None
    private_key: bytes | str | Path | None = None
    # Check the server's certificate against this name instead of the target's host (tests, IP targets).
    server_name: str | None = None

    def __post_init__(self) -> None:
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError("tls: a client certificate needs both certificate_chain and private_key")

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.root_certificates),
            private_key=_read(self.private_key),
            certificate_chain=_read(self.certificate_chain),
        )


@dataclass(frozen=True)
class Connection:
    """Everything a channel to the orchestrator is opened with; see the module's notes on retries and
    tokens."""

    # "host:port" or "dns:///host:port" (round-robin over every address it resolves to).
    target: str = DEFAULT_TARGET
    # Every call's deadline unless the call gives its own: no call waits forever by default.
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    tls: TLS | None = None
    token: str | None = None
    # Extra metadata sent with every call (a tenant header, a request id, ...).
    metadata: Sequence[tuple[str, str]] = ()
    # Ping an idle connection with a call in flight this often (a long Generate sends nothing for minutes;
    # pings find a dead peer). The services allow pings every 10 s, so this must stay above that.
    keepalive_seconds: float = 30.0
    keepalive_timeout_seconds: float = 10.0
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    # Further raw channel arguments, appended last (so they win).
    options: Sequence[tuple[str, str | int]] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.target:
            raise ValueError("target: must not be empty")
        self.deadline(self.timeout)
        if self.token is not None and not self.token.strip():
            raise ValueError("token: must not be empty when given")
        if self.keepalive_seconds < 10:
            raise ValueError(
                f"keepalive_seconds: must be >= 10 (the services' limit), got {self.keepalive_seconds}"
            )
        if self.keepalive_timeout_seconds <= 0:
            raise ValueError(f"keepalive_timeout_seconds: must be > 0, got {self.keepalive_timeout_seconds}")
        if self.max_message_bytes < 1:
            raise ValueError(f"max_message_bytes: must be >= 1, got {self.max_message_bytes}")

    def deadline(self, timeout: float | None) -> float:
        """A call's timeout in seconds: its own, else the client's."""
        chosen = self.timeout if timeout is None else timeout
        if isinstance(chosen, bool) or not isinstance(chosen, (int, float)) or not 0 < chosen < math.inf:
            raise ValueError(f"timeout: must be a number of seconds > 0, got {chosen!r}")
        return float(chosen)

    def channel_options(self, *, health_checked: bool = True) -> list[tuple[str, str | int]]:
        """`health_checked=False` for the channel health checks themselves go on: through a health-checked
        channel, a server that reports NOT_SERVING could not be asked, and the answer would be
        UNAVAILABLE instead of NOT_SERVING."""
        options: list[tuple[str, str | int]] = [
            ("grpc.service_config", SERVICE_CONFIG),
            ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.keepalive_time_ms", int(self.keepalive_seconds * 1000)),
            ("grpc.keepalive_timeout_ms", int(self.keepalive_timeout_seconds * 1000)),
        ]
        if self.tls is not None and self.tls.server_name:
            options.append(("grpc.ssl_target_name_override", self.tls.server_name))
        if not health_checked:
            options.append(("grpc.inhibit_health_checking", 1))
        return [*options, *self.options]

    def credentials(self) -> grpc.ChannelCredentials | None:
        """None: a plaintext channel."""
        if self.tls is None:
            return None
        if self.token is None:
            return self.tls.credentials()
        return grpc.composite_channel_credentials(
            self.tls.credentials(), grpc.access_token_call_credentials(self.token)
        )

    def call_metadata(self) -> tuple[tuple[str, str], ...]:
        token = (("authorization", f"Bearer {self.token}"),) if self.token and self.tls is None else ()
        return (*token, *self.metadata)
