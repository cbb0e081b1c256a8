"""TLS, mutual TLS and bearer tokens on the server every service runs on, with real handshakes on
127.0.0.1 and certificate authorities made for the test. Health answers probes whatever the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smoa_services.access.auth import parse_tokens
from smoa_services.config import Settings
from smoa_services.platform.channel import channel_options, peer_token
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry
from smoa_testing.certificates import Authority, Issued
from smoa_testing.eventually import eventually

SERVICE = "test.Work"
TOKENS = "orchestrator s3cret-orchestrator\nalice alice-token-1\n"


def register(server: Server) -> Sequence[str]:
    async def echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return b"done"

    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Admin": grpc.unary_unary_rpc_method_handler(echo),
    }
    server.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    return [SERVICE]


@asynccontextmanager
async def serving(**settings: Any) -> AsyncIterator[int]:
    server = Server("test", Settings(port=0, **settings), Telemetry.load("t", environ={}), register)
    port = await server.start()
    try:
        yield port
    finally:
        await server.stop(0)


async def call(
    channel: grpc.aio.Channel, method: str = "Echo", metadata: Sequence[tuple[str, str]] = ()
) -> grpc.StatusCode:
    stub: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(f"/{SERVICE}/{method}")
    try:
        await stub(b"", timeout=5, metadata=metadata)
    except grpc.aio.AioRpcError as e:
        return e.code()
    return grpc.StatusCode.OK


def secure(port: int, ca: Authority, client: Issued | None = None) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca.cert_file.read_bytes(),
        private_key=client.key if client else None,
        certificate_chain=client.cert if client else None,
    )
    return grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials)


@pytest.fixture
def ca(tmp_path: Path) -> Authority:
    return Authority(tmp_path)


async def test_tls_serves_clients_that_trust_its_ca_and_refuses_plaintext(ca: Authority) -> None:
    server = ca.server()
    async with serving(tls_cert_file=str(server.cert_file), tls_key_file=str(server.key_file)) as port:
        async with secure(port, ca) as channel:
            assert await call(channel) == grpc.StatusCode.OK
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as plain:
            assert await call(plain) == grpc.StatusCode.UNAVAILABLE
        # A client trusting another CA refuses the server.
        async with secure(port, Authority(ca.folder, "another CA")) as wrong:
            assert await call(wrong) == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_needs_a_client_certificate_from_the_clients_ca(ca: Authority) -> None:
    server, clients = ca.server(), Authority(ca.folder, "clients CA")
    rogue = Authority(ca.folder, "rogue CA").client("orchestrator")
    tls = {"tls_cert_file": str(server.cert_file), "tls_key_file": str(server.key_file)}
    async with serving(**tls, tls_client_ca_file=str(clients.cert_file)) as port:
        async with secure(port, ca, clients.client("orchestrator")) as channel:
            assert await call(channel) == grpc.StatusCode.OK
        for client in (None, rogue):
            async with secure(port, ca, client) as refused:
                assert await call(refused) == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, grpc.StatusCode.UNAUTHENTICATED),
        ("Bearer wrong-token", grpc.StatusCode.UNAUTHENTICATED),
        ("Bearer", grpc.StatusCode.UNAUTHENTICATED),
        ("Basic YWxpY2U6cGFzcw==", grpc.StatusCode.UNAUTHENTICATED),
        ("Bearer s3cret-orchestrator-but-longer", grpc.StatusCode.UNAUTHENTICATED),
        # Long, yet under gRPC's 8 KiB soft limit on metadata, past which gRPC itself refuses a call at
        # random with RESOURCE_EXHAUSTED before any interceptor sees it.
        ("Bearer " + "x" * 6000, grpc.StatusCode.UNAUTHENTICATED),
        ("Bearer alice-token-1 alice-token-1", grpc.StatusCode.UNAUTHENTICATED),
        ("Bearer alice-token-1", grpc.StatusCode.OK),
        ("bearer s3cret-orchestrator", grpc.StatusCode.OK),
    ],
)
async def test_bearer_tokens_are_checked(tmp_path: Path, header: str | None, code: grpc.StatusCode) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKENS)
    async with (
        serving(auth_tokens_file=str(tokens)) as port,
        grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):
        metadata = [] if header is None else [("authorization", header)]
        assert await call(channel, metadata=metadata) == code
        # Probes are never refused.
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_refusal_never_echoes_the_token(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKENS)
    async with (
        serving(auth_tokens_file=str(tokens)) as port,
        grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):
        stub: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(f"/{SERVICE}/Echo")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub(b"", timeout=5, metadata=[("authorization", "Bearer s3cret-orchestratoX")])
    assert "s3cret" not in (caught.value.details() or "") and "s3cret" not in str(
        caught.value.trailing_metadata()
    )


async def test_a_caller_may_call_only_what_it_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TOKENS", "orchestrator s3cret-orchestrator, alice alice-token-1")
    allow = '{"orchestrator": ["*"], "alice": ["test.Work/Echo"]}'
    async with (
        serving(auth_tokens_env="TEST_TOKENS", auth_allow=allow) as port,
        grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):
        alice = [("authorization", "Bearer alice-token-1")]
        orchestrator = [("authorization", "Bearer s3cret-orchestrator")]
        assert await call(channel, "Echo", alice) == grpc.StatusCode.OK
        assert await call(channel, "Admin", alice) == grpc.StatusCode.PERMISSION_DENIED
        assert await call(channel, "Admin", orchestrator) == grpc.StatusCode.OK


async def test_an_internal_service_takes_the_orchestrators_certificate_and_refuses_end_users(
    ca: Authority,
) -> None:
    server, clients = ca.server(), Authority(ca.folder, "clients CA")
    settings = {
        "tls_cert_file": str(server.cert_file),
        "tls_key_file": str(server.key_file),
        "tls_client_ca_file": str(clients.cert_file),
        "auth_allow": '{"orchestrator": ["*"]}',
    }
    async with serving(**settings) as port:
        async with secure(port, ca, clients.client("orchestrator")) as channel:
            assert await call(channel) == grpc.StatusCode.OK
        async with secure(port, ca, clients.client("alice")) as channel:
            assert await call(channel) == grpc.StatusCode.PERMISSION_DENIED


async def test_tokens_and_certificates_rotate_without_a_restart(tmp_path: Path, ca: Authority) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("alice old-token\n")
    served = ca.server()
    cert_file, key_file = tmp_path / "server.crt", tmp_path / "server.key"
    cert_file.write_bytes(served.cert)
    key_file.write_bytes(served.key)
    async with serving(
        tls_cert_file=str(cert_file), tls_key_file=str(key_file), auth_tokens_file=str(tokens)
    ) as port:
        async with secure(port, ca) as channel:
            assert await call(channel, metadata=[("authorization", "Bearer old-token")]) == grpc.StatusCode.OK
        renewed = Authority(tmp_path, "renewed CA")
        fresh = renewed.server()
        cert_file.write_bytes(fresh.cert)
        key_file.write_bytes(fresh.key)
        tokens.write_text("alice new-token\n")
        async with secure(port, renewed) as channel:

            async def new_token_accepted() -> bool:  # the files are looked at once a second
                return (
                    await call(channel, metadata=[("authorization", "Bearer new-token")])
                    == grpc.StatusCode.OK
                )

            await eventually(new_token_accepted, 20, "the new certificate and token taken")
            assert await call(channel, metadata=[("authorization", "Bearer old-token")]) == (
                grpc.StatusCode.UNAUTHENTICATED
            )


async def test_reflection_can_be_turned_off() -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async with serving(reflection=False) as port, grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            async for _ in stub.ServerReflectionInfo(iter([request])):
                pass
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_half_a_tls_configuration_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="tls_cert_file and tls_key_file"):
        Server("test", Settings(tls_cert_file="a.crt"), Telemetry.load("t", environ={}), register)


def test_the_peer_token_comes_from_a_mounted_file_before_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMOA_PEER_TOKEN", "from-env")
    from_env = peer_token(Settings())
    assert from_env and from_env() == "from-env"
    secret = tmp_path / "peer-token"
    secret.write_text("from-file\n")
    from_file = peer_token(Settings(peer_token_file=str(secret)))
    assert from_file and from_file() == "from-file"
    monkeypatch.delenv("SMOA_PEER_TOKEN")
    assert peer_token(Settings()) is None


def test_a_comment_with_commas_names_no_caller() -> None:
    text = "# accepted by the proposer, judge and moderator\norchestrator s3cret, alice a-token # the UI\n"
    assert parse_tokens(text) == [("orchestrator", b"s3cret"), ("alice", b"a-token")]


def test_each_peer_may_have_its_own_certificate_name() -> None:
    one = Settings(peer_server_name="peers.internal", judge_server_name="judge")
    assert [one.server_name(p) for p in ("proposer", "judge", "moderator")] == [
        "peers.internal",
        "judge",
        "peers.internal",
    ]
    assert Settings().server_name("proposer") == ""
    assert ("grpc.ssl_target_name_override", "judge") in channel_options(one, server_name="judge")
    assert not [o for o in channel_options(Settings()) if o[0] == "grpc.ssl_target_name_override"]
