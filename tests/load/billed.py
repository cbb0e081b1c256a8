"""What a load run's requests must have been billed for, from the fake LLM's own log: its prompt tokens
for every call it was sent, the calls a request makes answered at 11 tokens each, and any call beyond them
(an attempt abandoned past the hang cut-off on a busy machine, and retried) at the estimate a real
provider's bill is taken from. No retry: the sum is exact."""

from __future__ import annotations

from smoa_services.llm.completion import estimate_prompt
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI

PROMPT_TOKENS = 11  # the fake's usage for every answer (chat_script.Reply)


def billed_range(fake: FakeOpenAI, requests: int, calls_per_request: int) -> tuple[int, int]:
    """The least and most input tokens `requests` requests can have been billed: every call they made,
    and the fake's calls beyond those, each at its estimate or an answer's (an abandoned attempt is
    estimated, the retry that answered is not)."""
    expected = PROMPT_TOKENS * calls_per_request * requests
    calls = fake.calls()
    extra = len(calls) - calls_per_request * requests
    assert extra >= 0, f"the fake saw {len(calls)} calls, fewer than {calls_per_request} per request"
    largest = max((estimate_prompt(c["messages"]) for c in calls), default=0)
    return expected, expected + extra * max(largest, PROMPT_TOKENS)
