"""Client channels to peer services, and how they keep requests off replicas that misbehave. All of it is
gRPC's own machinery, set on purpose:

- round_robin over every address a `dns:///` name resolves to;
- client-side health checking of `smoa.v1.Readiness`: a replica that is draining, or whose LLM backend's
  circuit breaker is open, is skipped while it says NOT_SERVING;
- keepalive pings with a ping timeout: a frozen replica (SIGSTOP, a hung host: the socket stays open but
  nothing answers) loses its connection within two ping periods, and round_robin skips it until it can
  complete a new handshake, which a frozen process never does;
- outlier detection: a replica whose calls keep failing, timing out or being cut off as stragglers (every
  status but OK counts) is ejected, for 30 s the first time and longer when it does it again;
- the retry policy: a call that failed UNAVAILABLE (a replica gone, a connection lost mid-call) is sent
  again, to whichever replica round_robin picks next, within the call's own deadline.

What gRPC does not have in grpcio (hedging, budgets) is in attempts.py. With SMOA_PEER_CA_FILE the
channels are TLS (tls.py), made again when their files are replaced (rotating_channel.py), and the bearer
token (SMOA_PEER_TOKEN_FILE, read again when replaced, or the variable SMOA_PEER_TOKEN_ENV names) goes
with every call: as call credentials over TLS; as plain metadata otherwise, for a loopback or a sidecar
only."""

from __future__ import annotations

import json
import os
import typing
from collections.abc import Callable
from typing import Any

import grpc

from smoa_services.access import tls
from smoa_services.access.caller import END_CALLER, HEADER
from smoa_services.access.watched_file import WatchedFile
from smoa_services.config import Settings
from smoa_services.platform.readiness import READINESS
from smoa_services.platform.rotating_channel import RotatingChannel
from smoa_services.telemetry import Telemetry

OUTLIER_DETECTION = {
    "interval": "2s",
    "baseEjectionTime": "30s",
    "maxEjectionTime": "300s",
    # Never more than half the replicas: if all of them fail, the fault is not theirs.
    "maxEjectionPercent": 50,
    "failurePercentageEjection": {
        # Straggler cut-offs count as failures, and a healthy replica has some; one that fails most of its
        # calls is out, once it had 5 calls in the 2 s interval.
        "threshold": 60,
        "enforcementPercentage": 100,
        "minimumHosts": 2,
        "requestVolume": 5,
    },
    "childPolicy": [{"round_robin": {}}],
}

RETRY_POLICY = {
    "name": [
        {"service": "smoa.v1.ProposerService"},
        {"service": "smoa.v1.JudgeService"},
        {"service": "smoa.v1.ModeratorService"},
    ],
    "retryPolicy": {
        "maxAttempts": 4,
        "initialBackoff": "0.05s",
        "maxBackoff": "0.5s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"],
    },
}


def service_config(health_checked: bool = True) -> str:
    """Without health checking, a channel reaches the replicas that are not ready too: to ask them why
    (peer_readiness.py)."""
    config: dict[str, Any] = {
        "loadBalancingConfig": [{"outlier_detection_experimental": OUTLIER_DETECTION}],
        "methodConfig": [RETRY_POLICY],
    }
    if health_checked:
        config["healthCheckConfig"] = {"serviceName": READINESS}
    return json.dumps(config)


Metadata = tuple[tuple[str, str], ...]


class PeerMetadata:
    """What goes with every peer call: whom its work is for (caller.py), so the peer shares its LLM slots
    by end caller, and over a plaintext channel `authorization: Bearer <token>`, the token as it is now
    (over TLS the token goes as call credentials, which gRPC sends only there). Given at each call rather
    than by a client interceptor: any interceptor puts every call of a channel on grpc.aio's slower
    intercepted path."""

    def __init__(self, token: Callable[[], str] | None = None):
        self.token = token

    def __call__(self) -> Metadata:
        end_caller = END_CALLER.get()
        found = (("authorization", f"Bearer {self.token()}"),) if self.token else ()
        return (*found, (HEADER, end_caller)) if end_caller else found


def peer_metadata(settings: Settings) -> PeerMetadata:
    """The metadata of the calls on channel(settings) with its peer token."""
    plaintext = not settings.peer_ca_file
    return PeerMetadata(peer_token(settings) if plaintext else None)


class CancelWithCaller(grpc.aio.UnaryUnaryClientInterceptor):
    """Cancels the RPC when its caller is cancelled. The OpenTelemetry interceptor awaits the call's
    status inside its own task, and cancelling that await leaves the RPC running: a cancelled fan-out
    would keep its peers working for nobody. Placed after it, this awaits the call itself, and asyncio
    cancels an awaited call."""

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        call = await continuation(details, request)
        await call  # errors are the call's to report: grpc re-raises them to the caller
        return call


class TokenCredentials(grpc.AuthMetadataPlugin):
    """The same over TLS, as call credentials (gRPC sends those only over a secure channel)."""

    def __init__(self, token: Callable[[], str]):
        self.token = token

    def __call__(self, context: Any, callback: Any) -> None:
        callback((("authorization", f"Bearer {self.token()}"),), None)


def channel_options(
    settings: Settings, health_checked: bool = True, server_name: str = ""
) -> list[tuple[str, str | int]]:
    keepalive_ms = int(settings.peer_keepalive_seconds * 1000)
    return [
        *([("grpc.ssl_target_name_override", server_name)] if server_name else []),
        ("grpc.service_config", service_config(health_checked)),
        ("grpc.enable_retries", 1),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", keepalive_ms),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        # Without a ping timeout, C-core waits for an unanswered keepalive ping for a minute.
        ("grpc.keepalive_timeout_ms", keepalive_ms),
        ("grpc.http2.ping_timeout_ms", keepalive_ms),
        # A replica back on its address gets traffic within seconds, not after gRPC's default
        # reconnect backoff (1 s growing to 120 s) has run out.
        ("grpc.initial_reconnect_backoff_ms", 250),
        ("grpc.max_reconnect_backoff_ms", 5_000),
    ]


def peer_token(settings: Settings) -> Callable[[], str] | None:
    """The token sent to peers, as it is at each call: from SMOA_PEER_TOKEN_FILE, read again when it is
    replaced, else from the variable SMOA_PEER_TOKEN_ENV names; None for no token."""
    if settings.peer_token_file:
        return WatchedFile(settings.peer_token_file, _token).value
    token = os.environ.get(settings.peer_token_env, "") if settings.peer_token_env else ""
    return (lambda: token) if token else None


def _token(text: str) -> str:
    # Empty is a file caught being rewritten: the token read last stays.
    if not text.strip():
        raise ValueError("the peer token file is empty")
    return text.strip()


def channel(
    target: str,
    settings: Settings,
    telemetry: Telemetry,
    *,
    with_peer_token: bool = True,
    health_checked: bool = True,
    server_name: str | None = None,
) -> grpc.aio.Channel:
    """A channel to a smoa service's replicas. Without ``with_peer_token`` (the gateway, which passes on
    its caller's own token) no token of this process goes with the calls; without ``health_checked`` it
    reaches the replicas that say they are not ready as well. `server_name`: the name expected in their
    certificate (None: SMOA_PEER_SERVER_NAME's). Over plaintext, calls carry `peer_metadata(settings)`:
    the caller gives it at each call."""
    options = channel_options(
        settings, health_checked, settings.peer_server_name if server_name is None else server_name
    )
    traced = telemetry.client_interceptors()
    interceptors = [*traced, CancelWithCaller()] if traced else None
    if tls.peer_credentials(settings) is None:
        return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)
    # Over TLS the token goes as call credentials (over plaintext, in peer_metadata at each call).
    token = peer_token(settings) if with_peer_token else None

    def secure() -> grpc.aio.Channel:
        credentials = tls.peer_credentials(settings)
        assert credentials is not None
        if token:
            credentials = grpc.composite_channel_credentials(
                credentials, grpc.metadata_call_credentials(TokenCredentials(token))
            )
        return grpc.aio.secure_channel(target, credentials, options=options, interceptors=interceptors)

    # The CA and the client certificate are replaced on disk to rotate them: calls follow the files.
    files = (settings.peer_ca_file, settings.peer_cert_file, settings.peer_key_file)
    rotating = RotatingChannel(secure, files, grace=settings.max_generation_seconds + 5.0)
    return typing.cast(grpc.aio.Channel, rotating)
