"""Chat completions against OpenAI-compatible backends, with bounded concurrency per backend, retries,
usage accounting and a GenAI-convention span per call."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import openai
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from smoa_services.config import Backend, Settings
from smoa_services.deadline import Deadline

Message = Mapping[str, str]

# How a JSON schema is passed in response_format, most standard first: OpenAI's structured outputs (also
# vLLM, Ollama), llama-cpp-python's json_object with a schema (grammar-constrained), and plain JSON mode.
SCHEMA_FORMS: tuple[Callable[[Mapping[str, Any]], dict[str, Any]], ...] = (
    lambda schema: {"type": "json_schema", "json_schema": {"name": "reply", "schema": dict(schema)}},
    lambda schema: {"type": "json_object", "schema": dict(schema)},
    lambda schema: {"type": "json_object"},
)


@dataclass(frozen=True)
class ModelChoice:
    """Which backend and model answer, and how; None/"" fields take the service defaults."""

    backend: str = ""
    model: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    # True when the backend reported no usage and the counts were estimated from the text.
    estimated: bool
    model: str
    finish_reason: str
    latency: float


class Ask(Protocol):
    """One JSON call with the caller's model choice and deadline already bound."""

    async def __call__(
        self, messages: Sequence[Message], schema: Mapping[str, Any] | None = None, /
    ) -> Completion: ...


class LLMUnavailable(Exception):
    """The backend could not be reached or kept failing (timeouts, 429, 5xx) after the retries."""

    def __init__(self, backend: str, detail: str):
        super().__init__(f"LLM backend {backend or 'default'!r} unavailable: {detail}")
        self.backend = backend


class LLMRejected(Exception):
    """The backend refused the request itself (4xx other than 429): retrying will not help."""

    def __init__(self, backend: str, detail: str):
        super().__init__(f"LLM backend {backend or 'default'!r} rejected the request: {detail}")
        self.backend = backend


def estimate_tokens(text: str) -> int:
    # About four characters a token for English with BPE vocabularies; only used when usage is missing.
    return math.ceil(len(text) / 4)


class ChatModel:
    def __init__(self, settings: Settings, tracer: trace.Tracer, capture_content: bool = False):
        self.settings = settings
        self.tracer = tracer
        self.capture_content = capture_content
        self._clients: dict[str, tuple[Backend, openai.AsyncOpenAI, asyncio.Semaphore]] = {}
        # Per backend, the index in SCHEMA_FORMS of the response_format it accepted.
        self._schema_form: dict[str, int] = {}

    def _client(self, name: str) -> tuple[Backend, openai.AsyncOpenAI, asyncio.Semaphore]:
        if name not in self._clients:
            backend = self.settings.backend(name)
            client = openai.AsyncOpenAI(
                base_url=backend.base_url,
                api_key=backend.api_key(),
                # The SDK retries connection errors, timeouts, 408/409/429 and 5xx with exponential
                # backoff and jitter, honouring Retry-After.
                max_retries=self.settings.llm_max_retries,
                timeout=self.settings.llm_timeout_seconds,
            )
            self._clients[name] = (backend, client, asyncio.Semaphore(self.settings.llm_concurrency))
        return self._clients[name]

    def _request(self, backend: Backend, messages: Sequence[Message], choice: ModelChoice) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": choice.model or backend.model,
            "messages": [dict(m) for m in messages],
            "temperature": self.settings.temperature if choice.temperature is None else choice.temperature,
            "max_tokens": self.settings.max_tokens if choice.max_tokens is None else choice.max_tokens,
        }
        if choice.seed is not None:
            request["seed"] = choice.seed
        return request

    def _start_span(self, backend: Backend, request: Mapping[str, Any]) -> Span:
        url = urlsplit(backend.base_url)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": request["model"],
            "gen_ai.request.temperature": request["temperature"],
            "gen_ai.request.max_tokens": request["max_tokens"],
            "server.address": url.hostname or "",
            "server.port": url.port or (443 if url.scheme == "https" else 80),
        }
        if "seed" in request:
            attributes["gen_ai.request.seed"] = request["seed"]
        if self.capture_content:
            attributes["gen_ai.input.messages"] = json.dumps(request["messages"])
        return self.tracer.start_span(f"chat {request['model']}", kind=SpanKind.CLIENT, attributes=attributes)

    def _finish_span(self, span: Span, completion: Completion) -> None:
        span.set_attribute("gen_ai.response.model", completion.model)
        span.set_attribute("gen_ai.response.finish_reasons", [completion.finish_reason])
        span.set_attribute("gen_ai.usage.input_tokens", completion.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", completion.output_tokens)
        span.set_attribute("smoa.usage.estimated", completion.estimated)
        if self.capture_content:
            span.set_attribute(
                "gen_ai.output.messages", json.dumps([{"role": "assistant", "content": completion.text}])
            )
        span.end()

    @staticmethod
    def _fail(span: Span, name: str, error: Exception) -> Exception:
        span.record_exception(error)
        span.set_attribute("error.type", type(error).__name__)
        span.set_status(Status(StatusCode.ERROR, str(error)))
        span.end()
        if (
            isinstance(error, openai.APIStatusError)
            and 400 <= error.status_code < 500
            and error.status_code != 429
        ):
            return LLMRejected(name, str(error))
        return LLMUnavailable(name, str(error))

    async def complete(
        self,
        messages: Sequence[Message],
        choice: ModelChoice,
        *,
        timeout: float,
        json_mode: bool = False,
        schema: Mapping[str, Any] | None = None,
    ) -> Completion:
        """One chat completion. ``json_mode`` asks for a JSON object; a ``schema`` also asks the backend
        to constrain the reply to it (grammar-constrained decoding where the server has it), in the first
        of SCHEMA_FORMS the backend accepts, remembered per backend."""
        if schema is None:
            return await self._complete(
                messages, choice, timeout, {"type": "json_object"} if json_mode else None
            )
        known = self._schema_form.get(choice.backend)
        for index in range(known or 0, len(SCHEMA_FORMS)):
            try:
                # A form not yet known to work is tried once, without the SDK's retries: servers refuse
                # an unknown response_format with a 4xx, or (llama-cpp-python) a 500.
                retries = None if index == known else 0
                completion = await self._complete(
                    messages, choice, timeout, SCHEMA_FORMS[index](schema), retries
                )
            except (LLMRejected, LLMUnavailable) as e:
                # Only a refusal of the format itself moves on to the next form; others are real errors.
                if index == len(SCHEMA_FORMS) - 1 or not any(
                    w in str(e) for w in ("response_format", "schema")
                ):
                    raise
                continue
            self._schema_form[choice.backend] = index
            return completion
        raise AssertionError("the last form re-raises")

    async def _complete(
        self,
        messages: Sequence[Message],
        choice: ModelChoice,
        timeout: float,
        response_format: object,
        max_retries: int | None = None,
    ) -> Completion:
        backend, client, slots = self._client(choice.backend)
        request = self._request(backend, messages, choice)
        if response_format is not None:
            request["response_format"] = response_format
        async with slots:
            span = self._start_span(backend, request)
            started = time.perf_counter()
            try:
                # The SDK's documented low-level `post` keeps its retries, auth, timeouts and errors but not
                # the typed `create()`'s pydantic models of request and response, which cost ~0.6 ms a call
                # (benchmarks/bench_overhead.py); a request has a dozen calls.
                options: openai.RequestOptions = {"timeout": timeout}
                if max_retries is not None:
                    options["max_retries"] = max_retries
                body = await client.post("/chat/completions", body=request, cast_to=object, options=options)
                text, finish, model, usage = _read_completion(body)
            except (TimeoutError, openai.APIError, ValueError) as e:
                raise self._fail(span, choice.backend, e) from e
            except BaseException:
                span.end()
                raise
        completion = Completion(
            text=text,
            input_tokens=usage[0] if usage else _estimate_prompt(request["messages"]),
            output_tokens=usage[1] if usage else estimate_tokens(text),
            estimated=usage is None,
            model=model or request["model"],
            finish_reason=finish,
            latency=time.perf_counter() - started,
        )
        self._finish_span(span, completion)
        return completion

    def json_caller(self, choice: ModelChoice, deadline: Deadline, budget: float) -> Ask:
        """JSON calls with this model choice (and the schema each call gives), each taking min(time the
        caller has left, budget)."""

        async def ask(messages: Sequence[Message], schema: Mapping[str, Any] | None = None) -> Completion:
            timeout = deadline.timeout(budget)
            return await self.complete(messages, choice, timeout=timeout, json_mode=True, schema=schema)

        return ask

    async def stream(
        self, messages: Sequence[Message], choice: ModelChoice, *, timeout: float
    ) -> AsyncIterator[str | Completion]:
        """Yields the answer's text pieces as they arrive, then one final Completion with the totals."""
        backend, client, slots = self._client(choice.backend)
        request = self._request(backend, messages, choice)
        async with slots:
            span = self._start_span(backend, request)
            started = time.perf_counter()
            pieces: list[str] = []
            finish, model, usage = "", request["model"], None
            try:
                chunks = await client.chat.completions.create(
                    **request, stream=True, stream_options={"include_usage": True}, timeout=timeout
                )
                async for chunk in chunks:
                    model = chunk.model or model
                    usage = chunk.usage or usage
                    for c in chunk.choices:
                        finish = c.finish_reason or finish
                        if c.delta and c.delta.content:
                            pieces.append(c.delta.content)
                            yield c.delta.content
            except (TimeoutError, openai.APIError) as e:
                raise self._fail(span, choice.backend, e) from e
            except BaseException:
                span.end()
                raise
        text = "".join(pieces)
        completion = Completion(
            text=text,
            input_tokens=usage.prompt_tokens if usage else _estimate_prompt(request["messages"]),
            output_tokens=usage.completion_tokens if usage else estimate_tokens(text),
            estimated=usage is None,
            model=model,
            finish_reason=finish,
            latency=time.perf_counter() - started,
        )
        self._finish_span(span, completion)
        yield completion

    async def close(self) -> None:
        for _, client, _ in self._clients.values():
            await client.close()


def _read_completion(body: object) -> tuple[str, str, str, tuple[int, int] | None]:
    """(text, finish reason, model, (prompt, completion tokens) or None) of a chat.completion body."""
    if not isinstance(body, dict):
        raise ValueError(f"not a chat completion: {str(body)[:200]}")
    choices = body.get("choices") or [{}]
    message = choices[0].get("message") or {}
    usage = body.get("usage")
    counts = None
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        counts = (usage["prompt_tokens"], int(usage.get("completion_tokens") or 0))
    return (
        message.get("content") or "",
        choices[0].get("finish_reason") or "",
        body.get("model") or "",
        counts,
    )


def _estimate_prompt(messages: Sequence[Message]) -> int:
    # Chat templates add a few tokens of framing per message.
    return sum(estimate_tokens(m.get("content", "")) + 4 for m in messages)
