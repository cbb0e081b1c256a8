"""ChatModel over the real openai SDK against a scripted endpoint: usage, estimation, retries, errors,
GenAI spans, bounded concurrency; each test on both of the SDK's HTTP transports (SMOA_LLM_HTTP_CLIENT)."""

import asyncio
import itertools
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from smoa_services.config import Settings
from smoa_services.config.backends import HTTP_CLIENTS
from smoa_services.llm import ChatModel, Completion, LLMRejected, LLMUnavailable, ModelChoice
from smoa_services.llm.breaker import State
from smoa_services.telemetry import Telemetry
from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(params=HTTP_CLIENTS)
def spans(request: pytest.FixtureRequest) -> Iterator[InMemorySpanExporter]:
    """Every test takes this fixture: it also chooses the transport model() builds its ChatModel on."""
    TRANSPORT.append(request.param)
    yield InMemorySpanExporter()
    TRANSPORT.pop()


TRANSPORT: list[str] = []


def model(fake: FakeOpenAI, spans: InMemorySpanExporter, **settings: object) -> ChatModel:
    telemetry = Telemetry.load("test", [SimpleSpanProcessor(spans)], environ={})
    chosen = Settings(llm_base_url=fake.base_url, llm_http_client=TRANSPORT[-1], **settings)  # type: ignore[arg-type]
    return ChatModel(chosen, telemetry)


async def test_usage_comes_from_the_api_and_the_span_follows_genai_conventions(
    spans: InMemorySpanExporter,
) -> None:
    with FakeOpenAI(lambda r: Reply(text="four words right here", prompt_tokens=7)) as fake:
        chat = model(fake, spans)
        done = await chat.complete(HI, ModelChoice(model="m1", max_tokens=9, seed=3), timeout=5)
        await chat.close()
    assert (done.text, done.input_tokens, done.output_tokens, done.estimated) == (
        "four words right here",
        7,
        4,
        False,
    )
    assert fake.requests[0]["max_tokens"] == 9 and fake.requests[0]["seed"] == 3
    (span,) = spans.get_finished_spans()
    assert span.name == "chat m1"
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == "m1"
    assert attrs["gen_ai.usage.input_tokens"] == 7
    assert attrs["gen_ai.usage.output_tokens"] == 4
    assert "gen_ai.input.messages" not in attrs  # content only on opt-in


async def test_missing_usage_is_estimated_and_flagged(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(text="x" * 40, usage=False)) as fake:
        chat = model(fake, spans)
        done = await chat.complete(HI, ModelChoice(), timeout=5)
        await chat.close()
    assert done.estimated
    assert done.output_tokens == 10


async def test_stream_yields_pieces_then_the_completion(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(text="one two three")) as fake:
        chat = model(fake, spans)
        items = [item async for item in chat.stream(HI, ModelChoice(), timeout=5)]
        await chat.close()
    pieces, final = items[:-1], items[-1]
    assert pieces == ["one", " two", " three"]
    assert isinstance(final, Completion) and final.text == "one two three" and not final.estimated


async def test_server_errors_are_retried_then_succeed(spans: InMemorySpanExporter) -> None:
    statuses: Iterator[int] = itertools.chain([503, 429], itertools.repeat(200))
    with FakeOpenAI(lambda r: Reply(text="fine", status=next(statuses))) as fake:
        chat = model(fake, spans, llm_max_retries=3)
        done = await chat.complete(HI, ModelChoice(), timeout=20)
        await chat.close()
    assert done.text == "fine"
    assert len(fake.requests) == 3


async def test_exhausted_retries_raise_unavailable(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(status=503)) as fake:
        chat = model(fake, spans, llm_max_retries=1)
        with pytest.raises(LLMUnavailable):
            await chat.complete(HI, ModelChoice(), timeout=20)
        await chat.close()
    assert len(fake.requests) == 2
    (span,) = spans.get_finished_spans()
    assert span.status.status_code.name == "ERROR"


async def test_client_errors_are_not_retried(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(status=400)) as fake:
        chat = model(fake, spans, llm_max_retries=3)
        with pytest.raises(LLMRejected):
            await chat.complete(HI, ModelChoice(), timeout=5)
        await chat.close()
    assert len(fake.requests) == 1


async def test_timeouts_are_honoured(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(delay=1.5)) as fake:
        chat = model(fake, spans, llm_max_retries=0)
        started = asyncio.get_running_loop().time()
        with pytest.raises(LLMUnavailable):
            await chat.complete(HI, ModelChoice(), timeout=0.3)
        waited = asyncio.get_running_loop().time() - started
        await chat.close()
    assert waited < 1.2


async def test_concurrency_per_backend_is_bounded(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(text="ok", delay=0.2)) as fake:
        chat = model(fake, spans, llm_concurrency=2)
        done = await asyncio.gather(*(chat.complete(HI, ModelChoice(), timeout=5) for _ in range(6)))
        await chat.close()
    assert len(done) == 6
    assert fake.peak_in_flight == 2


@pytest.mark.parametrize("refusal", [422, 500])
async def test_a_schema_falls_back_to_the_forms_a_backend_accepts(
    spans: InMemorySpanExporter, refusal: int
) -> None:
    # Like llama-cpp-python: no OpenAI json_schema, but json_object with a schema (grammar-constrained).
    # It refuses the unknown form with a 500 (some servers with a 4xx).
    def llama_cpp_like(request: dict[str, object]) -> Reply:
        form = request.get("response_format") or {}
        assert isinstance(form, dict)
        if form.get("type") == "json_schema":
            return Reply(status=refusal, error="response_format: input should be 'text' or 'json_object'")
        return Reply(text='{"ok": true}')

    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    with FakeOpenAI(llama_cpp_like) as fake:
        chat = model(fake, spans)
        first = await chat.complete(HI, ModelChoice(), timeout=5, json_mode=True, schema=schema)
        second = await chat.complete(HI, ModelChoice(), timeout=5, json_mode=True, schema=schema)
        await chat.close()
    assert first.text == second.text == '{"ok": true}'
    forms = [r["response_format"] for r in fake.requests]
    assert forms == [
        {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}},
        {"type": "json_object", "schema": schema},
        {"type": "json_object", "schema": schema},  # remembered: no second refusal
    ]


async def test_other_refusals_are_not_mistaken_for_the_format(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(status=400, error="context length exceeded")) as fake:
        chat = model(fake, spans)
        with pytest.raises(LLMRejected):
            await chat.complete(HI, ModelChoice(), timeout=5, json_mode=True, schema={"type": "object"})
        await chat.close()
    assert len(fake.requests) == 1


@pytest.mark.parametrize("capture_content", [False, True])
async def test_a_refusal_quotes_the_backends_words_only_on_content_capture(
    spans: InMemorySpanExporter, capture_content: bool
) -> None:
    echo = Reply(status=400, error="your prompt 'MARKER-7' is too long", error_code="context_length_exceeded")
    with FakeOpenAI(lambda r: echo) as fake:
        chat = model(fake, spans)
        chat.capture_content = capture_content
        with pytest.raises(LLMRejected) as refused:
            await chat.complete(HI, ModelChoice(), timeout=5)
        await chat.close()
    (span,) = spans.get_finished_spans()
    assert str(refused.value).endswith("HTTP 400 (context_length_exceeded, scripted)") != capture_content
    assert ("MARKER-7" in str(refused.value)) == capture_content
    assert ("MARKER-7" in (span.status.description or "")) == capture_content


async def test_malformed_bodies_are_retried(spans: InMemorySpanExporter) -> None:
    bodies: Iterator[Reply] = iter(
        [Reply(raw_body='{"choices": [{"message": {"content": "trunc'), Reply(raw_body="<html>oops</html>")]
    )
    with FakeOpenAI(lambda r: next(bodies, Reply(text="fine"))) as fake:
        chat = model(fake, spans, llm_max_retries=3)
        done = await chat.complete(HI, ModelChoice(), timeout=10)
        await chat.close()
    assert done.text == "fine" and done.calls == 3 and len(fake.requests) == 3


async def test_retry_after_is_honoured_within_the_budget(spans: InMemorySpanExporter) -> None:
    statuses: Iterator[int] = itertools.chain([429], itertools.repeat(200))
    with FakeOpenAI(
        lambda r: Reply(text="ok", status=next(statuses), headers={"Retry-After": "0.6"})
    ) as fake:
        chat = model(fake, spans, llm_max_retries=2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await chat.complete(HI, ModelChoice(), timeout=10)
        assert loop.time() - started >= 0.6
        await chat.close()


async def test_a_retry_after_beyond_the_budget_fails_at_once(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(status=429, headers={"Retry-After": "30"})) as fake:
        chat = model(fake, spans, llm_max_retries=3)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(LLMUnavailable) as caught:
            await chat.complete(HI, ModelChoice(), timeout=5)
        assert loop.time() - started < 1.0
        await chat.close()
    assert len(fake.requests) == 1 and (caught.value.retry_after or 0) >= 30


async def test_a_hedge_answers_for_a_hung_call_and_its_cost_is_counted(spans: InMemorySpanExporter) -> None:
    replies: Iterator[Reply] = iter([Reply(delay=30)])
    with FakeOpenAI(lambda r: next(replies, Reply(text="hedged", prompt_tokens=7))) as fake:
        chat = model(fake, spans, llm_hedge_after="0.2")
        loop = asyncio.get_running_loop()
        started = loop.time()
        done = await chat.complete(HI, ModelChoice(), timeout=10)
        took = loop.time() - started
        await chat.close()
        # The hung attempt was cancelled: the endpoint sees its client hang up.
        async with asyncio.timeout(2):
            while fake.in_flight:
                await asyncio.sleep(0.01)
    assert done.text == "hedged" and 0.2 <= took < 2.0
    # Two requests sent; the abandoned one is counted as billed for its (estimated) prompt.
    assert done.calls == 2 and done.estimated and done.input_tokens > 7


async def test_a_hung_attempt_is_abandoned_and_retried_and_frees_its_slot(
    spans: InMemorySpanExporter,
) -> None:
    hangs: Iterator[bool] = iter([True])
    with FakeOpenAI(
        lambda r: Reply(text="ok", delay=30 if "hang" in str(r) and next(hangs, False) else 0)
    ) as fake:
        chat = model(fake, spans, llm_concurrency=1, llm_max_retries=2)
        for _ in range(25):  # enough calls to know what is usual for this backend
            await chat.complete(HI, ModelChoice(), timeout=5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        hung = asyncio.ensure_future(
            chat.complete([{"role": "user", "content": "hang"}], ModelChoice(), timeout=20)
        )
        while not fake.in_flight:
            await asyncio.sleep(0.01)
        # Another request's call waits for the only slot, but not for the hung attempt's 20 s budget.
        done = await chat.complete(HI, ModelChoice(), timeout=10)
        other_waited = loop.time() - started
        retried = await hung
        took = loop.time() - started
        await chat.close()
    # The limit is max(1 s, 4 x p99): the usual latency here is milliseconds.
    assert done.text == "ok" and 0.9 <= other_waited < 3.0
    assert retried.text == "ok" and retried.calls == 2 and 0.9 <= took < 3.0


async def test_a_dead_backend_opens_the_breaker_and_calls_fail_fast(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(status=503)) as fake:
        chat = model(
            fake, spans, llm_max_retries=0, breaker_consecutive_failures=3, breaker_cooldown_seconds=0.5
        )
        changes: list[tuple[str, State]] = []
        chat.on_breaker_change(lambda backend, state: changes.append((backend, state)))
        for _ in range(3):
            with pytest.raises(LLMUnavailable):
                await chat.complete(HI, ModelChoice(), timeout=5)
        assert changes == [("", State.OPEN)] and chat.breakers() == {"": State.OPEN}
        with pytest.raises(LLMUnavailable, match="circuit breaker open") as caught:
            await chat.complete(HI, ModelChoice(), timeout=5)
        assert len(fake.requests) == 3, "an open breaker sends nothing"
        assert 0 < (caught.value.retry_after or 0) <= 0.5
        # Half open after the cooldown, without a call to notice it (readiness follows at once).
        await asyncio.sleep(0.6)
        assert changes[-1] == ("", State.HALF_OPEN)
        fake.script = lambda r: Reply(text="back")
        assert (await chat.complete(HI, ModelChoice(), timeout=5)).text == "back"
        assert changes[-1] == ("", State.CLOSED)
        await chat.close()


async def test_a_stream_is_retried_until_its_first_chunk(spans: InMemorySpanExporter) -> None:
    replies: Iterator[Reply] = iter([Reply(status=500), Reply(text="a b", break_after=0)])
    with FakeOpenAI(lambda r: next(replies, Reply(text="one two three"))) as fake:
        chat = model(fake, spans, llm_max_retries=3)
        items = [item async for item in chat.stream(HI, ModelChoice(), timeout=10)]
        await chat.close()
    assert items[:-1] == ["one", " two", " three"]
    final = items[-1]
    assert isinstance(final, Completion) and final.calls == 3


async def test_a_stream_that_breaks_after_pieces_raises(spans: InMemorySpanExporter) -> None:
    with FakeOpenAI(lambda r: Reply(text="one two three four", break_after=2)) as fake:
        chat = model(fake, spans, llm_max_retries=3)
        pieces: list[str] = []
        with pytest.raises(LLMUnavailable, match="broke after 2 pieces"):
            async for item in chat.stream(HI, ModelChoice(), timeout=10):
                assert isinstance(item, str)
                pieces.append(item)
        await chat.close()
    assert pieces == ["one", " two"] and len(fake.requests) == 1
