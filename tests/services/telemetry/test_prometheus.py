"""OTEL_METRICS_EXPORTER=prometheus: a service process serves its metrics on the configured host and port,
in Prometheus' text format, scraped here as Prometheus would after a real call through it."""

from __future__ import annotations

import signal
import urllib.request
from pathlib import Path

import grpc
from prometheus_client.parser import text_string_to_metric_families

from smoa.v1 import common_pb2, proposer_pb2, proposer_pb2_grpc
from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.replica import Replica, free_port, service_environment

HOST = "127.0.0.1"


Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(port: int) -> Samples:
    """Every sample of the page, by name: (labels, value)."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


async def test_a_service_serves_its_metrics_for_prometheus(tmp_path: Path) -> None:
    metrics_port = free_port([HOST])
    with FakeOpenAI(lambda r: Reply("Paris is the capital", prompt_tokens=17, completion_tokens=4)) as llm:
        env = service_environment(llm.base_url) | {
            "OTEL_METRICS_EXPORTER": "prometheus",
            "OTEL_EXPORTER_PROMETHEUS_HOST": HOST,
            "OTEL_EXPORTER_PROMETHEUS_PORT": str(metrics_port),
        }
        proposer = Replica("proposer", HOST, free_port([HOST]), tmp_path, env)
        proposer.start()
        try:
            async with grpc.aio.insecure_channel(proposer.address) as channel:
                question = common_pb2.ChatMessage(
                    role=common_pb2.CHAT_ROLE_USER, content="Capital of France?"
                )
                await proposer_pb2_grpc.ProposerServiceStub(channel).Propose(
                    proposer_pb2.ProposeRequest(messages=[question]), timeout=10
                )
            samples = scrape(metrics_port)
        finally:
            proposer.signal(signal.SIGTERM)
            proposer.wait(20)
    durations = samples["rpc_server_call_duration_seconds_count"]
    assert [
        (labels["rpc_method"], labels["rpc_response_status_code"], value) for labels, value in durations
    ] == [("smoa.v1.ProposerService/Propose", "OK", 1.0)]
    tokens = {
        labels["gen_ai_token_type"]: value for labels, value in samples["gen_ai_client_token_usage_sum"]
    }
    assert tokens == {"input": 17.0, "output": 4.0}
    # The resource names the service (Prometheus' target_info).
    assert any(labels.get("service_name") == "smoa-proposer" for labels, _ in samples["target_info"])
