"""Credentials replaced on disk are taken without a restart, on a running stack: the orchestrator's peer
token (SMOA_PEER_TOKEN_FILE) through the window where the peers accept the old and the new one, who may
call what (SMOA_AUTH_ALLOW_FILE), the orchestrator's client certificate and peer CA (a new channel from
the new files), and the CA the gateway trusts toward the orchestrator. A file caught half-written keeps the
value read last."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
import openai
import pytest

from smoa.v1 import orchestrator_pb2
from smoa_services.access import watched_file
from smoa_services.access.watched_file import WatchedFile
from smoa_services.platform.rotating_channel import RotatingChannel
from smoa_testing.certificates import Authority, Issued
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack, question

REQUEST = orchestrator_pb2.GenerateRequest(messages=question(), n=2, k=1, max_layers=1)


@pytest.fixture(autouse=True)
def look_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files are looked at once a second; here at every read, so a test need not wait.
    monkeypatch.setattr(watched_file, "CHECK_SECONDS", 0.0)


def test_a_watched_file_follows_its_file_and_keeps_the_last_good_value(tmp_path: Path) -> None:
    path = tmp_path / "n"
    path.write_text("1")
    n = WatchedFile(str(path), int)
    assert n.value() == 1
    path.write_text("2")
    assert n.value() == 2
    path.write_text("")  # caught half-written
    assert n.value() == 2
    path.unlink()
    assert n.value() == 2
    path.write_text("3")
    assert n.value() == 3
    bad = tmp_path / "bad"
    bad.write_text("x")
    with pytest.raises(ValueError):
        WatchedFile(str(bad), int)  # the first read is not forgiven


async def test_the_peer_token_rotates_without_a_restart(tmp_path: Path) -> None:
    accepted, sent = tmp_path / "peers.tokens", tmp_path / "peer-token"
    accepted.write_text("orchestrator old-token\n")
    sent.write_text("old-token\n")
    peers = {"auth_tokens_file": str(accepted), "auth_allow": '{"orchestrator": ["*"]}'}
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url, peer_settings=peers, peer_token_file=str(sent)) as stack:
            assert (await stack.stub.Generate(REQUEST, timeout=10)).text
            # The mixed window: the peers take both while the orchestrator moves to the new one.
            accepted.write_text("orchestrator old-token\norchestrator new-token\n")
            assert (await stack.stub.Generate(REQUEST, timeout=10)).text
            sent.write_text("")  # caught half-written: the old token is still sent
            assert (await stack.stub.Generate(REQUEST, timeout=10)).text
            sent.write_text("new-token\n")
            assert (await stack.stub.Generate(REQUEST, timeout=10)).text
            accepted.write_text("orchestrator new-token\n")  # the old one retired
            assert not (await stack.stub.Generate(REQUEST, timeout=10)).degraded
            # Control: a token the orchestrator does not have is refused, so the checks above were real.
            accepted.write_text("orchestrator newer-token\n")
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stack.stub.Generate(REQUEST, timeout=10)
    assert refused.value.code() == grpc.StatusCode.INTERNAL and "misconfigured" in (
        refused.value.details() or ""
    )


async def test_who_may_call_what_is_read_again_from_its_file(tmp_path: Path) -> None:
    tokens, allow = tmp_path / "tokens", tmp_path / "allow.json"
    tokens.write_text("alice alice-token\nbob bob-token\n")
    allow.write_text('{"alice": ["*"]}')
    as_bob = (("authorization", "Bearer bob-token"),)
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(
            llm.base_url, auth_tokens_file=str(tokens), auth_allow_file=str(allow)
        ) as stack:
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await stack.stub.Generate(REQUEST, metadata=as_bob, timeout=10)
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            allow.write_text('{"alice": ["*"], "bob": ["smoa.v1.OrchestratorService"]}')
            assert (await stack.stub.Generate(REQUEST, metadata=as_bob, timeout=10)).text
            allow.write_text("")  # caught half-written: not "allow everything", not "deny Bob"
            assert (await stack.stub.Generate(REQUEST, metadata=as_bob, timeout=10)).text


def install(issued: Issued, cert: Path, key: Path) -> None:
    """Replaces a service's certificate and key files, as a rotation does."""
    cert.write_bytes(issued.cert)
    key.write_bytes(issued.key)


async def test_the_orchestrators_client_certificate_and_peer_ca_rotate_without_a_restart(
    tmp_path: Path,
) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    one, two = Authority(tmp_path / "one", "first CA"), Authority(tmp_path / "two", "second CA")
    served, served_key = tmp_path / "peer.crt", tmp_path / "peer.key"
    mine, my_key, trusted = (
        tmp_path / "orchestrator.crt",
        tmp_path / "orchestrator.key",
        tmp_path / "peers-ca.crt",
    )
    install(one.server(), served, served_key)
    install(one.client("orchestrator"), mine, my_key)
    trusted.write_bytes(one.cert_file.read_bytes())
    both = tmp_path / "both-cas.crt"
    both.write_bytes(one.cert_file.read_bytes() + two.cert_file.read_bytes())
    # The peers take clients of either CA throughout (the mixed window) and only the orchestrator by name.
    peers: dict[str, Any] = {
        "tls_cert_file": str(served),
        "tls_key_file": str(served_key),
        "tls_client_ca_file": str(both),
        "auth_allow": '{"orchestrator": ["*"]}',
    }
    mtls: dict[str, Any] = {
        "peer_ca_file": str(trusted),
        "peer_cert_file": str(mine),
        "peer_key_file": str(my_key),
    }

    async def generate() -> orchestrator_pb2.GenerateResponse:
        return await stack.stub.Generate(REQUEST, timeout=10)

    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url, peer_settings=peers, **mtls) as stack:
            assert (await generate()).text
            # The client certificate: one the peers do not allow is used at once (refused), then a new
            # orchestrator certificate from the second CA.
            install(one.client("intruder"), mine, my_key)
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await generate()
            install(two.client("orchestrator"), mine, my_key)
            assert (await generate()).text
            # The peers' CA: trust both, move the peers to the second CA, then trust it alone.
            trusted.write_bytes(both.read_bytes())
            assert (await generate()).text
            install(two.server(), served, served_key)
            assert (await generate()).text
            trusted.write_bytes(two.cert_file.read_bytes())
            assert not (await generate()).degraded
            # Control: back to the first CA alone, which no longer signs what the peers serve.
            trusted.write_bytes(one.cert_file.read_bytes())
            with pytest.raises(grpc.aio.AioRpcError) as untrusted:
                await generate()
    assert "misconfigured" in (denied.value.details() or "")
    assert untrusted.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_the_gateways_ca_rotates_without_a_restart(tmp_path: Path) -> None:
    """The orchestrator moves to a certificate of a new CA while the gateway runs: the gateway trusts both,
    then the new one alone; the first CA alone again is the control."""
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    one, two = Authority(tmp_path / "one", "first CA"), Authority(tmp_path / "two", "second CA")
    served, served_key, trusted = tmp_path / "front.crt", tmp_path / "front.key", tmp_path / "gateway-ca.crt"
    install(one.server(), served, served_key)
    trusted.write_bytes(one.cert_file.read_bytes())
    tls: dict[str, Any] = {"tls_cert_file": str(served), "tls_key_file": str(served_key)}

    async def ask(url: str) -> int:
        reply = await openai_client(url).chat.completions.with_raw_response.create(
            model="smoa:n=2,k=1,layers=1", messages=[{"role": "user", "content": "2 + 2?"}]
        )
        return reply.http_response.status_code

    with FakeOpenAI(instant_reply) as llm:
        async with (
            orchestrator_stack(llm.base_url, **tls) as stack,
            gateway(stack.port, peer_ca_file=str(trusted)) as url,
        ):
            assert await ask(url) == 200
            trusted.write_bytes(one.cert_file.read_bytes() + two.cert_file.read_bytes())
            assert await ask(url) == 200
            install(two.server(), served, served_key)
            trusted.write_bytes(two.cert_file.read_bytes())
            assert await ask(url) == 200  # a new channel, whose handshake meets the new certificate
            trusted.write_bytes(one.cert_file.read_bytes())
            with pytest.raises(openai.APIStatusError) as untrusted:
                await ask(url)
    assert untrusted.value.status_code == 503 and "CERTIFICATE_VERIFY_FAILED" in untrusted.value.message


class Closable:
    def __init__(self) -> None:
        self.closed = False

    async def close(self, grace: float | None = None) -> None:
        self.closed = True


async def test_a_replaced_channel_is_closed_after_its_grace_and_a_bad_rewrite_keeps_the_old(
    tmp_path: Path,
) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("first")
    made: list[Closable] = []

    def make() -> Any:
        if ca.read_text() == "half":
            raise ValueError("not a certificate yet")
        made.append(Closable())
        return made[-1]

    rotating = RotatingChannel(make, [str(ca)], grace=0.05)
    first = rotating.current()
    ca.write_text("half")
    assert rotating.current() is first  # what cannot make credentials is not switched to
    ca.write_text("second")
    second = rotating.current()
    assert second is not first and not made[0].closed
    await asyncio.sleep(0.2)
    assert made[0].closed and not made[1].closed
    await rotating.close()
    assert made[1].closed
