"""A service under test: its real server on 127.0.0.1:0 with an in-memory span exporter, a channel to
it, and its LLM pointed at a scripted FakeOpenAI."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from smoa.v1 import common_pb2
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry

CreateServer = Callable[[Settings, Telemetry, ChatModel | None], Server]

QUESTION = [common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="What is the capital of France?")]


@dataclass
class RunningService:
    channel: grpc.aio.Channel
    spans: InMemorySpanExporter

    def rpc_span(self, method: str) -> ReadableSpan:
        found = [s for s in self.spans.get_finished_spans() if s.name.endswith(method)]
        assert found, [s.name for s in self.spans.get_finished_spans()]
        return found[-1]


@asynccontextmanager
async def serving(
    create_server: CreateServer, base_url: str, **settings: Any
) -> AsyncIterator[RunningService]:
    # No SDK retries and short timeouts keep failure tests fast.
    config = Settings(port=0, llm_base_url=base_url, llm_max_retries=0, llm_timeout_seconds=5.0, **settings)
    spans = InMemorySpanExporter()
    telemetry = Telemetry.load("test", [SimpleSpanProcessor(spans)], environ={})
    chat = ChatModel(config, telemetry)
    server = create_server(config, telemetry, chat)
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield RunningService(channel, spans)
    finally:
        await server.stop(0)
        await chat.close()


def candidate(id_: str, text: str) -> common_pb2.Candidate:
    return common_pb2.Candidate(id=id_, text=text, agent=f"agent of {id_}")


_SHOWN = re.compile(r'<response label="(\d+)">\n(.*?)\n</response>', re.DOTALL)


def shown_responses(request: dict[str, Any]) -> dict[str, str]:
    """Label -> text of the responses a judge prompt shows, in the order shown. Read from the first user
    message, so a retry (which appends turns) shows the same."""
    first_user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    return dict(_SHOWN.findall(first_user))


def scores_reply(request: dict[str, Any], score_of: dict[str, float], **extra: Any) -> str:
    """A valid judge reply scoring each shown response by its text."""
    scores = {label: score_of[text] for label, text in shown_responses(request).items()}
    return json.dumps({"scores": scores, **extra})
