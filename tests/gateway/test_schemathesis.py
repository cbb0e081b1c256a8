"""schemathesis, generating requests from the gateway's own OpenAPI schema (valid bodies and bodies that
break it), against the gateway on a real socket in front of a real stack: no input gets a 5xx.

The schema's operations are drawn as Hypothesis strategies in a plain test: schemathesis's pytest plugin
does not load under this pytest."""

from __future__ import annotations

import schemathesis

# Imported now, not lazily by from_url() while the stack's and gateway's threads run: pytest rewrites the
# module's asserts with ast.parse, and CPython 3.11's parser state is not safe against a parse in another
# thread ("SystemError: AST constructor recursion depth mismatch", seen once in CI).
import schemathesis.specs.openapi.schemas
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway_in_thread
from smoa_testing.stacks.stack_thread import stack_in_thread
from tests.fuzz_budget import fuzz_wire


def test_no_input_gets_a_server_error() -> None:
    with (
        FakeOpenAI(instant_reply) as llm,
        stack_in_thread(llm.base_url) as target,
        gateway_in_thread(int(target.rsplit(":", 1)[1])) as url,
    ):
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        assert {o.path for o in operations} >= {"/v1/chat/completions", "/v1/models", "/readyz"}
        for operation in operations:
            modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

            @given(case=st.one_of(*(operation.as_strategy(generation_mode=m) for m in modes)))
            @fuzz_wire(60 if operation.method.upper() == "POST" else 5)
            def answers_without_a_server_error(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
                response = case.call(timeout=60)
                assert response.status_code < 500, (case.path, response.status_code, response.text[:300])

            answers_without_a_server_error()
