"""`smoa load --http` as operators run it (a subprocess), through the real gateway in front of the real
services in this process, every LLM call answered at once by a fake LLM: the same engine and report as
over gRPC, and the gateway's errors counted under the gRPC status names."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway
from tests.load.billed import billed_range
from tests.load.local_stack import local_stack
from tests.load.test_load_against_stack import run

SMOA_LOAD = (sys.executable, "-m", "smoa.cli", "load")
# 3 proposers x 2 layers, 2 judges (fused with the moderator, the default), 1 aggregator: 9 LLM calls of
# 11 prompt tokens each.
SHAPE = ("-n", "3", "-k", "2", "--layers", "2")
PROMPT_TOKENS_PER_REQUEST = 11 * 9


async def test_a_streamed_closed_loop_costs_what_the_same_requests_cost_over_grpc(tmp_path: Path) -> None:
    over_http, over_grpc = tmp_path / "http.json", tmp_path / "grpc.json"
    loop = ("--concurrency", "3", "--requests", "12", "--stream", *SHAPE)
    with FakeOpenAI(instant_reply) as fake:
        async with local_stack(fake.base_url) as port, gateway(port) as url:
            code, out, err = await run(*SMOA_LOAD, "--http", f"{url}/v1", *loop, "--json", str(over_http))
            grpc_code, _, grpc_err = await run(
                *SMOA_LOAD, "--target", f"127.0.0.1:{port}", *loop, "--json", str(over_grpc)
            )
    assert (code, grpc_code) == (0, 0), err + grpc_err
    assert f"POST /v1/chat/completions (stream) mode smoa against {url}," in err
    assert "[OK]\t12 responses" in out and "Time to first token:" in out
    http, grpc = json.loads(over_http.read_text()), json.loads(over_grpc.read_text())
    assert http["statuses"] == {"OK": 12} and http["ttft"]["count"] == 12
    # The usage chunk of each stream is the pipeline's whole cost, as the gRPC summary's.
    assert http["tokens"]["input"] == 12 * PROMPT_TOKENS_PER_REQUEST == grpc["tokens"]["input"]
    assert http["tokens"]["output"] == grpc["tokens"]["output"] > 0
    # The first token comes before the answer is complete.
    assert http["ttft"]["percentiles_ms"]["p50"] <= http["latency"]["percentiles_ms"]["p50"]


async def test_an_open_loop_of_completions_writes_the_json_report(tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    with FakeOpenAI(instant_reply) as fake:
        async with local_stack(fake.base_url) as port, gateway(port) as url:
            code, out, err = await run(
                *SMOA_LOAD, "--http", url, "--rate", "20", "--duration", "1s", "--warmup", "3", *SHAPE,
                "--slo-latency-ms", "5000", "--json", str(report), "--samples", str(tmp_path / "run.jsonl"),
            )  # fmt: skip
    assert code == 0, err
    assert "Summary:" in out and "Time to first token:" not in out
    data = json.loads(report.read_text())
    assert data["run"].startswith(f"smoa load: POST /v1/chat/completions mode smoa against {url}, open loop")
    assert data["count"] >= 10 and data["statuses"] == {"OK": data["count"]}
    samples = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    least, most = billed_range(fake, len(samples), calls_per_request=9)
    assert least <= sum(s["input_tokens"] for s in samples) <= most
    assert data["tokens"]["input"] == sum(s["input_tokens"] for s in samples if not s["warmup"])
    assert data["goodput"]["share"] == 1.0


@pytest.mark.parametrize("stream", [(), ("--stream",)], ids=["completion", "stream"])
async def test_a_gateway_with_no_orchestrator_behind_it_counts_unavailable(stream: tuple[str, ...]) -> None:
    async with gateway(1) as url:  # nothing listens on port 1
        code, out, err = await run(*SMOA_LOAD, "--http", url, "--requests", "3", "--timeout", "5", *stream)
    assert code == 1, err
    assert "[UNAVAILABLE]\t3 responses" in out


async def test_no_gateway_at_all_counts_unavailable_with_the_reason() -> None:
    nothing_listens = "http://127.0.0.1:1"
    code, out, err = await run(*SMOA_LOAD, "--http", nothing_listens, "--requests", "2", "--timeout", "2")
    assert code == 1, err
    assert "[UNAVAILABLE]\t2 responses" in out and "ConnectError" in out


@pytest.mark.parametrize("stream", [(), ("--stream",)], ids=["completion", "stream"])
async def test_an_invalid_argument_is_reported_as_the_services_refusal(
    stream: tuple[str, ...], tmp_path: Path
) -> None:
    report = tmp_path / "run.json"
    with FakeOpenAI(instant_reply) as fake:
        async with local_stack(fake.base_url) as port, gateway(port) as url:
            code, out, err = await run(
                # k above the service's default n: only the service knows, so the SDK cannot refuse it.
                *SMOA_LOAD, "--http", url, "--requests", "2", "-k", "9", *stream,
                "--json", str(report),
            )  # fmt: skip
        asked = len(fake.requests)
    assert code == 1, err
    assert "[INVALID_ARGUMENT]\t2 responses" in out
    (error,) = json.loads(report.read_text())["errors"]
    assert error["code"] == "INVALID_ARGUMENT" and error["count"] == 2 and "k" in error["detail"]
    assert asked == 0, "refused before any LLM call"
