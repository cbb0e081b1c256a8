"""The OpenAI-compatible HTTP gateway: `POST /v1/chat/completions` (JSON or SSE), `GET /v1/models`,
`/healthz` and `/readyz`, translated onto the orchestrator's Generate and GenerateStream over one
long-lived gRPC channel. No pipeline logic lives here: the routes are completions.py, models.py and probes.py;
chat_request.py and chat_response.py translate, http_errors.py and error_responses.py answer errors. The
caller's `Authorization` header goes to the orchestrator as it came, so the orchestrator's tokens
(auth.py) decide who may call."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from smoa_services.config import Settings
from smoa_services.gateway import completions, error_responses, models, probes
from smoa_services.platform.channel import channel as peer_channel
from smoa_services.telemetry import Telemetry

# The orchestrator's deadline is its own SMOA_MAX_GENERATION_SECONDS; the gateway waits a little longer,
# so the orchestrator's status (not the gateway's timeout) is what the client sees.
DEADLINE_MARGIN_SECONDS = 5.0


def create_app(settings: Settings, telemetry: Telemetry | None = None) -> FastAPI:
    """``telemetry``: none recorded when not given. The routes find what they share in `app.state`:
    the settings, the channel to the orchestrators, the deadline of a call, and whether it drains."""
    observed = telemetry or Telemetry.load("gateway", environ={})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Round robin over every orchestrator replica, ejecting frozen or failing ones, as the orchestrator
        # reaches its peers.
        app.state.channel = peer_channel(
            settings.orchestrator_target, settings, observed, with_peer_token=False
        )
        yield
        await app.state.channel.close()

    app = FastAPI(title="smoa gateway", version="0.1.0", lifespan=lifespan)
    # A server span per request (the root of its trace) and its duration; probes left out. The stable HTTP
    # conventions (http.server.request.duration, in seconds like every other duration here) unless the
    # operator chose otherwise: the instrumentation reads this once per process. With nothing recorded,
    # no instrumentation: its middleware would still run on every request.
    if observed.recording or observed.measuring:
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=observed.traces,
            meter_provider=observed.meters,
            excluded_urls="healthz,readyz",
        )
    app.state.settings = settings
    app.state.timeout = settings.max_generation_seconds + DEADLINE_MARGIN_SECONDS
    # Set on SIGTERM (__main__.py): readiness fails while the port stays open, so load balancers stop
    # sending work before the gateway stops taking it.
    app.state.draining = False
    for routes in (probes, models, completions):
        app.include_router(routes.router)
    error_responses.install(app)
    return app
