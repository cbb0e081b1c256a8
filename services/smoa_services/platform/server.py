"""The gRPC server every smoa service runs on: grpc.aio with health (liveness and readiness) and reflection,
keepalive, message and concurrency limits, OpenTelemetry interceptors, failures mapped to rich statuses in
one place (failure.py), and a drain on SIGTERM (drain.py)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from smoa_services.access import tls
from smoa_services.access.auth import Authenticator, Callers
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.platform.admission import Admission
from smoa_services.platform.call_gate import CallGate
from smoa_services.platform.drain import Drain
from smoa_services.platform.readiness import HealthService, Readiness
from smoa_services.telemetry import Telemetry
from smoa_services.telemetry.loop_lag import watch_loop_lag

log = logging.getLogger(__name__)

# Registers servicers on `server.server` (their deadlines come from `server.drain`); returns the full names
# of the services it added.
Register = Callable[["Server"], Sequence[str]]


def backstop(settings: Settings) -> int:
    """gRPC's own limit of calls at once, far above Admission's (which refuses clearly, with RetryInfo):
    health checks must not compete with smoa's calls for it."""
    return 4 * settings.max_concurrent_rpcs + 64


def server_options(settings: Settings) -> list[tuple[str, int]]:
    return [
        # gRPC C-core cancels, with a bare CANCELLED, the calls of a burst beyond 1,000 (hard limit 3,000)
        # that the Python server has not yet picked up: 2,000 calls at once lost 216 of them on this
        # machine. Admission is what refuses work here, and clearly, so the queue holds what it may admit.
        ("grpc.server.max_pending_requests", backstop(settings)),
        ("grpc.server.max_pending_requests_hard_limit", 2 * backstop(settings)),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        # Ping idle connections so dead peers are noticed; allow clients to ping as often as we do.
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        # Peers ping every few seconds (channel.py) to find a frozen replica fast; allow it.
        ("grpc.http2.min_ping_interval_without_data_ms", 1_000),
        # Old connections stop taking new RPCs so clients re-resolve dns:/// names and spread over
        # replicas that appeared since they connected. No max_connection_age_grace: the RPCs already on
        # an old connection run to their end (a generation on a slow model takes minutes), and gRPC's
        # default grace is unbounded.
        ("grpc.max_connection_age_ms", int(settings.max_connection_age_seconds * 1000)),
    ]


class Server:
    def __init__(self, name: str, settings: Settings, telemetry: Telemetry, register: Register):
        self.name = name
        self.settings = settings
        self.health = HealthService()
        self.readiness = Readiness(self.health)
        self.drain = Drain(name)
        self.server = grpc.aio.server(
            # Outermost first: the RPC's span is current when a failure becomes its status, and a caller is
            # checked before its call counts as work in flight.
            interceptors=[
                *telemetry.server_interceptors(),
                CallGate(
                    Authenticator(Callers(settings), takes_end_caller=name != "orchestrator"),
                    Admission(
                        settings.max_concurrent_rpcs,
                        settings.max_concurrent_rpcs_per_caller or settings.max_concurrent_rpcs,
                        telemetry.instruments.rpc_server_in_flight if telemetry.measuring else None,
                    ),
                    self.drain,
                ),
            ],
            options=server_options(settings),
            maximum_concurrent_rpcs=backstop(settings),
        )
        self.services = list(register(self))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        if settings.reflection:
            reflection.enable_server_reflection(
                [
                    *self.services,
                    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                    reflection.SERVICE_NAME,
                ],
                self.server,
            )
        self.credentials = tls.server_credentials(settings)
        self._lag = telemetry.instruments.loop_lag if telemetry.measuring else None
        self._watching: asyncio.Task[None] | None = None
        self.port = 0
        # Closed after the drain: whatever the service opened (LLM clients, peer channels).
        self.on_stop: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> int:
        """Binds and starts; returns the bound port (useful with port 0)."""
        address = f"{self.settings.host}:{self.settings.port}"
        self.port = (
            self.server.add_insecure_port(address)
            if self.credentials is None
            else self.server.add_secure_port(address, self.credentials)
        )
        if self.port == 0:
            raise RuntimeError(f"could not bind {self.settings.host}:{self.settings.port}")
        await self.server.start()
        for service in ["", *self.services]:
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        await self.readiness.start()
        if self._lag is not None:
            self._watching = asyncio.ensure_future(watch_loop_lag(self._lag))
        return self.port

    def watch(self, chat: ChatModel) -> None:
        """Readiness follows the circuit breakers of this model's backends."""
        chat.on_breaker_change(self.readiness.breaker_changed)

    async def drain_and_stop(self) -> None:
        """The SIGTERM sequence (drain.py): NOT_SERVING with the listener open, then stop(grace), cutting
        what is left with a clear status."""
        await self.drain.run(
            self.server, self.health, self.settings.drain_delay_seconds, self.settings.grace_seconds
        )
        await self._close()

    async def stop(self, grace: float) -> None:
        """Stops at once (no drain delay): health NOT_SERVING, in-flight RPCs get ``grace`` seconds."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self._close()

    async def _close(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
        for close in self.on_stop:
            await close()

    async def wait(self) -> None:
        await self.server.wait_for_termination()


async def run(server: Server) -> None:
    """Serves until SIGTERM or SIGINT, then drains. Prints one line with the bound address, which is how
    scripts and tests learn a port picked with --port 0."""
    port = await server.start()
    print(f"smoa-{server.name} listening on {server.settings.host}:{port}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    serving = asyncio.ensure_future(server.wait())
    signalled = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({serving, signalled}, return_when=asyncio.FIRST_COMPLETED)
    if stopping.is_set():
        settings = server.settings
        log.info(
            "smoa-%s draining: NOT_SERVING for %.1fs, then %.1fs of grace for %d RPC(s) in flight",
            server.name,
            settings.drain_delay_seconds,
            settings.grace_seconds,
            server.drain.in_flight(),
        )
        await server.drain_and_stop()
    signalled.cancel()
    await serving
    print(f"smoa-{server.name} stopped", flush=True)


def llm_service(
    name: str,
    settings: Settings,
    telemetry: Telemetry,
    chat: ChatModel | None,
    add_servicer: Callable[[ChatModel, Server], str],
) -> Server:
    """A service whose work is LLM calls (proposer, judge, moderator). `add_servicer` registers the
    servicer and returns its full service name. A ChatModel made here (when none is given) records
    prompts and answers on its spans only on opt-in, and is closed on stop. Readiness follows its
    backends' circuit breakers."""
    model = chat or ChatModel(settings, telemetry)
    server = Server(name, settings, telemetry, lambda created: [add_servicer(model, created)])
    server.watch(model)
    if chat is None:
        server.on_stop.append(model.close)
    return server


def main(
    name: str, create: Callable[[Settings, Telemetry], Server], argv: Sequence[str] | None = None
) -> None:
    """`python -m smoa_services.<name>`: settings from SMOA_* and flags, tracing from OTEL_*, serve until
    SIGTERM, then flush the last spans."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # One line per LLM request from the HTTP client is noise next to the traces.
    for chatty in ("httpx", "httpx2"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    settings = Settings.load(name, argv)
    telemetry = Telemetry.load(name)

    async def serve() -> None:
        # Built inside the running loop: grpc.aio binds a server to the loop current when it is created.
        await run(create(settings, telemetry))

    try:
        try:
            import uvloop  # a faster event loop where available; asyncio's otherwise
        except ImportError:
            asyncio.run(serve())
        else:
            uvloop.run(serve())
    finally:
        telemetry.shutdown()
