"""How the SDK connects, against small grpc.aio servers: the bearer token reaching the server with and
without TLS, TLS with a self-signed certificate (and a client certificate), and retries only where a
repeat is safe."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from smoa import TLS, AsyncSmoaClient, ServingStatus, SmoaClient, UnavailableError
from smoa.connection import SERVICE_CONFIG
from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from smoa_testing.stacks.fake_orchestrator import FakeOrchestrator

SERVING = b"\x08\x01"  # HealthCheckResponse{status: SERVING}


@dataclass
class Recorder(grpc.aio.ServerInterceptor):
    """Every call's method and metadata, as the server saw them."""

    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        metadata = {str(k): str(v) for k, v in details.invocation_metadata or ()}
        self.calls.append((details.method, metadata))
        return await continuation(details)

    def count(self, method: str) -> int:
        return sum(name == method for name, _ in self.calls)


class DownOrchestrator(FakeOrchestrator):
    async def Generate(self, request: orchestrator_pb2.GenerateRequest, context: Any) -> Any:
        await context.abort(grpc.StatusCode.UNAVAILABLE, "down")

    async def GenerateStream(
        self, request: orchestrator_pb2.GenerateRequest, context: Any
    ) -> AsyncIterator[orchestrator_pb2.GenerateStreamResponse]:
        await context.abort(grpc.StatusCode.UNAVAILABLE, "down")
        yield orchestrator_pb2.GenerateStreamResponse()  # unreached (abort raises); makes a generator


@asynccontextmanager
async def server(
    credentials: grpc.ServerCredentials | None = None, failures_before_serving: int = 0
) -> AsyncIterator[tuple[int, Recorder]]:
    """A health service (UNAVAILABLE for the first few checks) and an orchestrator that is always down."""
    recorder = Recorder()
    failures = [failures_before_serving]

    async def check(request: bytes, context: Any) -> bytes:
        if failures[0] > 0:
            failures[0] -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        return SERVING

    s = grpc.aio.server(interceptors=[recorder])
    s.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)}
            )
        ]
    )
    orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(DownOrchestrator(), s)
    address = "127.0.0.1:0"
    port = s.add_secure_port(address, credentials) if credentials else s.add_insecure_port(address)
    await s.start()
    try:
        yield port, recorder
    finally:
        await s.stop(0)


@dataclass(frozen=True)
class Certificate:
    cert: bytes
    key: bytes
    cert_file: Path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made by the openssl command line."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(
        (folder / "cert.pem").read_bytes(), (folder / "key.pem").read_bytes(), folder / "cert.pem"
    )


async def test_the_bearer_token_reaches_the_server_over_plaintext() -> None:
    async with (
        server() as (port, recorder),
        AsyncSmoaClient(f"127.0.0.1:{port}", token="s3cret", metadata=[("x-tenant", "t1")]) as client,
    ):
        assert await client.health() == ServingStatus.SERVING
        with pytest.raises(UnavailableError):
            await client.generate("What is 6 times 7?")
    # The client's own calls; gRPC's health checking of the channel (Health/Watch) is gRPC's.
    calls = [(method, metadata) for method, metadata in recorder.calls if not method.endswith("/Watch")]
    assert [method for method, _ in calls] == [
        "/grpc.health.v1.Health/Check",
        "/smoa.v1.OrchestratorService/Generate",
    ]
    for _, metadata in calls:
        assert (metadata["authorization"], metadata["x-tenant"]) == ("Bearer s3cret", "t1")


async def test_tls_with_a_self_signed_certificate_and_the_token_as_call_credentials(
    certificate: Certificate,
) -> None:
    credentials = grpc.ssl_server_credentials([(certificate.key, certificate.cert)])
    async with server(credentials) as (port, recorder):
        # The root certificate as a file path, and (below) as bytes.
        tls = TLS(root_certificates=certificate.cert_file)
        async with AsyncSmoaClient(f"127.0.0.1:{port}", tls=tls, token="s3cret") as client:
            assert await client.health() == ServingStatus.SERVING
        with SmoaClient(f"localhost:{port}", tls=TLS(certificate.cert), timeout=5) as sync:
            # In a thread: a blocking call here would stall the loop the server runs on.
            assert await asyncio.to_thread(sync.health) == ServingStatus.SERVING
        # Without the certificate among its roots, the client refuses the server.
        async with AsyncSmoaClient(f"127.0.0.1:{port}", tls=True, timeout=5) as untrusting:
            with pytest.raises(UnavailableError):
                await untrusting.health()
    assert recorder.calls[0][1]["authorization"] == "Bearer s3cret"
    assert "authorization" not in recorder.calls[1][1]


async def test_mutual_tls_needs_the_client_certificate(certificate: Certificate) -> None:
    credentials = grpc.ssl_server_credentials(
        [(certificate.key, certificate.cert)], root_certificates=certificate.cert, require_client_auth=True
    )
    async with server(credentials) as (port, _):
        target = f"127.0.0.1:{port}"
        mutual = TLS(certificate.cert, certificate_chain=certificate.cert, private_key=certificate.key)
        async with AsyncSmoaClient(target, tls=mutual, timeout=5) as client:
            assert await client.health() == ServingStatus.SERVING
        async with AsyncSmoaClient(target, tls=TLS(certificate.cert), timeout=5) as anonymous:
            with pytest.raises(UnavailableError):
                await anonymous.health()
    with pytest.raises(ValueError, match=r"^tls: "):
        TLS(certificate.cert, certificate_chain=certificate.cert)


async def test_only_the_health_service_is_retried_on_unavailable() -> None:
    async with server(failures_before_serving=2) as (port, recorder):
        client = AsyncSmoaClient(f"dns:///127.0.0.1:{port}", timeout=5)
        assert await client.health() == ServingStatus.SERVING
        with pytest.raises(UnavailableError):
            await client.generate("What is 6 times 7?")
        with pytest.raises(UnavailableError):
            [e async for e in client.stream("What is 6 times 7?")]
        await client.close()
    assert recorder.count("/grpc.health.v1.Health/Check") == 3  # two UNAVAILABLE, then SERVING
    assert recorder.count("/smoa.v1.OrchestratorService/Generate") == 1
    assert recorder.count("/smoa.v1.OrchestratorService/GenerateStream") == 1
    config = json.loads(SERVICE_CONFIG)
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    [retried] = [m for m in config["methodConfig"] if "retryPolicy" in m]
    assert retried["name"] == [
        {"service": "grpc.health.v1.Health", "method": "Check"},
        {"service": "grpc.health.v1.Health", "method": "List"},
    ]
    assert retried["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]


class NamedOrchestrator(DownOrchestrator):
    """Answers Generate with its name."""

    def __init__(self, name: str):
        self.name = name

    async def Generate(self, request: orchestrator_pb2.GenerateRequest, context: Any) -> Any:
        return orchestrator_pb2.GenerateResponse(text=self.name)


async def test_calls_go_around_a_replica_that_says_not_serving_and_its_health_can_still_be_asked() -> None:
    started: list[tuple[grpc.aio.Server, health.aio.HealthServicer, int]] = []
    for name in ("draining", "serving"):
        s = grpc.aio.server()
        servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, s)
        orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(NamedOrchestrator(name), s)
        port = s.add_insecure_port("127.0.0.1:0")
        await s.start()
        await servicer.set("smoa.v1.OrchestratorService", health_pb2.HealthCheckResponse.SERVING)
        started.append((s, servicer, port))
    (_, draining, first), (_, _, second) = started
    # Like a replica in its drain delay: still listening, reporting NOT_SERVING.
    await draining.set("smoa.v1.OrchestratorService", health_pb2.HealthCheckResponse.NOT_SERVING)
    try:
        async with AsyncSmoaClient(f"ipv4:127.0.0.1:{first},127.0.0.1:{second}", timeout=5) as client:
            answers = {(await client.generate("What is 6 times 7?")).text for _ in range(10)}
        async with AsyncSmoaClient(f"127.0.0.1:{first}", timeout=5) as client:
            assert await client.health("smoa.v1.OrchestratorService") == ServingStatus.NOT_SERVING
    finally:
        for s, _, _ in started:
            await s.stop(0)
    assert answers == {"serving"}
