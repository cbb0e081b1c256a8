"""One LLM call as telemetry sees it: a span in the GenAI conventions and the conventions' two metrics,
``gen_ai.client.operation.duration`` and ``gen_ai.client.token.usage``. Prompts and answers go on the span
only on opt-in (capture_content), never on the metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.trace import SpanKind, Status, StatusCode

from smoa_services.config import Backend
from smoa_services.llm.completion import Completion
from smoa_services.rpc.failure import Failure
from smoa_services.telemetry import Telemetry, attributes


class ObservedCall:
    def __init__(self, telemetry: Telemetry, backend: Backend, request: Mapping[str, Any]):
        self.instruments = telemetry.instruments
        self.capture_content = telemetry.capture_content
        url = urlsplit(backend.base_url)
        # What the metrics are broken down by: few values each.
        self.dimensions: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": request["model"],
            "server.address": url.hostname or "",
            "server.port": url.port or (443 if url.scheme == "https" else 80),
        }
        attributes = {
            **self.dimensions,
            "gen_ai.request.temperature": request["temperature"],
            "gen_ai.request.max_tokens": request["max_tokens"],
        }
        if "seed" in request:
            attributes["gen_ai.request.seed"] = request["seed"]
        if self.capture_content:
            attributes["gen_ai.input.messages"] = json.dumps(request["messages"])
        self.span = telemetry.tracer.start_span(
            f"chat {request['model']}", kind=SpanKind.CLIENT, attributes=attributes
        )
        self.started = time.perf_counter()

    def succeeded(self, completion: Completion) -> None:
        span = self.span
        span.set_attribute("gen_ai.response.model", completion.model)
        span.set_attribute("gen_ai.response.finish_reasons", [completion.finish_reason])
        span.set_attribute("gen_ai.usage.input_tokens", completion.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", completion.output_tokens)
        span.set_attribute(attributes.USAGE_ESTIMATED, completion.estimated)
        span.set_attribute(attributes.LLM_CALLS, completion.calls)
        if self.capture_content:
            span.set_attribute(
                "gen_ai.output.messages", json.dumps([{"role": "assistant", "content": completion.text}])
            )
        span.end()
        dimensions = {**self.dimensions, "gen_ai.response.model": completion.model}
        self.instruments.llm_duration.record(time.perf_counter() - self.started, dimensions)
        tokens = self.instruments.llm_tokens
        tokens.record(completion.input_tokens, {**dimensions, "gen_ai.token.type": "input"})
        tokens.record(completion.output_tokens, {**dimensions, "gen_ai.token.type": "output"})

    def failed(self, failure: Failure, calls: int) -> Failure:
        """Returns `failure`, for the caller to raise."""
        self.span.set_attribute("error.type", type(failure).__name__)
        self.span.set_attribute(attributes.LLM_CALLS, calls)
        self.span.set_status(Status(StatusCode.ERROR, str(failure)))
        self._end(type(failure).__name__)
        return failure

    def cancelled(self) -> None:
        self._end("cancelled")

    def _end(self, error: str) -> None:
        self.span.end()
        self.instruments.llm_duration.record(
            time.perf_counter() - self.started, {**self.dimensions, "error.type": error}
        )
