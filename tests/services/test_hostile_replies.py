"""An LLM is untrusted input. Replies nested 20,000 levels deep, numbers of thousands of digits, scores
too large for a float and lone surrogates (which no protobuf string may hold) from every agent of a real
stack: the request still answers, degraded where a reply was unusable, never UNKNOWN or INTERNAL."""

from __future__ import annotations

from smoa.v1 import orchestrator_pb2
from smoa_services.config import Settings
from smoa_testing.fake_llm.callers import by_caller
from smoa_testing.fake_llm.chat_script import Reply, Script, system_prompt
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.orchestrator_stack import EVERY_CALL, collect, orchestrator_stack, question

SURROGATE = "\ud83d"


def hostile(judge_reply: str) -> Script:
    return by_caller(
        judge=judge_reply,
        moderator='{"decision": "continue", "reason": "because ' + SURROGATE + '"}',
        aggregator=f"The final {SURROGATE} answer",
        proposer=lambda request: Reply(f"A proposal {SURROGATE} from {hash(system_prompt(request)) % 1000}"),
    )


async def test_hostile_replies_degrade_and_never_fail_the_request() -> None:
    for judge_reply in (
        '{"scores": ' + "[" * 20_000 + "]" * 20_000 + "}",
        '{"scores": {"1": ' + "9" * 5000 + "}}",
        '{"scores": {"1": 1' + "0" * 400 + ', "2": 1' + "0" * 400 + "}}",
    ):
        with FakeOpenAI(hostile(judge_reply)) as fake:
            async with orchestrator_stack(fake.base_url, **EVERY_CALL) as stack:
                request = orchestrator_pb2.GenerateRequest(
                    messages=question(), n=2, k=1, max_layers=2, fused_judge_moderator=False
                )
                reply = await stack.stub.Generate(request, timeout=20)
                events = await collect(stack, request, timeout=20)
        assert reply.text == "The final ? answer"
        assert all(
            SURROGATE not in c.text and "?" in c.text for layer in reply.layers for c in layer.candidates
        )
        assert reply.degraded and {d.stage for d in reply.degradations} == {"judge"}
        assert all(layer.judge_fallback for layer in reply.layers)
        assert "?" in reply.layers[0].reason
        assert events[-1].summary.text == reply.text


async def test_answers_too_long_for_the_next_prompt_are_clipped_not_refused() -> None:
    """Proposers that answer 200,000 characters of unclosed \\boxed{: three of them would make the next
    layer's and the judge's prompts longer than any peer accepts. They are clipped to fit instead, so the
    request still answers rather than failing INVALID_ARGUMENT for what a model wrote."""
    endless = "\\boxed{" * 28_572

    script = by_caller(
        moderator='{"decision": "continue", "reason": "go on"}',
        aggregator="The final answer",
        judge="{}",
        proposer=endless,
    )

    with FakeOpenAI(script) as fake:
        async with orchestrator_stack(fake.base_url, **EVERY_CALL) as stack:
            request = orchestrator_pb2.GenerateRequest(
                messages=question(), n=3, k=2, max_layers=2, fused_judge_moderator=False
            )
            reply = await stack.stub.Generate(request, timeout=30)
        sizes = [sum(len(m["content"]) for m in r["messages"]) for r in fake.requests]
    assert len(reply.layers) == 2 and reply.text
    assert all(len(c.text) == len(endless) for layer in reply.layers for c in layer.candidates)
    assert max(sizes) <= Settings().max_prompt_chars
