"""How an LLM backend's failure reaches a gRPC caller: UNAVAILABLE (with RetryInfo) when the backend is
down or overloaded after the SDK's retries, FAILED_PRECONDITION when it refused the request itself
(a 4xx: a wrong model name, a prompt over the context window), which retrying cannot fix."""

from __future__ import annotations

import grpc

from smoa_services.llm import LLMRejected, LLMUnavailable
from smoa_services.status import failed_precondition, unavailable


def llm_failure_status(error: LLMUnavailable | LLMRejected) -> grpc.Status:
    backend = error.backend or "default"
    if isinstance(error, LLMRejected):
        return failed_precondition("LLM_REJECTED", str(error), backend=backend)
    return unavailable("LLM_UNAVAILABLE", str(error), backend=backend)
