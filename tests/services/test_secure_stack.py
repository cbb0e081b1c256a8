"""The four services secured as a deployment would be: end users reach the orchestrator over TLS with a
bearer token; the orchestrator reaches its peers over mutual TLS, as "orchestrator" by its certificate and
its peer token; the peers refuse anyone else, so an end user cannot bill a proposer's LLM directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest

from smoa import TLS, AsyncSmoaClient, SmoaError
from smoa.v1 import common_pb2, proposer_pb2, proposer_pb2_grpc
from smoa_services import orchestrator
from smoa_services.config import Settings
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry
from smoa_testing.certificates import Authority
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.orchestrator_stack import REAL_PEERS


async def test_a_secured_stack_answers_its_users_and_its_peers_refuse_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = Authority(tmp_path)
    server = ca.server()
    orchestrator_cert, alice_cert = ca.client("orchestrator"), ca.client("alice")
    tokens = tmp_path / "users"
    tokens.write_text("alice alice-token\n")
    monkeypatch.setenv("PEER_TOKEN", "peer-secret")
    monkeypatch.setenv("PEER_TOKENS", "orchestrator peer-secret")
    serving: dict[str, Any] = {"tls_cert_file": str(server.cert_file), "tls_key_file": str(server.key_file)}
    peer_side: dict[str, Any] = {
        **serving,
        "tls_client_ca_file": str(ca.cert_file),
        "auth_tokens_env": "PEER_TOKENS",
        "auth_allow": '{"orchestrator": ["*"]}',
    }
    telemetry = Telemetry.load("test", environ={})
    started: list[Server] = []
    with FakeOpenAI(instant_reply) as fake:
        common: dict[str, Any] = {"port": 0, "llm_base_url": fake.base_url, "llm_max_retries": 0}
        try:
            targets: dict[str, Any] = {}
            for name, create in REAL_PEERS.items():
                peer = create(Settings(**common, **peer_side), telemetry, None)
                started.append(peer)
                targets[f"{name}_target"] = f"127.0.0.1:{await peer.start()}"
            front = orchestrator.create_server(
                Settings(
                    **common,
                    **serving,
                    **targets,
                    auth_tokens_file=str(tokens),
                    peer_ca_file=str(ca.cert_file),
                    peer_cert_file=str(orchestrator_cert.cert_file),
                    peer_key_file=str(orchestrator_cert.key_file),
                    peer_token_env="PEER_TOKEN",
                ),
                telemetry,
                None,
            )
            started.append(front)
            port = await front.start()
            tls = TLS(root_certificates=ca.cert_file)
            async with AsyncSmoaClient(
                f"127.0.0.1:{port}", tls=tls, token="alice-token", timeout=10
            ) as alice:
                result = await alice.generate("What is 6 times 7?", n=3, k=2, max_layers=1)
                assert result.text and not result.degraded
            async with AsyncSmoaClient(
                f"127.0.0.1:{port}", tls=tls, token="not-a-token", timeout=10
            ) as stranger:
                with pytest.raises(SmoaError) as refused:
                    await stranger.generate("What is 6 times 7?")
                assert refused.value.code == "UNAUTHENTICATED"
            # Straight to a proposer, with her certificate (she is "alice", not the orchestrator), with and
            # without her token (not one the peers accept).
            certificate = grpc.ssl_channel_credentials(
                ca.cert_file.read_bytes(), alice_cert.key, alice_cert.cert
            )
            token = grpc.access_token_call_credentials("alice-token")
            question = [common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="Bill my LLM")]
            codes = []
            for credentials in (certificate, grpc.composite_channel_credentials(certificate, token)):
                async with grpc.aio.secure_channel(targets["proposer_target"], credentials) as channel:
                    with pytest.raises(grpc.aio.AioRpcError) as direct:
                        await proposer_pb2_grpc.ProposerServiceStub(channel).Propose(
                            proposer_pb2.ProposeRequest(messages=question), timeout=5
                        )
                    codes.append(direct.value.code())
            assert codes == [grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED]
        finally:
            for s in reversed(started):
                await s.stop(0)
        proposed = [r for r in fake.requests if "Bill my LLM" in str(r)]
    assert not proposed, "the refused caller reached the LLM"
