"""No content in telemetry without opt-in. A real stack exports its spans over OTLP to an in-process
receiver while an LLM backend misbehaves in every way that could carry a prompt or a reply somewhere it
does not belong: refusals and 5xx bodies that quote the prompt, bodies that are not a chat completion,
judge, moderator and role-writer replies that are wrong in ways a parser would quote. Marker strings sit
in the prompt, the task description, the backend's error bodies and replies, the API key and the bearer
tokens. Without OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT none may appear in any span, any log
line (Python's or gRPC's own on stderr), or any status sent to a caller; with it, content does appear
(which shows the search would find it), but keys and tokens still never do."""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path
from typing import Any

import grpc
import pytest

from smoa.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc
from smoa_services import orchestrator
from smoa_services.config import Settings
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry
from smoa_testing.fake_llm.callers import by_caller, caller_of
from smoa_testing.fake_llm.chat_script import Reply, last_user
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.observe.otlp_receiver import OtlpReceiver
from smoa_testing.stacks.orchestrator_stack import REAL_PEERS

PROMPT = "PROMPT-MARKER-q7"
TASK = "TASK-MARKER-k2"
BODY = "BODY-MARKER-v9"
REPLY = "REPLY-MARKER-c4"
API_KEY = "sk-KEY-MARKER-z1"
TOKEN = "TOKEN-MARKER-m3"
WRONG_TOKEN = "WRONG-TOKEN-MARKER-p8"
CONTENT = (PROMPT, TASK, BODY, REPLY)
SECRETS = (API_KEY, TOKEN, WRONG_TOKEN)


def faulty_backend() -> Any:
    """Proposers answer, are refused with the prompt quoted, fail with it quoted in a 5xx, or send a body
    that is not a chat completion, in turn; every other agent's reply is unusable and quotes something."""
    proposals = itertools.count()

    def proposer(request: dict[str, Any]) -> Reply:
        user = last_user(request)
        turn = next(proposals) % 4
        if turn == 1:
            return Reply(status=400, error=f"{BODY} cannot answer {user!r}", error_code="invalid_prompt")
        if turn == 2:
            return Reply(status=503, error=f"{BODY} overloaded while reading {user!r}")
        if turn == 3:
            return Reply(raw_body='{"echo": "' + BODY + '", "' + PROMPT + '": 1}')
        return Reply(f"An answer of {len(user)} characters")

    return by_caller(
        judge='{"scores": {"' + REPLY + '": 9, "1": "' + REPLY + '"}}',
        moderator='{"decision": "' + REPLY + '", "reason": 3}',
        role_writer='{"roles": ["' + REPLY + '"]}',
        aggregator=lambda request: Reply(
            status=400, error=f"{BODY}: your prompt {last_user(request)[:500]!r} is too long"
        ),
        proposer=proposer,
    )


def refusing_backend(request: dict[str, Any]) -> Reply:
    return Reply(status=400, error=f"{BODY}: {last_user(request)!r} breaks the rules")


def request(**fields: Any) -> orchestrator_pb2.GenerateRequest:
    message = common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content=f"{PROMPT}: what is 6 x 7?")
    return orchestrator_pb2.GenerateRequest(messages=[message], **fields)


def statuses_seen(error: grpc.aio.AioRpcError) -> bytes:
    """Everything a caller is told of a failure: the message and the rich status's binary details."""
    trailing = b"".join(
        value if isinstance(value, bytes) else value.encode()
        for _, value in (error.trailing_metadata() or ())
    )
    return (error.details() or "").encode() + trailing


async def run_faulty_traffic(tmp_path: Path) -> list[bytes]:
    """Serves a stack whose LLM misbehaves, sends it ordinary, failing and refused requests, and returns
    what its callers were told."""
    tokens = tmp_path / "tokens"
    tokens.write_text(f"alice {TOKEN}\n")
    told: list[bytes] = []
    telemetries: list[Telemetry] = []
    started: list[Server] = []
    with FakeOpenAI(faulty_backend()) as faulty, FakeOpenAI(refusing_backend) as refusing:
        strict = {"base_url": refusing.base_url, "model": "strict", "api_key_env": "SMOA_LLM_API_KEY"}
        common: dict[str, Any] = {
            "port": 0,
            "llm_max_retries": 0,
            "llm_timeout_seconds": 5.0,
            "llm_base_url": faulty.base_url,
            "backends": json.dumps({"strict": strict}),
            # Never open: three faults in four calls must reach every agent, not a breaker's refusal.
            "breaker_consecutive_failures": 1_000_000,
            "breaker_failure_ratio": 1.0,
        }
        try:
            targets: dict[str, Any] = {}
            for name, create in REAL_PEERS.items():
                telemetries.append(Telemetry.load(name))
                peer = create(Settings(**common), telemetries[-1], None)
                started.append(peer)
                targets[f"{name}_target"] = f"127.0.0.1:{await peer.start()}"
            telemetries.append(Telemetry.load("orchestrator"))
            settings = Settings(**common, **targets, auth_tokens_file=str(tokens))
            front = orchestrator.create_server(settings, telemetries[-1], None)
            started.append(front)
            port = await front.start()
            as_alice = (("authorization", f"Bearer {TOKEN}"),)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
                # The failing calls first: the faulty ones that follow trip the default backend's breaker.
                failing = [
                    # The backend refuses: its refusal is the caller's status.
                    (request(n=1, k=1, model=common_pb2.ModelSettings(backend="strict")), as_alice),
                    # Bad input whose values are content: the violations name fields, not values.
                    (request(n=2, k=1, task_description=TASK * 1000), as_alice),
                    (request(n=2, k=1, max_layers=1), (("authorization", f"Bearer {WRONG_TOKEN}"),)),
                ]
                for generate, metadata in failing:
                    with pytest.raises(grpc.aio.AioRpcError) as failed:
                        await stub.Generate(generate, metadata=metadata, timeout=30)
                    told.append(statuses_seen(failed.value))
                # The faults pass through every agent: the breaker is set never to open here, so the
                # run cannot end early on its UNAVAILABLE and check fewer paths (asserted below).
                # One proposer call in four answers, all alike: with no skips, the judge, the moderator
                # and the aggregator are still asked.
                every_call = orchestrator_pb2.Skips(judge_on_consensus=False, synthesis_on_agreement=False)
                reply = await stub.Generate(
                    request(n=8, k=1, max_layers=2, quorum=1, task_description=TASK, skips=every_call),
                    metadata=as_alice,
                    timeout=30,
                )
                assert reply.degraded  # the run did go through the faults it is meant to exercise
                told.append(reply.SerializeToString())
                async for event in stub.GenerateStream(
                    request(n=8, k=1, max_layers=2, quorum=1, fused_judge_moderator=False, skips=every_call),
                    metadata=as_alice,
                    timeout=30,
                ):
                    told.append(event.SerializeToString())
        finally:
            for server in reversed(started):
                await server.stop(0)
            for process in telemetries:
                assert process.force_flush(10_000)
                process.shutdown()
        assert refusing.requests  # the refusing backend was reached
        seen = {caller_of(r) for r in faulty.requests}
        assert {"proposer", "judge", "moderator", "aggregator"} <= seen, seen
    return told


def every_span(receiver: OtlpReceiver) -> list[bytes]:
    spans = [span.SerializeToString() for _, span in receiver.spans()]
    assert len(spans) > 20
    return spans


def every_metric(receiver: OtlpReceiver) -> list[bytes]:
    metrics = receiver.metrics()
    assert {"gen_ai.client.token.usage", "rpc.server.call.duration", "smoa.requests"} <= {
        m.name for _, m in metrics
    }
    return [metric.SerializeToString() for _, metric in metrics]


@pytest.mark.parametrize("capture", [False, True], ids=["default", "opt-in"])
async def test_no_content_in_spans_metrics_logs_or_statuses_without_opt_in(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    capture: bool,
) -> None:
    monkeypatch.setenv("SMOA_LLM_API_KEY", API_KEY)
    if capture:
        monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    else:
        monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    caplog.set_level(logging.INFO)
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
        told = await run_faulty_traffic(tmp_path)
        spans = every_span(receiver)
        metrics = every_metric(receiver)
    out, err = capfd.readouterr()
    logs = [caplog.text.encode(), out.encode(), err.encode()]
    for marker in (m.encode() for m in SECRETS):
        assert not [s for s in spans if marker in s], marker
        assert not [line for line in logs if marker in line], marker
        assert not [t for t in told if marker in t], marker
    for marker in (m.encode() for m in [*SECRETS, *CONTENT]):
        # Metrics never carry content, opted in or not.
        assert not [m for m in metrics if marker in m], marker
    for marker in (m.encode() for m in CONTENT):
        if capture:
            continue
        assert not [s for s in spans if marker in s], marker
        assert not [line for line in logs if marker in line], marker
    # What a caller is told may hold its own answer and roles, never a backend's body or an LLM's
    # unusable reply quoted back.
    if not capture:
        assert not [t for t in told if BODY.encode() in t]
    if capture:
        assert any(PROMPT.encode() in s for s in spans)
        assert any(REPLY.encode() in s for s in spans)
        assert any(BODY.encode() in t for t in told)
