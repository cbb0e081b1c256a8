"""The embedded model as a pool: one single-threaded llama-cpp-python server (a worker) per usable CPU,
behind one OpenAI-compatible endpoint that sends each request to the worker with the fewest in flight.

llama-cpp-python's server decodes one request at a time, so a layer's proposers queued behind each other;
and on a model this small one thread decodes faster than two (the threads' hand-offs cost more than they
share). Measured on 2 cores, 4 calls of 96 tokens at once: one server of 2 threads 24-33 tokens/s, one of
1 thread 39-45, two of 1 thread 51-77 (benchmarks/bench_embedded_pool.py; results/embedded-pool-2026-12-07).

The front only forwards: bodies and streamed events pass through as they come. A client that goes away
closes its worker's request with it. A worker that exits takes the pool down (exit code 1), so that
whatever supervises it (the local stack, compose, Kubernetes) starts it afresh. A worker that stops
answering (frozen, or wedged) is found by a probe and gets no new calls until it answers again; the calls
it holds end on their callers' deadlines. SIGTERM gives the calls in flight SHUTDOWN_SECONDS, then stops
every worker.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from smoa_services.llm.model_server import EmbeddedModelServer

log = logging.getLogger(__name__)
# What a worker needs of the caller's headers, and what the caller needs of the worker's.
FORWARDED = ("Content-Type", "Authorization", "Accept")
RETURNED = ("Content-Type", "Cache-Control")
SHUTDOWN_SECONDS = 5.0
# The probe asks for the worker's root path and takes any HTTP answer, a 404 included, for life:
# llama-cpp-python's server answers its API routes only between requests (each holds the model's lock), but
# its event loop answers anything else within milliseconds while it decodes (measured: / in 10 ms, while
# /v1/models waited out a 3 s timeout). A worker that has not answered within PROBE_SECONDS is taken for
# frozen.
PROBE_SECONDS = 2.0
PROBE_PERIOD_SECONDS = 1.0


@dataclass
class Worker:
    """A worker's address and the requests it holds; `server` is None for one this pool did not start."""

    base_url: str
    server: EmbeddedModelServer | None = None
    in_flight: int = 0
    # As its last probe found it.
    answering: bool = True

    def exited(self) -> bool:
        process = self.server.process if self.server else None
        return process is not None and process.poll() is not None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def started_workers(count: int, n_ctx: int) -> list[Worker]:
    """`count` single-threaded servers on ports of their own, started and ready."""
    servers = [EmbeddedModelServer(port=free_port(), n_ctx=n_ctx, threads=1) for _ in range(count)]
    for server in servers:
        server.start()
    try:
        for server in servers:
            server.wait_ready()
    except BaseException:
        for server in servers:
            server.stop()
        raise
    # The worker's base_url ends in /v1; the front forwards whole paths.
    return [Worker(server.base_url.removesuffix("/v1"), server) for server in servers]


class ModelPool:
    def __init__(
        self,
        workers: Sequence[Worker],
        probe_seconds: float = PROBE_SECONDS,
        probe_period_seconds: float = PROBE_PERIOD_SECONDS,
    ):
        if not workers:
            raise ValueError("workers: a pool needs at least one")
        self.workers = list(workers)
        self.probe_seconds, self.probe_period_seconds = probe_seconds, probe_period_seconds
        self.session: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.probes: list[asyncio.Task[None]] = []

    async def start(self, host: str, port: int) -> int:
        """Serves on host:port (0: any free port); returns the port."""
        # No pool limit and no timeout: the workers' queues are the limit, the callers' deadlines the time.
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None)
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self.forward)
        # handler_cancellation: a caller that goes away cancels its forward, and with it the worker's request.
        # On stop, calls in flight get SHUTDOWN_SECONDS: within a supervisor's grace period (compose 10 s).
        self.runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=SHUTDOWN_SECONDS,
        )
        await self.runner.setup()
        await web.TCPSite(self.runner, host, port).start()
        self.probes = [asyncio.create_task(self.probe(w)) for w in self.workers]
        return int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        for probe in self.probes:
            probe.cancel()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.session is not None:
            await self.session.close()

    def pick(self) -> Worker:
        """Of the workers that answer (of all, if none does), the one with the fewest requests in flight
        (the first of those, on a tie)."""
        answering = [w for w in self.workers if w.answering] or self.workers
        return min(answering, key=lambda w: w.in_flight)

    async def probe(self, worker: Worker) -> None:
        assert self.session is not None
        timeout = aiohttp.ClientTimeout(total=self.probe_seconds)
        while True:
            try:
                async with self.session.get(worker.base_url + "/", timeout=timeout) as answer:
                    await answer.read()
                answering = True
            except (TimeoutError, aiohttp.ClientError):
                answering = False
            if answering != worker.answering:
                if answering:
                    log.warning("model worker %s answers again", worker.base_url)
                else:
                    log.warning(
                        "model worker %s did not answer within %.1fs: no new calls until it does",
                        worker.base_url,
                        self.probe_seconds,
                    )
                worker.answering = answering
            await asyncio.sleep(self.probe_period_seconds)

    async def forward(self, request: web.Request) -> web.StreamResponse:
        assert self.session is not None
        worker = self.pick()
        worker.in_flight += 1
        response = None
        try:
            headers = {h: request.headers[h] for h in FORWARDED if h in request.headers}
            async with self.session.request(
                request.method, worker.base_url + request.path_qs, data=await request.read(), headers=headers
            ) as upstream:
                response = web.StreamResponse(
                    status=upstream.status,
                    headers={h: upstream.headers[h] for h in RETURNED if h in upstream.headers},
                )
                await response.prepare(request)
                async for piece in upstream.content.iter_any():
                    await response.write(piece)
                await response.write_eof()
                return response
        except aiohttp.ClientError as e:
            log.warning("model worker %s failed: %s", worker.base_url, e)
            if response is not None:
                # Its status is sent: the connection is dropped, so the caller sees the answer break
                # rather than end early and whole-looking.
                raise
            # OpenAI's error shape, so that its clients read the message.
            error = {"message": f"the model worker failed: {e}", "type": "server_error", "code": None}
            return web.json_response({"error": error}, status=502)
        finally:
            worker.in_flight -= 1

    async def watch(self, period: float = 1.0) -> None:
        """Returns once a worker has exited."""
        while not any(w.exited() for w in self.workers):
            await asyncio.sleep(period)


def run(host: str, port: int, workers: int, n_ctx: int) -> int:
    """The pool as a process, until SIGTERM or SIGINT (0) or a worker's exit (1)."""
    started = started_workers(workers, n_ctx)
    pool = ModelPool(started)

    async def main() -> int:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        bound = await pool.start(host, port)
        print(f"embedded model: {len(started)} workers on http://{host}:{bound}/v1", file=sys.stderr)
        watch, stopped = asyncio.ensure_future(pool.watch()), asyncio.ensure_future(stop.wait())
        await asyncio.wait({watch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        exited = watch.done()
        watch.cancel()
        stopped.cancel()
        await pool.stop()
        if exited:
            log.error("a model worker exited: the pool stops")
        return 1 if exited else 0

    try:
        return asyncio.run(main())
    finally:
        for worker in started:
            if worker.server is not None:
                worker.server.stop()
