"""One real stack for the whole client suite (starting one costs more than most tests): the four services
in a thread, every LLM call answered by one FakeOpenAI whose script a test may swap (reset after it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smoa import SmoaClient
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.stack_thread import stack_in_thread
from tests.client.script import scripted


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(scripted) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def target(fake: FakeOpenAI) -> Iterator[str]:
    with stack_in_thread(fake.base_url) as orchestrator:
        yield orchestrator


@pytest.fixture(autouse=True)
def fresh_script(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "fake" in request.fixturenames:
        request.getfixturevalue("fake").script = scripted


@pytest.fixture
def client(target: str) -> Iterator[SmoaClient]:
    with SmoaClient(target, timeout=10) as c:
        yield c
