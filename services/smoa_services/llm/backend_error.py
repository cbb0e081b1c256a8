"""What a failed attempt at an LLM backend means: a fault of the backend that another attempt may get past
(5xx, 429, 408/409, timeouts, dropped connections, bodies that are not a chat completion), or a refusal of
the request itself (any other 4xx) that no retry will fix. Backend faults also count against its circuit
breaker; refusals show the backend is up."""

from __future__ import annotations

import json
import re

import httpx2
import openai

from smoa_services.rpc.failure import LLMRejected, LLMUnavailable

RETRYABLE_STATUS = frozenset({408, 409, 429})


class MalformedReply(ValueError):
    """The backend answered 200 with a body that is not a chat completion (truncated, HTML, wrong shape)."""


def retry_delay(error: BaseException) -> float | None:
    """None for a refusal; else the least delay before another attempt (the backend's Retry-After, or 0)."""
    if isinstance(error, openai.APIStatusError):
        if error.status_code in RETRYABLE_STATUS or error.status_code >= 500:
            return _retry_after(error.response)
        return None
    if isinstance(error, openai.APIError | httpx2.HTTPError | TimeoutError | MalformedReply):
        return 0.0
    if isinstance(error, json.JSONDecodeError):
        return 0.0
    return None


def is_backend_fault(error: BaseException) -> bool:
    return retry_delay(error) is not None


def failure_of(backend: str, error: BaseException) -> LLMUnavailable | LLMRejected:
    """The Failure a caller sees once the attempts are over. The detail names the error's kind and status,
    never the backend's error body (which may echo the prompt)."""
    delay = retry_delay(error)
    if delay is None and isinstance(error, openai.APIStatusError):
        return LLMRejected(backend, f"HTTP {error.status_code}")
    return LLMUnavailable(backend, describe(error), retry_after=max(delay or 0.0, 1.0))


# An OpenAI-style error's "code" and "type" are identifiers (context_length_exceeded, model_not_found):
# they say why without quoting anything. Anything else in them is not passed on.
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def refusal(error: openai.APIStatusError, capture_content: bool) -> str:
    """Why a backend refused a request, for the caller's status and the span. Its error body may quote the
    prompt (a context-window error often does), so its words are passed on only on content-capture
    opt-in; otherwise the status and the error's code and type say why."""
    if capture_content:
        return f"HTTP {error.status_code}: {error.message[:300]}"
    named = [str(v) for v in (error.code, error.type) if v and _IDENTIFIER.fullmatch(str(v))]
    return f"HTTP {error.status_code}" + (f" ({', '.join(dict.fromkeys(named))})" if named else "")


def describe(error: BaseException | None) -> str:
    if error is None:
        return "no reply"
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}"
    if isinstance(error, TimeoutError | openai.APITimeoutError):
        return "timed out"
    if isinstance(error, openai.APIConnectionError | httpx2.HTTPError):
        return "connection failed"
    if isinstance(error, MalformedReply | json.JSONDecodeError):
        return "malformed reply"
    return type(error).__name__


def _retry_after(response: httpx2.Response) -> float:
    for header, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue  # an HTTP date: rare from LLM APIs; backoff applies instead
    return 0.0
