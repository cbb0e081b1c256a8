"""The local stack's parts (`python -m smoa_services.stack`, what `make run` starts): every service is one,
and each is probed the way it serves, so `start` can tell when the stack is ready. A gRPC probe of the
HTTP gateway never succeeds: that left `make run` waiting for it until it gave up."""

from __future__ import annotations

import asyncio

from smoa_services.config import DEFAULT_PORTS
from smoa_services.stack import Part, parts
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack


def test_every_service_and_the_model_is_a_part_probed_as_it_serves() -> None:
    found = {part.name: part for part in parts()}
    assert set(found) == {*DEFAULT_PORTS, "model"}
    assert {name: part.http_ready for name, part in found.items() if part.http_ready} == {
        "model": "/v1/models",
        "gateway": "/readyz",
    }
    for name, port in DEFAULT_PORTS.items():
        assert found[name].port == port and str(port) in found[name].command
        assert f"smoa_services.{name}" in found[name].command


async def test_the_gateway_is_healthy_when_its_orchestrator_serves() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack:
            orchestrator = Part("orchestrator", [], stack.port)
            async with gateway(stack.port) as url:
                port = int(url.rpartition(":")[2])
                ready = Part("gateway", [], port, http_ready="/readyz")
                # The probes block: off the loop that serves what they probe.
                probes = [ready.healthy, Part("gateway", [], port).healthy, orchestrator.healthy]
                results = [await asyncio.to_thread(probe) for probe in probes]
    assert results == [True, False, True]
    async with gateway(1) as url:  # nothing behind it: alive, not ready
        port = int(url.rpartition(":")[2])
        assert not await asyncio.to_thread(Part("gateway", [], port, http_ready="/readyz").healthy)
