"""Every bad input we know of, sent to a real stack, with the status each one got and how many LLM calls it
cost. The stack is the four services on 127.0.0.1 in this process, the orchestrator taking bearer tokens,
the peers serving only the orchestrator's peer token; the LLM is a scripted OpenAI-compatible endpoint
that answers at once.

    .venv/bin/python benchmarks/hostile_inputs.py > benchmarks/results/hostile-inputs-DATE.txt

The judge and the whole process must still be serving at the end: the last lines say so.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smoa.v1 import (
    common_pb2,
    judge_pb2,
    judge_pb2_grpc,
    moderator_pb2,
    moderator_pb2_grpc,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
    proposer_pb2,
    proposer_pb2_grpc,
)
from smoa_services import orchestrator
from smoa_services.config import Settings
from smoa_services.judge import prompt as judge_prompt
from smoa_services.moderator import prompt as moderator_prompt
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry
from smoa_testing.fake_llm.chat_script import Reply, Script, system_prompt
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.orchestrator_stack import REAL_PEERS

ALICE = (("authorization", "Bearer alice-token"),)
PEER = (("authorization", "Bearer peer-token"),)


def user(text: str) -> common_pb2.ChatMessage:
    return common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content=text)


def generate(**fields: Any) -> orchestrator_pb2.GenerateRequest:
    defaults = {"messages": [user("What is 6 times 7?")], "n": 2, "k": 1, "max_layers": 1}
    return orchestrator_pb2.GenerateRequest(**{**defaults, **fields})


def candidates(count: int) -> list[common_pb2.Candidate]:
    return [common_pb2.Candidate(id=f"c{i}", text=f"answer {i} is {i * 7919 % 10007}") for i in range(count)]


def judge_request(count: int, k: int = 2) -> judge_pb2.JudgeRequest:
    return judge_pb2.JudgeRequest(messages=[user("What is 6 times 7?")], candidates=candidates(count), k=k)


def generate_cases() -> list[tuple[str, orchestrator_pb2.GenerateRequest | bytes, Any]]:
    big = "x" * 300_000
    return [
        ("no bearer token", generate(), ()),
        ("a wrong bearer token", generate(), (("authorization", "Bearer nope"),)),
        ("a Basic authorization header", generate(), (("authorization", "Basic YWxpY2U6cA=="),)),
        ("the peer token at the front door", generate(), PEER),
        ("mode = 99", generate(mode=99), ALICE),
        ("aggregation = 99", generate(aggregation=99), ALICE),
        ("selection = 99", generate(selection=99), ALICE),
        ("a 300k-character role", generate(roles=orchestrator_pb2.Roles(roles=[big, "b"])), ALICE),
        ("a 300k-character task_description", generate(task_description=big), ALICE),
        ("max_tokens = 2,147,483,647", generate(model=common_pb2.ModelSettings(max_tokens=2**31 - 1)), ALICE),
        ("n = 1,000", generate(n=1000), ALICE),
        ("k > n", generate(n=2, k=3), ALICE),
        ("max_layers = 1,000", generate(max_layers=1000), ALICE),
        ("quorum > n", generate(n=2, quorum=5), ALICE),
        ("token_budget = -1", generate(token_budget=-1), ALICE),
        ("an unknown backend", generate(model=common_pb2.ModelSettings(backend="elsewhere")), ALICE),
        ("agents[0].index out of range", generate(agents=[orchestrator_pb2.AgentOverride(index=7)]), ALICE),
        ("a 3.7M-character prompt", generate(messages=[user("y" * 3_700_000)]), ALICE),
        ("10,000 messages", generate(messages=[user("hi")] * 10_000), ALICE),
        ("a message with no role", generate(messages=[common_pb2.ChatMessage(content="hi")]), ALICE),
        ("invalid UTF-8 in a string field", b"\x0a\x05\x12\x03\xff\xfe\xfd", ALICE),
        ("a truncated message", b"\x0a\x20\x12", ALICE),
        ("a 5 MB message", generate(messages=[user("z" * 5_000_000)]), ALICE),
    ]


def hostile(judge: str | None = None, agents: Reply | None = None, proposer: str | None = None) -> Script:
    """The instant backend with one kind of hostility: a judge reply, every agent's reply, or proposals."""

    def script(request: dict[str, Any]) -> Reply:
        system = system_prompt(request)
        if agents is not None:
            return agents
        if judge is not None and system.startswith(judge_prompt.SYSTEM):
            return Reply(judge)
        if proposer is not None and not system.startswith((judge_prompt.SYSTEM, moderator_prompt.SYSTEM)):
            return Reply(proposer)
        return instant_reply(request)

    return script


SURROGATE = "\ud83d"
HOSTILE_REPLIES: list[tuple[str, Script]] = [
    ("judge: JSON nested 20,000 deep", hostile(judge='{"scores": ' + "[" * 20_000 + "]" * 20_000 + "}")),
    ("judge: a score of 10^400", hostile(judge='{"scores": {"1": 1' + "0" * 400 + "}}")),
    ("judge: a 5,000-digit number", hostile(judge='{"scores": {"1": ' + "9" * 5000 + "}}")),
    ("judge: a 1 MB reply", hostile(judge='{"scores": {"1": 5}, "x": "' + "y" * 1_000_000 + '"}')),
    ("judge: 100,000 scores", hostile(judge=json.dumps({"scores": {str(i): 5 for i in range(100_000)}}))),
    ("every agent: a lone surrogate", hostile(agents=Reply(f'{{"decision": "stop"}} {SURROGATE}'))),
    ("proposers: 200k chars of unclosed \\boxed{", hostile(proposer="\\boxed{" * 28_572)),
    ("every agent: HTTP 200 with HTML", hostile(agents=Reply(raw_body="<html>oops</html>"))),
    ("every agent: HTTP 200, no choices", hostile(agents=Reply(raw_body='{"id": "x"}'))),
    ("every agent: HTTP 500", hostile(agents=Reply(status=500))),
    ("every agent: HTTP 400", hostile(agents=Reply(status=400, error_code="invalid_request"))),
]


async def call(
    method: Callable[..., Awaitable[Any]], request: Any, metadata: Any, timeout: float = 30
) -> tuple[str, str]:
    try:
        await method(request, metadata=metadata, timeout=timeout)
        return "OK", ""
    except grpc.aio.AioRpcError as e:
        return e.code().name, (e.details() or "").replace("\n", " ")[:110]


def peer_cases() -> list[tuple[str, str, Callable[[grpc.aio.Channel], Any], Any, Any]]:
    judge = lambda c: judge_pb2_grpc.JudgeServiceStub(c).Judge  # noqa: E731
    moderate = lambda c: moderator_pb2_grpc.ModeratorServiceStub(c).Moderate  # noqa: E731
    propose = lambda c: proposer_pb2_grpc.ProposerServiceStub(c).Propose  # noqa: E731
    billed = proposer_pb2.ProposeRequest(messages=[user("Bill my LLM")])
    too_many = moderator_pb2.ModerateRequest(
        messages=[user("q")], kept=candidates(257), layer=1, max_layers=3
    )
    return [
        ("judge", "257 candidates", judge, judge_request(257), PEER),
        ("judge", "20,000 candidates (360 KB)", judge, judge_request(20_000), PEER),
        ("judge", "k = 0", judge, judge_request(3, k=0), PEER),
        ("moderator", "257 candidates", moderate, too_many, PEER),
        ("proposer", "an end user's token", propose, billed, ALICE),
        ("proposer", "no token", propose, billed, ()),
    ]


@dataclass
class Stack:
    llm: FakeOpenAI
    targets: dict[str, str]

    @property
    def front(self) -> str:
        return self.targets["orchestrator"]


@asynccontextmanager
async def secured_stack(script: Script) -> AsyncIterator[Stack]:
    """The four services, the orchestrator taking Alice's token, the peers only the orchestrator's."""
    with tempfile.TemporaryDirectory() as scratch, FakeOpenAI(script) as llm:
        tokens = Path(scratch) / "tokens"
        tokens.write_text("alice alice-token\n")
        os.environ["SMOA_HOSTILE_PEER_TOKENS"] = "orchestrator peer-token"
        os.environ["SMOA_HOSTILE_PEER_TOKEN"] = "peer-token"
        telemetry = Telemetry.load("hostile", environ={})
        common: dict[str, Any] = {"port": 0, "llm_base_url": llm.base_url, "llm_max_retries": 0}
        peers: dict[str, Any] = {
            "auth_tokens_env": "SMOA_HOSTILE_PEER_TOKENS",
            "auth_allow": '{"orchestrator": ["*"]}',
        }
        front: dict[str, Any] = {"auth_tokens_file": str(tokens), "peer_token_env": "SMOA_HOSTILE_PEER_TOKEN"}
        started: list[Server] = []
        targets: dict[str, str] = {}
        try:
            for name, create in REAL_PEERS.items():
                started.append(create(Settings(**common, **peers), telemetry, None))
                targets[name] = f"127.0.0.1:{await started[-1].start()}"
            wired: dict[str, Any] = {f"{name}_target": address for name, address in targets.items()}
            started.append(orchestrator.create_server(Settings(**common, **wired, **front), telemetry, None))
            targets["orchestrator"] = f"127.0.0.1:{await started[-1].start()}"
            yield Stack(llm, targets)
        finally:
            for server in reversed(started):
                await server.stop(0)


async def bad_requests(stack: Stack) -> None:
    rows: list[tuple[str, str, str, str, int]] = []
    async with grpc.aio.insecure_channel(stack.front) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
        raw: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
            "/smoa.v1.OrchestratorService/Generate"
        )
        for what, request, metadata in generate_cases():
            before = len(stack.llm.requests)
            code, detail = await call(raw if isinstance(request, bytes) else stub.Generate, request, metadata)
            rows.append(("orchestrator Generate", what, code, detail, len(stack.llm.requests) - before))
    for service, what, method_of, request, metadata in peer_cases():
        async with grpc.aio.insecure_channel(stack.targets[service]) as channel:
            before = len(stack.llm.requests)
            code, detail = await call(method_of(channel), request, metadata)
            rows.append((service, what, code, detail, len(stack.llm.requests) - before))
    print(f"{'target':<22} {'input':<36} {'status':<20} {'LLM calls':>9}  detail")
    for target, what, code, detail, calls in rows:
        print(f"{target:<22} {what:<36} {code:<20} {calls:>9}  {detail}")


async def hostile_reply(what: str, stack: Stack) -> None:
    async with grpc.aio.insecure_channel(stack.front) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
        started = time.monotonic()
        try:
            reply = await stub.Generate(generate(n=3, k=2, max_layers=2), metadata=ALICE, timeout=60)
            stages = ",".join(sorted({d.stage for d in reply.degradations}))
            outcome, detail = "OK", f"degraded: {stages}" if reply.degraded else "not degraded"
        except grpc.aio.AioRpcError as e:
            outcome, detail = e.code().name, (e.details() or "")[:90]
    print(f"{what:<44} {outcome:<20} {time.monotonic() - started:>7.2f}  {detail}")


async def still_serving(stack: Stack) -> None:
    for name, address in stack.targets.items():
        async with grpc.aio.insecure_channel(address) as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
        print(f"{name} afterwards: {health_pb2.HealthCheckResponse.ServingStatus.Name(health.status)}")


async def main() -> None:
    async with secured_stack(instant_reply) as stack:
        await bad_requests(stack)
        print()
        await still_serving(stack)
    print()
    print(f"{'LLM replies (a fresh stack each)':<44} {'status':<20} {'seconds':>7}  outcome")
    for what, script in HOSTILE_REPLIES:
        async with secured_stack(script) as stack:
            await hostile_reply(what, stack)


if __name__ == "__main__":
    asyncio.run(main())
