"""Failover under load, with real processes: 3 proposer and 2 judge replicas, each on its own loopback
address (same port) with its own instant FakeOpenAI; the orchestrator (in this process) reaches them
through `ipv4:` targets listing every replica (round_robin, UNAVAILABLE retried); `smoa load` drives it
open-loop. One proposer replica is SIGKILLed mid-run and later restarted on the same address.

Every client request must succeed (requests in flight on the killed replica are retried on another),
every live replica must get a share, and the restarted one must serve again."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from smoa_services import moderator, orchestrator
from smoa_services.config import Settings
from smoa_services.telemetry import Telemetry
from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.replica import Replica, free_port, service_environment

PROPOSER_HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
JUDGE_HOSTS = ["127.0.0.5", "127.0.0.6"]
RATE = 8.0
DURATION = 12.0
KILL_AT, RESTART_AT = 3.0, 4.5
# Proposer answers take this long, so requests are in flight on the replica when it is killed.
PROPOSER_DELAY = 0.05


def slow_proposer(request: dict[str, object]) -> Reply:
    reply = instant_reply(request)
    return Reply(reply.text, delay=PROPOSER_DELAY)


def target(replicas: list[Replica]) -> str:
    return "ipv4:" + ",".join(r.address for r in replicas)


def load_command(port: int, report: Path) -> list[str]:
    return [
        sys.executable, "-m", "smoa.cli", "--target", f"127.0.0.1:{port}", "load",
        "--rate", str(RATE), "--arrival", "constant", "--duration", f"{DURATION}s", "--timeout", "10",
        "-n", "3", "-k", "2", "--layers", "2", "--json", str(report),
    ]  # fmt: skip


# Each replica's own LLM endpoint, by its host: what it served is counted there.
LLMS: dict[str, FakeOpenAI] = {}


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[list[Replica], list[Replica], FakeOpenAI]]:
    with ExitStack() as stack:
        port = free_port(PROPOSER_HOSTS + JUDGE_HOSTS)

        def replica(service: str, host: str, script: object) -> Replica:
            fake = stack.enter_context(FakeOpenAI(script))  # type: ignore[arg-type]
            LLMS[host] = fake
            started = Replica(service, host, port, tmp_path, service_environment(fake.base_url))
            stack.callback(started.stop)
            return started

        proposers = [replica("proposer", h, slow_proposer) for h in PROPOSER_HOSTS]
        judges = [replica("judge", h, instant_reply) for h in JUDGE_HOSTS]
        for r in [*proposers, *judges]:
            r.start()
        yield proposers, judges, stack.enter_context(FakeOpenAI(instant_reply))


@pytest.mark.slow
async def test_killing_a_proposer_replica_fails_no_request(
    replicas: tuple[list[Replica], list[Replica], FakeOpenAI], tmp_path: Path
) -> None:
    proposers, judges, shared = replicas
    telemetry = Telemetry.load("failover", [], environ={})
    common = {"port": 0, "llm_base_url": shared.base_url, "llm_max_retries": 0}
    peer = moderator.create_server(Settings(**common), telemetry, None)  # type: ignore[arg-type]
    moderator_port = await peer.start()
    settings = Settings(
        **common,  # type: ignore[arg-type]
        proposer_target=target(proposers),
        judge_target=target(judges),
        moderator_target=f"127.0.0.1:{moderator_port}",
    )
    front = orchestrator.create_server(settings, telemetry, None)
    port = await front.start()
    report = tmp_path / "load.json"
    victim = proposers[1]
    try:
        load = await asyncio.create_subprocess_exec(
            *load_command(port, report), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        started = time.monotonic()
        await asyncio.sleep(KILL_AT)
        # Killed while it is answering, so the retry of in-flight RPCs is what is tested.
        while not LLMS[victim.host].in_flight and time.monotonic() - started < KILL_AT + 2:
            await asyncio.sleep(0.002)
        in_flight_at_kill = LLMS[victim.host].in_flight
        await asyncio.to_thread(victim.kill)
        served_before_kill = len(LLMS[victim.host].requests)
        await asyncio.sleep(RESTART_AT - (time.monotonic() - started))
        await asyncio.to_thread(victim.start)
        served_at_restart = len(LLMS[victim.host].requests)
        restarted = time.monotonic()
        finishing = asyncio.ensure_future(load.communicate())
        while len(LLMS[victim.host].requests) == served_at_restart and not finishing.done():
            await asyncio.sleep(0.01)
        back_after = time.monotonic() - restarted
        out, err = await asyncio.wait_for(finishing, DURATION + 20)
    finally:
        await front.stop(0)
        await peer.stop(0)
    summary = out.decode()
    assert load.returncode == 0, summary + err.decode()
    data = json.loads(report.read_text())
    # Every request succeeded: those in flight on the killed replica were retried on the others.
    assert data["statuses"] == {"OK": data["count"]}, summary
    assert data["count"] >= RATE * DURATION * 0.9
    served = {r.host: len(LLMS[r.host].requests) for r in proposers}
    # Round robin: each replica served its share (the victim was away for part of the run).
    total = sum(served.values())
    assert all(count >= total * 0.1 for count in served.values()), served
    assert served_before_kill > 0 and in_flight_at_kill > 0
    # How soon depends on the channel's reconnect backoff (gRPC's default: 1 s, x1.6, up to 120 s).
    assert len(LLMS[victim.host].requests) > served_at_restart, f"no traffic {back_after:.1f}s after restart"
    for judge in judges:
        assert len(LLMS[judge.host].requests) > 0
