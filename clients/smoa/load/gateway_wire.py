"""The gateway's wire for a load request, as pure functions: the chat-completions body a LoadRequest is
sent as, and the Outcome read back from a completion, an error reply or a stream of server-sent events.
Nothing here touches the network (gateway_calls.py does), so all of it is tested without a socket.

Failures are named as the gRPC path names them (the status code's name), so one report reads the same
whichever way the load went in: the gateway's HTTP codes and error types map back one to one."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from google.protobuf import json_format

from smoa.load.calls import Outcome
from smoa.load.sample import OK
from smoa.load.shape import LoadRequest
from smoa.request import options_message
from smoa.result import Mode

COMPLETIONS_PATH = "/v1/chat/completions"
# The gateway's HTTP codes (smoa_services/gateway/http_errors.py) back to the gRPC status they stand for.
# 404 is left out: from a load generator it far more likely means a wrong URL than NOT_FOUND.
STATUS_OF_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    # Both are RESOURCE_EXHAUSTED over gRPC: a full service (429), a request over a size limit (413).
    413: "RESOURCE_EXHAUSTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# An error inside a stream comes after the 200 was sent, so only its OpenAI error type tells what it was.
STATUS_OF_ERROR_TYPE = {
    "invalid_request_error": "INVALID_ARGUMENT",
    "authentication_error": "UNAUTHENTICATED",
    "permission_error": "PERMISSION_DENIED",
    "not_found_error": "NOT_FOUND",
    "rate_limit_error": "RESOURCE_EXHAUSTED",
    "cancelled": "CANCELLED",
    "service_unavailable": "UNAVAILABLE",
    "timeout": "DEADLINE_EXCEEDED",
    "server_error": "INTERNAL",
}
# Where the type is not enough: too large a request is an invalid request to OpenAI, RESOURCE_EXHAUSTED
# to gRPC.
STATUS_OF_ERROR_CODE = {"request_too_large": "RESOURCE_EXHAUSTED"}
# A reply that is not what the gateway sends (a proxy's page, truncated JSON): the server broke its contract.
MALFORMED = "INTERNAL"
DETAIL_CHARACTERS = 200


def gateway_url(text: str) -> str:
    """The gateway's base URL, given with or without a trailing /v1 (as OpenAI clients take it)."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {text!r} (try http://127.0.0.1:8000)")
    path = parts.path.rstrip("/").removesuffix("/v1").rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def chat_body(request: LoadRequest, stream: bool) -> dict[str, Any]:
    # The SDK's mode values (smoa, moa, single, auto) are the gateway's model names. Every other option
    # goes in the `smoa` extension object as the GenerateRequest fields gRPC would carry (the gateway
    # parses it as one), those left unset left out so the service's defaults apply as over gRPC.
    body: dict[str, Any] = {
        "model": Mode(request.options.mode).value,
        "messages": [{"role": "user", "content": request.question}],
    }
    chosen = json_format.MessageToDict(options_message(request.options), preserving_proto_field_name=True)
    chosen.pop("mode", None)
    if chosen:
        body["smoa"] = chosen
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return body


def _degraded_stages(extension: Any) -> tuple[str, ...]:
    found = extension.get("degradations") if isinstance(extension, dict) else None
    if not isinstance(found, list):
        return ()
    return tuple(sorted({str(d.get("stage", "")) for d in found if isinstance(d, dict)}))


def _count(usage: dict[str, Any], name: str) -> int:
    value = usage.get(name)
    return value if isinstance(value, int) else 0


def _tokens(usage: Any) -> tuple[int, int]:
    """(prompt, completion) tokens: the whole pipeline's, as the gateway sums them."""
    if not isinstance(usage, dict):
        return 0, 0
    return _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _clipped(text: str) -> str:
    return text[:DETAIL_CHARACTERS]


def completion_outcome(text: str) -> Outcome:
    """A 200 reply to a non-streaming request."""
    body = _json_object(text)
    if body is None or not isinstance(body.get("choices"), list):
        return Outcome(MALFORMED, f"not a chat completion: {_clipped(text)}")
    inputs, outputs = _tokens(body.get("usage"))
    return Outcome(OK, "", None, inputs, outputs, _degraded_stages(body.get("smoa")))


def _error(body: dict[str, Any] | None) -> dict[str, Any] | None:
    error = body.get("error") if body is not None else None
    return error if isinstance(error, dict) else None


def error_outcome(http_status: int, text: str) -> Outcome:
    """A reply that is not a 200: OpenAI's error JSON, or whatever an intermediary sent instead."""
    status = STATUS_OF_HTTP.get(http_status, f"HTTP_{http_status}")
    error = _error(_json_object(text))
    return Outcome(status, str(error.get("message", "")) if error is not None else _clipped(text))


class EventData:
    """Server-sent events framing: the `data:` lines of an event, joined, once a blank line ends it.
    Comments (`: progress ...`, the gateway's progress) and other fields are skipped."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def feed(self, line: str) -> str | None:
        if line:
            if line.startswith("data:"):
                self._lines.append(line[5:].removeprefix(" "))
            return None
        data, self._lines = self._lines, []
        return "\n".join(data) if data else None


def _has_content(chunk: dict[str, Any]) -> bool:
    """A token: the role-only first chunk and the usage chunk carry no content."""
    choices = chunk.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    delta = first.get("delta") if isinstance(first, dict) else None
    return isinstance(delta, dict) and bool(delta.get("content"))


class StreamedCompletion:
    """Reads a stream's chunks into an Outcome: the first token's time, the usage chunk's tokens and the
    degradations in the last chunk's `smoa` extension; an `error` event fails it."""

    def __init__(self) -> None:
        self.first_token: float | None = None
        self.tokens = (0, 0)
        self.degraded: tuple[str, ...] = ()

    def read(self, data: str, at: float) -> Outcome | None:
        """One event's data, received at time.perf_counter() `at`: the Outcome once the stream ended."""
        if data == "[DONE]":
            return Outcome(OK, "", self.first_token, *self.tokens, self.degraded)
        chunk = _json_object(data)
        if chunk is None:
            return Outcome(MALFORMED, f"not a chat.completion.chunk: {_clipped(data)}", self.first_token)
        error = _error(chunk)
        if error is not None:
            # After the 200 the gateway can only end the stream with the error: no [DONE] follows.
            status = STATUS_OF_ERROR_CODE.get(str(error.get("code"))) or STATUS_OF_ERROR_TYPE.get(
                str(error.get("type")), "UNKNOWN"
            )
            return Outcome(status, str(error.get("message", "")), self.first_token)
        if self.first_token is None and _has_content(chunk):
            self.first_token = at
        if chunk.get("usage") is not None:
            self.tokens = _tokens(chunk["usage"])
        if "smoa" in chunk:
            self.degraded = _degraded_stages(chunk["smoa"])
        return None

    def cut_short(self) -> Outcome:
        """The connection ended cleanly but before `data: [DONE]`: the answer is incomplete."""
        return Outcome("UNAVAILABLE", "the stream ended before data: [DONE]", self.first_token)
