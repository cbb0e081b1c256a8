"""Credentials replaced on disk are taken without a restart, on a running stack: the orchestrator's peer
token (SMOA_PEER_TOKEN_FILE) through the window where the peers accept the old and the new one, and who
may call what (SMOA_AUTH_ALLOW_FILE). A file caught half-written keeps the value read last."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from smoa.v1 import orchestrator_pb2
from smoa_services import watched_file
from smoa_services.watched_file import WatchedFile
from tests.harness.instant_llm import instant_reply
from tests.harness.openai_endpoint import FakeOpenAI
from tests.harness.orchestrator_stack import orchestrator_stack, question

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
