"""Chat completions against OpenAI-compatible backends. Every call has one budget (its timeout) that covers
everything it does: waiting for a concurrency slot, each attempt, the backoff between them, and a hedge.
An attempt that takes far longer than is usual for its backend (a hang) is abandoned and retried, so one
hung request costs a few seconds, not the budget. A backend whose circuit breaker is open fails the call
at once. Usage is accounted (estimated where a
backend reports none, and for attempts abandoned after they were sent), and each call is one span in the
GenAI conventions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import openai

from smoa_services.access.caller import END_CALLER
from smoa_services.config import Backend, Settings
from smoa_services.llm.backend_error import (
    MalformedReply,
    describe,
    failure_of,
    is_backend_fault,
    refusal,
    retry_delay,
)
from smoa_services.llm.breaker import State
from smoa_services.llm.completion import (
    Completion,
    Message,
    Reply,
    SentAttempts,
    read_chunk,
    read_completion,
)
from smoa_services.llm.endpoint import BreakerListener, Endpoint
from smoa_services.llm.observed_call import ObservedCall
from smoa_services.rpc.failure import Failure, LLMRejected, LLMUnavailable
from smoa_services.telemetry import Telemetry
from smoa_services.timing.attempts import AttemptPolicy, Outcome, OutOfBudget, first_success
from smoa_services.timing.deadline import Deadline
from smoa_services.timing.latency import hedge_delay

T = TypeVar("T")

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
    # The answer ends before the first of these (only for calls that write the answer).
    stop: tuple[str, ...] = ()


class Ask(Protocol):
    """One JSON call with the caller's model choice and deadline already bound."""

    async def __call__(
        self, messages: Sequence[Message], schema: Mapping[str, Any] | None = None, /
    ) -> Completion: ...


class BreakerOpen(Exception):
    def __init__(self, wait: float):
        super().__init__(f"circuit breaker open for {wait:.1f}s more")
        self.wait = wait


class ChatModel:
    def __init__(self, settings: Settings, telemetry: Telemetry):
        self.settings = settings
        self.telemetry = telemetry
        self.capture_content = telemetry.capture_content
        self._endpoints: dict[str, Endpoint] = {}
        self._listeners: list[BreakerListener] = [
            lambda backend, state: telemetry.instruments.breaker_changed(backend, state.value)
        ]
        # Per backend, the index in SCHEMA_FORMS of the response_format it accepted.
        self._schema_form: dict[str, int] = {}

    def on_breaker_change(self, listener: BreakerListener) -> None:
        self._listeners.append(listener)

    def breakers(self) -> dict[str, State]:
        """The breaker state of every backend called so far, by name ("" is the default backend)."""
        return {name: endpoint.breaker.state for name, endpoint in self._endpoints.items()}

    def _endpoint(self, name: str) -> Endpoint:
        if name not in self._endpoints:
            self._endpoints[name] = Endpoint(
                name, self.settings.backend(name), self.settings, self._listeners
            )
        return self._endpoints[name]

    def _request(self, backend: Backend, messages: Sequence[Message], choice: ModelChoice) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": choice.model or backend.model,
            "messages": [dict(m) for m in messages],
            "temperature": self.settings.temperature if choice.temperature is None else choice.temperature,
            "max_tokens": self.settings.max_tokens if choice.max_tokens is None else choice.max_tokens,
        }
        if choice.seed is not None:
            request["seed"] = choice.seed
        if choice.stop:
            request["stop"] = list(choice.stop)
        return request

    def _policy(self, endpoint: Endpoint, max_attempts: int | None) -> AttemptPolicy:
        attempts = self.settings.llm_max_retries + 1 if max_attempts is None else max_attempts
        return AttemptPolicy(
            max_attempts=attempts, hedge_after=hedge_delay(self.settings.llm_hedge_after, endpoint.latency)
        )

    async def _first_success(
        self,
        call: ObservedCall,
        backend: str,
        attempt: Callable[[int], Awaitable[T]],
        policy: AttemptPolicy,
        until: float,
        sent: SentAttempts,
    ) -> Outcome[T]:
        """The call's attempts (attempts.py); their failure becomes the caller's Failure, on the span too."""
        try:
            return await first_success(attempt, policy, until, retry_delay)
        except asyncio.CancelledError:
            call.cancelled()
            raise
        except Exception as e:
            raise call.failed(_failure(backend, e, self.capture_content), sent.count) from e

    async def complete(
        self,
        messages: Sequence[Message],
        choice: ModelChoice,
        *,
        timeout: float,
        json_mode: bool = False,
        schema: Mapping[str, Any] | None = None,
    ) -> Completion:
        """One chat completion within `timeout` seconds. ``json_mode`` asks for a JSON object; a ``schema``
        also asks the backend to constrain the reply to it (grammar-constrained decoding where the server
        has it), in the first of SCHEMA_FORMS the backend accepts, remembered per backend."""
        until = asyncio.get_running_loop().time() + timeout
        if schema is None:
            return await self._complete(
                messages, choice, until, {"type": "json_object"} if json_mode else None
            )
        known = self._schema_form.get(choice.backend)
        for index in range(known or 0, len(SCHEMA_FORMS)):
            try:
                # A form not yet known to work is tried once, without retries: servers refuse an unknown
                # response_format with a 4xx, or (llama-cpp-python) a 500.
                attempts = None if index == known else 1
                completion = await self._complete(
                    messages, choice, until, SCHEMA_FORMS[index](schema), attempts
                )
            except (LLMRejected, LLMUnavailable) as e:
                # Only a refusal of the format itself moves on to the next form; others are real errors.
                if index == len(SCHEMA_FORMS) - 1 or not _refuses_the_format(e):
                    raise
                continue
            self._schema_form[choice.backend] = index
            return completion
        raise AssertionError("the last form re-raises")

    async def _complete(
        self,
        messages: Sequence[Message],
        choice: ModelChoice,
        until: float,
        response_format: object,
        max_attempts: int | None = None,
    ) -> Completion:
        endpoint = self._endpoint(choice.backend)
        request = self._request(endpoint.backend, messages, choice)
        if response_format is not None:
            request["response_format"] = response_format
        loop = asyncio.get_running_loop()
        call_started = loop.time()
        sent = SentAttempts()
        policy = self._policy(endpoint, max_attempts)

        async def attempt(index: int) -> Reply:
            _admit(endpoint, loop.time())
            async with endpoint.slots.slot(END_CALLER.get()):
                sent.count += 1
                started = loop.time()
                ends, judged = endpoint.attempt_end(
                    index, index + 1 >= policy.max_attempts, started, until, request["max_tokens"]
                )
                try:
                    async with asyncio.timeout_at(ends):
                        # The SDK's documented low-level `post` keeps its auth, timeouts and errors but not
                        # the typed `create()`'s pydantic models of request and response, which cost ~0.6 ms
                        # a call (benchmarks/bench_overhead.py); a request has a dozen calls.
                        options: openai.RequestOptions = {"timeout": max(0.001, ends - started)}
                        body = await endpoint.client.post(
                            "/chat/completions", body=request, cast_to=object, options=options
                        )
                    reply = read_completion(body)
                except Exception as e:
                    sent.unbilled(e)
                    _record(endpoint, e, loop.time(), judged)
                    raise
            endpoint.observe(loop.time() - started, reply)
            endpoint.breaker.succeeded(loop.time(), END_CALLER.get())
            return reply

        call = ObservedCall(self.telemetry, endpoint.backend, request)
        reply = (await self._first_success(call, choice.backend, attempt, policy, until, sent)).value
        completion = sent.completion(request, reply, loop.time() - call_started)
        call.succeeded(completion)
        return completion

    def json_caller(self, choice: ModelChoice, deadline: Deadline, budget: float) -> Ask:
        """JSON calls with this model choice (and the schema each call gives), each taking min(time the
        caller has left, budget), minus the margin the caller needs to answer when the call fails."""

        async def ask(messages: Sequence[Message], schema: Mapping[str, Any] | None = None) -> Completion:
            timeout = deadline.timeout(budget)
            return await self.complete(messages, choice, timeout=timeout, json_mode=True, schema=schema)

        return ask

    async def stream(
        self, messages: Sequence[Message], choice: ModelChoice, *, timeout: float
    ) -> AsyncIterator[str | Completion]:
        """Yields the answer's text pieces as they arrive, then one final Completion with the totals.

        Attempts are retried (and hedged) until one has sent its first chunk; after a piece was yielded, a
        failure raises LLMUnavailable: pieces already given cannot be taken back."""
        endpoint = self._endpoint(choice.backend)
        request = self._request(endpoint.backend, messages, choice)
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        call_started = loop.time()
        sent = SentAttempts()
        policy = self._policy(endpoint, None)

        async def attempt(index: int) -> _OpenStream:
            _admit(endpoint, loop.time())
            opened = AsyncExitStack()
            try:
                await opened.enter_async_context(endpoint.slots.slot(END_CALLER.get()))
                sent.count += 1
                began = loop.time()
                # A stream is judged by its first chunk: its length is the caller's, not the backend's.
                ends, judged = endpoint.attempt_end(index, index + 1 >= policy.max_attempts, began, until, 1)
                async with asyncio.timeout_at(ends):
                    # The low-level `post`, as in `complete`: chunks as JSON, not typed models.
                    options: openai.RequestOptions = {"timeout": max(0.001, until - loop.time())}
                    chunks = await endpoint.client.post(
                        "/chat/completions",
                        body={**request, "stream": True, "stream_options": {"include_usage": True}},
                        cast_to=object,
                        options=options,
                        stream=True,
                        stream_cls=openai.AsyncStream[object],
                    )
                    opened.push_async_callback(chunks.close)
                    iterator = chunks.__aiter__()
                    try:
                        first = await anext(iterator)
                    except StopAsyncIteration:
                        raise MalformedReply("the stream ended before its first chunk") from None
            except BaseException as e:
                await opened.aclose()
                if isinstance(e, Exception):
                    sent.unbilled(e)
                    _record(endpoint, e, loop.time(), judged)
                raise
            return _OpenStream(opened, first, iterator, began)

        call = ObservedCall(self.telemetry, endpoint.backend, request)
        outcome = await self._first_success(call, choice.backend, attempt, policy, until, sent)
        pieces: list[str] = []
        finish, model, usage = "", request["model"], None
        async with outcome.value.opened:
            try:
                async for raw in outcome.value.chunks(until):
                    chunk = read_chunk(raw)
                    model, usage, finish = chunk.model or model, chunk.usage or usage, chunk.finish or finish
                    for piece in chunk.pieces:
                        pieces.append(piece)
                        yield piece
            except Exception as e:
                # Running out of the call's time mid-answer is the caller's budget, not a fault of the
                # backend, which was answering.
                _record(endpoint, e, loop.time(), judged=False)
                detail = f"the stream broke after {len(pieces)} pieces ({describe(e)})"
                raise call.failed(LLMUnavailable(choice.backend, detail), sent.count) from e
            except BaseException:
                call.cancelled()
                raise
        # The winning attempt's time, not the call's: retries and backoff are not what is usual for it.
        endpoint.latency.observe(loop.time() - outcome.value.began)
        endpoint.breaker.succeeded(loop.time(), END_CALLER.get())
        reply = Reply("".join(pieces), finish, model, usage)
        completion = sent.completion(request, reply, loop.time() - call_started)
        call.succeeded(completion)
        yield completion

    async def close(self) -> None:
        for endpoint in self._endpoints.values():
            await endpoint.client.close()


@dataclass
class _OpenStream:
    """A streamed attempt that answered: what it holds open (its slot, the HTTP stream), its first chunk,
    and the rest."""

    opened: AsyncExitStack
    first: Any
    rest: AsyncIterator[Any]
    # When the attempt began (loop time).
    began: float

    async def chunks(self, until: float) -> AsyncIterator[Any]:
        yield self.first
        while True:
            try:
                async with asyncio.timeout_at(until):
                    chunk = await anext(self.rest)
            except StopAsyncIteration:
                return
            yield chunk


def _refuses_the_format(failure: Failure) -> bool:
    """Whether the backend's own words (the body of its error, which the failure's message leaves out for
    5xx) name the response format."""
    cause = failure.__cause__
    words = cause.message if isinstance(cause, openai.APIStatusError) else str(failure)
    return any(w in words for w in ("response_format", "schema"))


def _admit(endpoint: Endpoint, now: float) -> None:
    wait = endpoint.breaker.wait(now)
    if wait is not None:
        raise BreakerOpen(wait)


def _record(endpoint: Endpoint, error: BaseException, now: float, judged: bool) -> None:
    """A failed attempt's verdict on the backend: its faults count against the breaker; a refusal shows it
    is up; an open breaker, a cancelled attempt, or a timeout that was only the caller's budget running
    out (`judged` False: the attempt was cut before the backend's own record says it was late) says
    nothing."""
    if isinstance(error, BreakerOpen):
        return
    caller = END_CALLER.get()
    if isinstance(error, TimeoutError | openai.APITimeoutError) and not judged:
        return
    if is_backend_fault(error):
        endpoint.breaker.failed(now, caller)
    else:
        endpoint.breaker.succeeded(now, caller)


def _failure(backend: str, error: Exception, capture_content: bool) -> Failure:
    if isinstance(error, BreakerOpen):
        return LLMUnavailable(backend, str(error), retry_after=error.wait)
    if isinstance(error, OutOfBudget):
        detail = (
            f"no answer within the call's budget after {error.attempts} attempt(s) ({describe(error.last)})"
        )
        return LLMUnavailable(backend, detail, out_of_time=True)
    if isinstance(error, openai.APIStatusError) and retry_delay(error) is None:
        return LLMRejected(backend, refusal(error, capture_content))
    return failure_of(backend, error)
