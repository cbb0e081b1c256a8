"""What `smoa load --http` sends and how it reads the answers, without a network: the body, the gateway's
URL, SSE framing, a stream's first token, usage and degradations, and every error as the gRPC status
name the report already uses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from smoa.load.calls import Outcome
from smoa.load.gateway_wire import (
    EventData,
    StreamedCompletion,
    chat_body,
    completion_outcome,
    error_outcome,
    gateway_url,
)
from smoa.load.shape import LoadRequest
from smoa.options import GenerateOptions


def chunk(delta: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}], **extra})


def test_the_url_is_taken_with_or_without_v1() -> None:
    for given in ("http://127.0.0.1:8000", "http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1/"):
        assert gateway_url(given) == "http://127.0.0.1:8000"
    assert gateway_url("https://gw.example/smoa/v1") == "https://gw.example/smoa"
    for bad in ("127.0.0.1:8000", "ftp://host", "http://"):
        with pytest.raises(ValueError, match="not an http"):
            gateway_url(bad)


def test_the_body_carries_mode_and_only_the_parameters_given() -> None:
    options = GenerateOptions(mode="moa", n=3, max_layers=2)
    assert chat_body(LoadRequest("Why?", options), stream=False) == {
        "model": "moa",
        "messages": [{"role": "user", "content": "Why?"}],
        "smoa": {"n": 3, "max_layers": 2},
    }
    # Every other option as the GenerateRequest field the gateway parses it into.
    ranked = chat_body(LoadRequest("Why?", GenerateOptions(aggregation="rrf")), stream=False)
    assert ranked["smoa"] == {"aggregation": "AGGREGATION_METHOD_RRF"}
    streamed = chat_body(LoadRequest("Why?"), stream=True)
    assert "smoa" not in streamed  # the service's defaults, as over gRPC
    assert (streamed["stream"], streamed["stream_options"]) == (True, {"include_usage": True})


def test_a_completion_gives_the_pipelines_usage_and_degraded_stages() -> None:
    degradations = [{"stage": "proposer", "layer": 2}, {"stage": "judge"}, {"stage": "proposer"}]
    body = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "42"}}],
        "usage": {"prompt_tokens": 110, "completion_tokens": 37, "total_tokens": 147},
        "smoa": {"degradations": degradations},
    }
    assert completion_outcome(json.dumps(body)) == Outcome("OK", "", None, 110, 37, ("judge", "proposer"))
    assert completion_outcome("<html>bad gateway</html>").status == "INTERNAL"
    assert completion_outcome('{"error": "no choices"}').status == "INTERNAL"


@pytest.mark.parametrize(
    ("http", "status"),
    [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (429, "RESOURCE_EXHAUSTED"),
        (499, "CANCELLED"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
        (404, "HTTP_404"),
        (500, "INTERNAL"),
        (413, "RESOURCE_EXHAUSTED"),
    ],
)
def test_http_errors_are_named_as_grpc_statuses(http: int, status: str) -> None:
    body = {"error": {"message": "k: must be in [1, n=2]", "type": "x", "param": "k", "code": None}}
    assert error_outcome(http, json.dumps(body)) == Outcome(status, "k: must be in [1, n=2]")


def test_an_error_that_is_not_openais_keeps_its_text() -> None:
    assert error_outcome(502, "<html>" + "x" * 500) == Outcome("HTTP_502", ("<html>" + "x" * 500)[:200])


def test_sse_framing_skips_comments_and_joins_data_lines() -> None:
    events = EventData()
    lines = [": progress STAGE_PROPOSALS_DONE layer 1", "", "data: {", "data:}", "", "event: x", ""]
    assert [events.feed(line) for line in lines] == [None, None, None, None, "{\n}", None, None]
    assert events.feed("data: [DONE]") is None
    assert events.feed("") == "[DONE]"


def test_a_stream_is_timed_to_its_first_token_and_costed_by_its_usage_chunk() -> None:
    stream = StreamedCompletion()
    usage = {"prompt_tokens": 60, "completion_tokens": 20, "total_tokens": 80}
    events = [
        (chunk({"role": "assistant", "content": ""}), 1.0),  # the role, no token yet
        (chunk({"content": "The"}), 2.0),
        (chunk({"content": " answer"}), 3.0),
        (chunk({}, smoa={"degradations": [{"stage": "moderator"}]}), 4.0),
        (json.dumps({"choices": [], "usage": usage}), 5.0),
    ]
    assert [stream.read(data, at) for data, at in events] == [None] * 5
    assert stream.read("[DONE]", 6.0) == Outcome("OK", "", 2.0, 60, 20, ("moderator",))


def test_an_error_event_fails_the_stream_after_its_tokens() -> None:
    stream = StreamedCompletion()
    stream.read(chunk({"content": "The"}), 2.0)
    error = {"error": {"message": "quorum not met", "type": "service_unavailable", "param": None}}
    assert stream.read(json.dumps(error), 3.0) == Outcome("UNAVAILABLE", "quorum not met", 2.0)
    unknown = {"error": {"message": "?", "type": "api_error"}}
    assert StreamedCompletion().read(json.dumps(unknown), 1.0) == Outcome("UNKNOWN", "?")


def test_a_stream_cut_short_or_garbled_fails() -> None:
    stream = StreamedCompletion()
    stream.read(chunk({"content": "The"}), 2.0)
    assert stream.cut_short() == Outcome("UNAVAILABLE", "the stream ended before data: [DONE]", 2.0)
    assert stream.read("{truncated", 3.0) == Outcome(
        "INTERNAL", "not a chat.completion.chunk: {truncated", 2.0
    )
