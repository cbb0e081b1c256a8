"""The LLM backends every call goes to (the OpenAI SDK against OpenAI-compatible endpoints), how many calls
each takes at once, and when a backend is given up on: timeouts, retries, hedges, the circuit breaker."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field

from smoa_services.config.help_text import help_text

EMBEDDED_BASE_URL = "http://127.0.0.1:8080/v1"
EMBEDDED_MODEL = "smollm2-135m"
HTTP_CLIENTS = ("aiohttp", "httpx")


@dataclass(frozen=True)
class Backend:
    """One OpenAI-compatible endpoint. The API key is read from the environment variable named here, so
    keys never sit in configuration files or flags."""

    base_url: str = EMBEDDED_BASE_URL
    model: str = EMBEDDED_MODEL
    api_key_env: str = "SMOA_LLM_API_KEY"

    def api_key(self) -> str:
        # Local servers ignore the key, but the OpenAI SDK refuses an empty one.
        return (os.environ.get(self.api_key_env) if self.api_key_env else None) or "no-key"


@dataclass(frozen=True)
class Backends:
    """LLM backends: endpoints, concurrency, timeouts, retries, hedges, the breaker"""

    llm_base_url: str = field(default=EMBEDDED_BASE_URL, metadata=help_text("default OpenAI-compatible URL"))
    llm_model: str = field(default=EMBEDDED_MODEL, metadata=help_text("default model name"))
    llm_api_key_env: str = field(
        default="SMOA_LLM_API_KEY", metadata=help_text("env var holding the API key")
    )
    backends: str = field(
        default="",
        metadata=help_text(
            'named extra backends as JSON: {"name": {"base_url": ..., "model": ..., "api_key_env": ...}}'
        ),
    )
    llm_http_client: str = field(
        default="aiohttp",
        metadata=help_text(
            "the openai SDK's HTTP transport: aiohttp (its aiohttp extra, a third less CPU a call) or httpx"
        ),
    )
    llm_concurrency: int = field(default=4, metadata=help_text("LLM calls in flight per backend"))
    llm_slots_per_caller: int = field(
        default=0,
        metadata=help_text("most of those one authenticated caller's work holds (0: half, rounded up)"),
    )
    llm_timeout_seconds: float = field(
        default=120.0, metadata=help_text("cap on one LLM call, its retries and hedge included")
    )
    llm_max_retries: int = field(
        default=3,
        metadata=help_text("retries on 429, 5xx, timeouts and malformed replies, while the budget allows"),
    )
    llm_hedge_after: str = field(
        default="off",
        metadata=help_text(
            "start a second attempt of an LLM call not answered after: off, p95 (observed) or seconds"
        ),
    )
    breaker_consecutive_failures: int = field(
        default=10, metadata=help_text("failures in a row that open a backend's circuit breaker")
    )
    breaker_failure_ratio: float = field(
        default=0.5, metadata=help_text("share of failures (of 20+ calls in 10 s) that opens it")
    )
    breaker_cooldown_seconds: float = field(
        default=5.0, metadata=help_text("first cool-down of an open breaker (doubles while it keeps failing)")
    )
    max_tokens: int = field(default=512, metadata=help_text("default max_tokens of an LLM call"))
    temperature: float = field(default=0.7, metadata=help_text("default sampling temperature"))

    def backend(self, name: str = "") -> Backend:
        """The named backend, or the default one for ""."""
        if not name:
            return Backend(self.llm_base_url, self.llm_model, self.llm_api_key_env)
        named = self.named_backends()
        if name not in named:
            raise KeyError(name)
        return named[name]

    def named_backends(self) -> dict[str, Backend]:
        return dict(_parse_backends(self.backends))

    def checks(self) -> list[tuple[str, bool]]:
        return [
            ("llm_http_client", self.llm_http_client in HTTP_CLIENTS),
            ("llm_concurrency", self.llm_concurrency >= 1),
            ("llm_slots_per_caller", self.llm_slots_per_caller >= 0),
            ("llm_timeout_seconds", self.llm_timeout_seconds > 0),
            ("llm_max_retries", self.llm_max_retries >= 0),
            ("llm_hedge_after", valid_hedge(self.llm_hedge_after)),
            ("breaker_consecutive_failures", self.breaker_consecutive_failures >= 1),
            ("breaker_failure_ratio", 0.0 < self.breaker_failure_ratio <= 1.0),
            ("breaker_cooldown_seconds", self.breaker_cooldown_seconds > 0),
        ]


def valid_hedge(raw: str) -> bool:
    """True for "off", "p95", or a positive number of seconds."""
    if raw in ("off", "p95"):
        return True
    try:
        return float(raw) > 0
    except ValueError:
        return False


# Parsed once per distinct value: requests validate their backend names against these on every call.
@functools.lru_cache(maxsize=8)
def _parse_backends(raw: str) -> tuple[tuple[str, Backend], ...]:
    if not raw:
        return ()
    parsed: dict[str, dict[str, str]] = json.loads(raw)
    # A named backend without its own key setting gets no key: never another provider's.
    return tuple((name, Backend(**{"api_key_env": "", **spec})) for name, spec in parsed.items())
