"""Distributed load with Locust: each simulated user sends Generate (or GenerateStream) requests back to
back and reports every one to Locust's request event, so Locust's master merges the statistics of any
number of workers on any number of machines.

    locust -f clients/smoa/load/locustfile.py --host 127.0.0.1:50051 --headless -u 20 -r 5 -t 2m
    locust -f clients/smoa/load/locustfile.py --master --host dns:///orchestrator:50051 --expect-workers 4
    locust -f clients/smoa/load/locustfile.py --worker --master-host MASTER     # on each load machine

The request's shape: every option `smoa ask` takes, as --smoa-NAME (--smoa-mode, --smoa-n, --smoa-k,
--smoa-layers, --smoa-quorum, ...; files such as --smoa-agents are read on each worker), --smoa-stream
(adds a "TTFT" entry per request with the time to the first token), --smoa-question, --smoa-timeout; the
master passes them to its workers. Security as `smoa` takes it: --smoa-tls (the system's roots),
--smoa-ca-file, --smoa-cert and --smoa-key (mutual TLS), and the bearer token from SMOA_TOKEN. Users are
closed loops (the next request when the last one is answered); for an open-loop arrival schedule and latency
from the schedule use `smoa load`.
"""

from __future__ import annotations

import os
import time
from typing import Any

import grpc.experimental.gevent as grpc_gevent
from locust import User, constant, events, task

from smoa.client import SmoaClient
from smoa.connection import TLS
from smoa.errors import SmoaError
from smoa.events import Token
from smoa.load.shape import DEFAULT_QUESTION, LoadRequest, RequestShape
from smoa.option_flags import add_option_flags, options_from

# Locust runs users as gevent greenlets; grpc's blocking calls must yield to them, not block the process.
grpc_gevent.init_gevent()


# The event hook's add_listener is unannotated in Locust.
@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _arguments(parser: Any) -> None:
    add_option_flags(parser, prefix="smoa-")  # --smoa-mode, --smoa-n, ... : every GenerateOptions field
    parser.add_argument("--smoa-stream", action="store_true", help="GenerateStream, reporting TTFT too")
    parser.add_argument("--smoa-question", default=DEFAULT_QUESTION, help="the question asked")
    parser.add_argument("--smoa-timeout", type=float, default=600.0, help="deadline per request, seconds")
    parser.add_argument("--smoa-tls", action="store_true", help="TLS, trusting the system's roots")
    parser.add_argument("--smoa-ca-file", default="", help="TLS, trusting these root certificates (PEM)")
    parser.add_argument("--smoa-cert", default="", help="client certificate for mutual TLS (PEM)")
    parser.add_argument("--smoa-key", default="", help="client private key for mutual TLS (PEM)")


def tls_of(options: Any) -> TLS | bool:
    if options.smoa_ca_file or options.smoa_cert or options.smoa_key:
        return TLS(options.smoa_ca_file or None, options.smoa_cert or None, options.smoa_key or None)
    return bool(options.smoa_tls)


def target_of(host: str) -> str:
    """Locust's --host as a gRPC target: a grpc:// prefix is allowed, dns:/// and ipv4: pass through."""
    return host.removeprefix("grpc://").rstrip("/")


class SmoaUser(User):
    wait_time = constant(0)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        generate_options = options_from(options)
        self.shape = RequestShape([options.smoa_question], generate_options, options.smoa_stream)
        self.client = SmoaClient(
            target_of(self.host or ""),
            timeout=options.smoa_timeout,
            tls=tls_of(options),
            token=os.environ.get("SMOA_TOKEN") or None,
        )
        self.sent = 0

    def on_stop(self) -> None:
        self.client.close()

    def report(self, name: str, started: float, length: int, error: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="grpc",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=error,
            context={},
        )

    @task
    def generate(self) -> None:
        request = self.shape.request(self.sent)
        self.sent += 1
        if self.shape.stream:
            self.generate_stream(request)
            return
        name = f"Generate {self.shape.mode}"
        started = time.perf_counter()
        try:
            result = self.client.generate(request.question, request.options)
        except SmoaError as e:
            self.report(name, started, 0, e)
            return
        self.report(name, started, len(result.text), None)

    def generate_stream(self, request: LoadRequest) -> None:
        name = f"GenerateStream {self.shape.mode}"
        started = time.perf_counter()
        first_token = False
        text = 0
        try:
            for event in self.client.stream(request.question, request.options):
                if isinstance(event, Token):
                    if not first_token:
                        first_token = True
                        self.report(f"{name} TTFT", started, 0, None)
                    text += len(event.text)
        except SmoaError as e:
            self.report(name, started, text, e)
            return
        self.report(name, started, text, None)
