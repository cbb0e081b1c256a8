"""The four services started in this process with the settings a deployment file gives them (files already
swapped for the test's copies), so the deployment's TLS, tokens and permissions are proven by real
handshakes and calls. Only what cannot be the same here changes: 127.0.0.1 and free ports (the
orchestrator dials the ports its peers got, by IP), an LLM that answers at once, no drain."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import pytest

from smoa import TLS, AsyncSmoaClient, SmoaError
from smoa.v1 import proposer_pb2, proposer_pb2_grpc
from smoa_services import orchestrator
from smoa_services.config import Settings
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry
from smoa_testing.certificates import Issued
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.orchestrator_stack import REAL_PEERS, question


def _local(settings: Settings, base_url: str) -> Settings:
    return dataclasses.replace(
        settings,
        host="127.0.0.1",
        port=0,
        llm_base_url=base_url,
        llm_max_retries=0,
        drain_delay_seconds=0,
        grace_seconds=0,
    )


@asynccontextmanager
async def running(settings: Mapping[str, Settings]) -> AsyncIterator[dict[str, int]]:
    """Each service's port, by name."""
    telemetry = Telemetry.load("test", environ={})
    started: list[Server] = []
    ports: dict[str, int] = {}
    with FakeOpenAI(instant_reply) as fake:
        try:
            for name, create in REAL_PEERS.items():
                peer = create(_local(settings[name], fake.base_url), telemetry, None)
                started.append(peer)
                ports[name] = await peer.start()
            front = orchestrator.create_server(
                dataclasses.replace(
                    _local(settings["orchestrator"], fake.base_url),
                    proposer_target=f"127.0.0.1:{ports['proposer']}",
                    judge_target=f"127.0.0.1:{ports['judge']}",
                    moderator_target=f"127.0.0.1:{ports['moderator']}",
                ),
                telemetry,
                None,
            )
            started.append(front)
            ports["orchestrator"] = await front.start()
            yield ports
        finally:
            for server in reversed(started):
                await server.stop(0)


async def assert_secured(ports: Mapping[str, int], ca_file: Path, user_token: str, peer_cert: Issued) -> None:
    """A user with a token reaches the front door over TLS; a stranger does not; a proposer refuses a
    client without a certificate, and a certificate of the CA that is not the orchestrator's (`peer_cert`:
    a peer's own, as its health check presents) may call nothing, with the user's token or without."""
    front = f"127.0.0.1:{ports['orchestrator']}"
    tls = TLS(root_certificates=ca_file)
    async with AsyncSmoaClient(front, tls=tls, token=user_token, timeout=20) as user:
        result = await user.generate("What is 6 times 7?", n=2, k=1, max_layers=1)
        assert result.text and not result.degraded
    async with AsyncSmoaClient(front, tls=tls, token="not-a-token", timeout=20) as stranger:
        with pytest.raises(SmoaError) as refused:
            await stranger.generate("What is 6 times 7?")
        assert refused.value.code == "UNAUTHENTICATED"
    ca = ca_file.read_bytes()
    certificate = grpc.ssl_channel_credentials(
        ca, peer_cert.key_file.read_bytes(), peer_cert.cert_file.read_bytes()
    )
    token = grpc.access_token_call_credentials(user_token)
    attempts = {
        "no client certificate": grpc.ssl_channel_credentials(ca),
        "another certificate of the CA": certificate,
        "and the user's token": grpc.composite_channel_credentials(certificate, token),
    }
    codes = {}
    for attempt, credentials in attempts.items():
        async with grpc.aio.secure_channel(f"127.0.0.1:{ports['proposer']}", credentials) as channel:
            stub = proposer_pb2_grpc.ProposerServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as direct:
                await stub.Propose(proposer_pb2.ProposeRequest(messages=question()), timeout=5)
            codes[attempt] = direct.value.code()
    assert codes == {
        "no client certificate": grpc.StatusCode.UNAVAILABLE,  # the handshake fails
        "another certificate of the CA": grpc.StatusCode.PERMISSION_DENIED,
        "and the user's token": grpc.StatusCode.UNAUTHENTICATED,  # not a token the peers accept
    }
