"""The gateway's own metrics, read through an in-process reader: the HTTP server duration in the stable
HTTP conventions (route and status code, probes left out) and its gRPC calls to the orchestrator."""

from __future__ import annotations

import aiohttp
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from smoa_services.telemetry import Telemetry
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.observe.metric_points import count, points
from smoa_testing.stacks.in_process_gateway import gateway
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack

ASK = {"model": "smoa:n=2,k=1,layers=1", "messages": [{"role": "user", "content": "What is 6 times 7?"}]}
ROUTE = "/v1/chat/completions"


async def test_requests_are_measured_by_route_and_status_and_probes_are_not() -> None:
    reader = InMemoryMetricReader()
    telemetry = Telemetry.load("gateway", metric_readers=[reader], environ={})
    with FakeOpenAI(instant_reply) as llm:
        async with (
            orchestrator_stack(llm.base_url) as stack,
            gateway(stack.port, telemetry) as url,
            aiohttp.ClientSession(url) as http,
        ):
            for body in (ASK, {**ASK, "stream": True}, {**ASK, "model": "smoa:n=2,k=3"}):
                async with http.post(ROUTE, json=body) as reply:
                    await reply.read()
            async with http.get("/healthz"), http.get("/readyz"):
                pass
    duration = "http.server.request.duration"
    assert count(reader, duration, http__route=ROUTE, http__response__status_code=200) == 2
    assert count(reader, duration, http__route=ROUTE, http__response__status_code=400) == 1
    assert {(p.attributes or {}).get("http.route") for p in points(reader, duration)} == {ROUTE}
    # The unary call is measured on the gateway's side; the 400 (k > n) was refused by the orchestrator.
    generate = "smoa.v1.OrchestratorService/Generate"
    assert (
        count(reader, "rpc.client.call.duration", rpc__method=generate, rpc__response__status_code="OK") == 1
    )
    invalid = {"rpc__method": generate, "rpc__response__status_code": "INVALID_ARGUMENT"}
    assert count(reader, "rpc.client.call.duration", **invalid) == 1
