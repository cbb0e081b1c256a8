"""Client channels to peer services: round-robin over every address a ``dns:///`` name resolves to,
transparent retries of UNAVAILABLE (a replica going away), keepalive, and trace propagation."""

from __future__ import annotations

import json
from typing import Any

import grpc
from opentelemetry.sdk.trace import TracerProvider

from smoa_services import telemetry
from smoa_services.config import Settings

SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [
                    {"service": "smoa.v1.ProposerService"},
                    {"service": "smoa.v1.JudgeService"},
                    {"service": "smoa.v1.ModeratorService"},
                ],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)


class CancelWithCaller(grpc.aio.UnaryUnaryClientInterceptor):
    """Cancels the RPC when its caller is cancelled. The OpenTelemetry interceptor awaits the call's
    status inside its own task, and cancelling that await leaves the RPC running: a cancelled fan-out
    would keep its peers working for nobody. Placed after it, this awaits the call itself, and asyncio
    cancels an awaited call."""

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        call = await continuation(details, request)
        await call  # errors are the call's to report: grpc re-raises them to the caller
        return call


def channel(target: str, settings: Settings, provider: TracerProvider) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.service_config", SERVICE_CONFIG),
            ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            # A replica back on its address gets traffic within seconds, not after gRPC's default
            # reconnect backoff (1 s growing to 120 s) has run out.
            ("grpc.initial_reconnect_backoff_ms", 250),
            ("grpc.max_reconnect_backoff_ms", 5_000),
        ],
        interceptors=[*telemetry.client_interceptors(provider), CancelWithCaller()],
    )
