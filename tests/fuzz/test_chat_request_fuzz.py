"""The gateway's reading of a chat-completions body, fuzzed: any JSON at all, and bodies shaped like
OpenAI's with any value in any field (OpenAI's names, smoa's, nested JSON), is either a request or a
BadField naming a field. Nothing else escapes, so no body can get a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from smoa_services.gateway import openai_fields
from smoa_services.gateway.bad_field import BadField
from smoa_services.gateway.chat_request import ChatRequest, chat_request
from tests.fuzz_budget import fuzz

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
NAMES = sorted(openai_fields.KNOWN | {"smoa", "stream", "n", "role", "content"})
MODELS = st.sampled_from(["smoa", "moa", "single", "auto", "smoa-fused"]).flatmap(
    lambda mode: st.text(max_size=24).map(lambda rest: f"{mode}:{rest}") | st.just(mode)
)
MESSAGE = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "system", "assistant", "developer"]) | JSON,
        "content": st.text() | JSON,
    }
)
BODIES = st.fixed_dictionaries(
    {"model": MODELS | JSON, "messages": st.lists(MESSAGE, max_size=3) | JSON},
    optional={name: JSON for name in NAMES if name not in {"model", "messages"}},
)


def read(body: Any) -> None:
    try:
        assert isinstance(chat_request(body), ChatRequest)
    except BadField as refused:
        assert refused.status in (400, 404) and str(refused)


@fuzz(200)
@given(JSON)
def test_any_json_is_a_request_or_a_named_refusal(body: Any) -> None:
    read(body)


@fuzz(300)
@given(BODIES)
def test_any_value_in_any_field_is_a_request_or_a_named_refusal(body: dict[str, Any]) -> None:
    read(body)
