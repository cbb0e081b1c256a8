"""Arguments the SDK refuses itself, as ValueError naming the argument, before any call: when the
GenerateOptions is made, when a call's keyword arguments override it, and for the question itself."""

from __future__ import annotations

from typing import Any

import pytest

from smoa import Aggregation, GenerateOptions, Message, ModelSettings, SmoaClient
from smoa.request import generate_request
from smoa.v1 import common_pb2, orchestrator_pb2

BAD = [
    ({"n": 0}, "n: must be >= 1, got 0"),
    ({"k": 0}, "k: must be >= 1, got 0"),
    ({"n": 2, "k": 3}, "k: must be <= n (2), got 3"),
    ({"max_layers": -1}, "max_layers: must be >= 1"),
    ({"token_budget": 0}, "token_budget: must be >= 1"),
    ({"seed": 0}, "seed: must be >= 1"),  # 0 is "unset" on the wire
    ({"seed": 2**64}, "seed: must be < 2**64"),
    ({"mode": "sparse"}, "mode: must be one of smoa, moa, single, auto, got 'sparse'"),
    ({"roles": ["a"], "task_description": "b"}, "roles: give roles or task_description, not both"),
    ({"roles": []}, "roles: must be a non-empty sequence"),
    ({"roles": "one role"}, "roles: must be a non-empty sequence"),
    ({"task_description": " "}, "task_description: must not be empty"),
    ({"model": ModelSettings(temperature=3.0)}, "model.temperature: must be in [0, 2]"),
    ({"agents": {0: ModelSettings(max_tokens=0)}}, "agents[0].max_tokens: must be >= 1"),
    ({"quorum": 3, "n": 2}, "quorum: must be <= n (2), got 3"),
    (
        {"aggregation": "median"},
        "aggregation: must be one of mean, zmean, borda, rrf, copeland, bradley_terry",
    ),
    ({"selection": "best"}, "selection: must be one of top_k, mmr, got 'best'"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD)
def test_bad_options_name_themselves(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        GenerateOptions(**arguments)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(("arguments", "message"), BAD)
def test_bad_keyword_arguments_name_themselves_when_called(arguments: dict[str, Any], message: str) -> None:
    with SmoaClient("127.0.0.1:1") as client, pytest.raises(ValueError) as caught:
        client.stream("What is 6 times 7?", GenerateOptions(), **arguments)
    assert str(caught.value).startswith(message)


def test_keyword_arguments_override_the_options_given() -> None:
    options = GenerateOptions(n=4, k=2, aggregation="rrf")
    with SmoaClient("127.0.0.1:1") as client, pytest.raises(ValueError, match=r"^k: must be <= n \(1\)"):
        client.stream("q", options, n=1)
    # Made in one form whatever was given, and a copy: changing the caller's list changes nothing.
    roles = ["historian"]
    made = GenerateOptions(mode="moa", roles=roles, aggregation="borda")
    roles.append("")
    assert (made.mode, made.roles, made.aggregation) == ("moa", ("historian",), Aggregation.BORDA)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("  ", "question_or_messages: the question must not be empty"),
        ([], "question_or_messages: must hold at least one message"),
        ([Message("user", "hi"), Message("assistant", "hello")], "question_or_messages[1].role: the last"),
        ([{"role": "robot", "content": "hi"}], "question_or_messages[0].role: must be one of system"),
        ([{"role": "user", "content": ""}], "question_or_messages[0].content: must be a non-empty"),
    ],
)
def test_bad_questions(question: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        generate_request(question, GenerateOptions())
    assert str(caught.value).startswith(message)


def test_wrong_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"^n: must be an int, got str"):
        GenerateOptions(n="4")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^k: must be an int, got bool"):
        GenerateOptions(k=True)


def test_timeouts_and_connection_settings_are_checked() -> None:
    for timeout in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"^timeout: must be a number of seconds > 0"):
            SmoaClient("127.0.0.1:1", timeout=timeout)
    with SmoaClient("127.0.0.1:1") as client:
        with pytest.raises(ValueError, match=r"^timeout: "):
            client.generate("q", timeout=0)
        with pytest.raises(ValueError, match=r"^n: "):
            client.stream("q", n=0)  # checked when called, not when iterated
    with pytest.raises(ValueError, match=r"^token: "):
        SmoaClient(token=" ")
    with pytest.raises(ValueError, match=r"^keepalive_seconds: "):
        SmoaClient(keepalive_seconds=1)


def test_every_argument_reaches_the_wire() -> None:
    options = GenerateOptions(
        mode="moa",
        n=3,
        k=2,
        max_layers=2,
        roles=["historian", "chemist"],
        model=ModelSettings(model="m", temperature=0.0, max_tokens=64, seed=-5, backend="big"),
        agents={1: "small-model"},
        fused=True,
        token_budget=5000,
        seed=2**64 - 1,
    )
    conversation: list[Message | dict[str, str]] = [
        {"role": "system", "content": "Be brief."},
        Message("user", "What is 6 times 7?"),
    ]
    request = generate_request(conversation, options)
    assert [(m.role, m.content) for m in request.messages] == [
        (common_pb2.CHAT_ROLE_SYSTEM, "Be brief."),
        (common_pb2.CHAT_ROLE_USER, "What is 6 times 7?"),
    ]
    assert (request.mode, request.n, request.k, request.max_layers) == (orchestrator_pb2.MODE_MOA, 3, 2, 2)
    assert list(request.roles.roles) == ["historian", "chemist"]
    assert (request.model.model, request.model.backend, request.model.seed) == ("m", "big", -5)
    assert request.model.HasField("temperature") and request.model.temperature == 0.0
    assert [(a.index, a.model.model) for a in request.agents] == [(1, "small-model")]
    assert (request.fused_judge_moderator, request.token_budget, request.seed) == (True, 5000, 2**64 - 1)
    # Unset means the service's default: 0 on the wire, and no temperature at all.
    plain = generate_request("q", GenerateOptions(task_description="maths"))
    assert (plain.n, plain.k, plain.max_layers, plain.seed) == (0, 0, 0, 0)
    assert plain.WhichOneof("role_source") == "task_description" and not plain.HasField("model")
