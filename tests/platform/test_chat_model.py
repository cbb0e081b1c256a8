"""ChatModel over the real openai SDK against a scripted endpoint: usage, estimation, retries, errors,
GenAI spans, bounded concurrency."""

import asyncio
import itertools
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from smoa_services import telemetry
from smoa_services.config import Settings
from smoa_services.llm import ChatModel, Completion, LLMRejected, LLMUnavailable, ModelChoice
from tests.fakes.openai_endpoint import FakeOpenAI, Reply

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def model(fake: FakeOpenAI, spans: InMemorySpanExporter, **settings: object) -> ChatModel:
    provider = telemetry.tracer_provider("test", [SimpleSpanProcessor(spans)], environ={})
    return ChatModel(Settings(llm_base_url=fake.base_url, **settings), telemetry.tracer(provider))  # type: ignore[arg-type]


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


async def test_a_schema_falls_back_to_the_forms_a_backend_accepts(spans: InMemorySpanExporter) -> None:
    # Like llama-cpp-python: no OpenAI json_schema, but json_object with a schema (grammar-constrained).
    def llama_cpp_like(request: dict[str, object]) -> Reply:
        form = request.get("response_format") or {}
        assert isinstance(form, dict)
        if form.get("type") == "json_schema":
            return Reply(status=422, error="response_format: input should be 'text' or 'json_object'")
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
