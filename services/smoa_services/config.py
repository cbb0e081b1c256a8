"""Service configuration: every setting has a default that works offline (the embedded model on
127.0.0.1:8080), an ``SMOA_*`` environment variable, and a command-line flag; flags win over the
environment. OpenTelemetry is configured by the standard ``OTEL_*`` variables only (see telemetry.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import smoa_core_rs

EMBEDDED_BASE_URL = "http://127.0.0.1:8080/v1"
EMBEDDED_MODEL = "smollm2-135m"

DEFAULT_PORTS = {
    "orchestrator": 50051,
    "proposer": 50052,
    "judge": 50053,
    "moderator": 50054,
    "gateway": 8000,
}
# The front door shares itself between its callers; a peer's one caller is the orchestrator (no share).
# One caller's share of a service's calls in flight (of max_concurrent_rpcs, 256): a quarter at a peer,
# by end caller, so three can be at their share with room left for the rest.
# A judge's passes per layer: each costs one LLM call (two on a retry), and beyond this the ranking no
# longer improves enough to be worth it.
MAX_JUDGE_PASSES = 8
PER_CALLER_DEFAULTS = {"orchestrator": 32, "proposer": 64, "judge": 64, "moderator": 64}


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


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class Settings:
    # Serving
    host: str = field(default="127.0.0.1", metadata=_help("address to bind; 0.0.0.0 in containers"))
    port: int = field(default=0, metadata=_help("port to bind; 0 picks a free one (printed at start)"))
    drain_delay_seconds: float = field(
        default=5.0,
        metadata=_help(
            "on SIGTERM, report NOT_SERVING this long with the listener still open (like a preStop hook), "
            "so probers and clients stop sending before the port closes"
        ),
    )
    grace_seconds: float = field(
        default=300.0,
        metadata=_help(
            "then the time in-flight RPCs get to finish; at least max_generation_seconds, so a generation "
            "in flight completes (what is still running at its end fails UNAVAILABLE SHUTTING_DOWN)"
        ),
    )
    max_message_bytes: int = field(default=4 * 1024 * 1024, metadata=_help("largest request/response"))
    max_concurrent_rpcs: int = field(
        default=256, metadata=_help("calls in flight beyond which RESOURCE_EXHAUSTED (health never counts)")
    )
    max_concurrent_rpcs_per_caller: int = field(
        default=0,
        metadata=_help(
            "one caller's share of them, by end caller at a peer (0: no share; defaults: orchestrator 32, "
            "proposer, judge and moderator 64)"
        ),
    )
    quota_file: str = field(
        default="",
        metadata=_help(
            'quotas per caller, JSON: {"*" | "name": {"tokens_per_minute", "tokens_per_day", '
            '"requests_per_minute"}}, read again when it changes (orchestrator; none: no quotas)'
        ),
    )
    admin_callers: str = field(
        default="", metadata=_help("callers (comma-separated names) who may read every caller's usage")
    )
    redis_url: str = field(
        default="",
        metadata=_help("Redis holding the quota counters, shared by orchestrator replicas (none: in memory)"),
    )
    quota_fail_open: bool = field(
        default=True,
        metadata=_help("admit requests unchecked when the quota store is unreachable (false: refuse them)"),
    )
    max_proposers_in_flight_per_caller: int = field(
        default=64,
        metadata=_help(
            "the orchestrator's bound on the n of one caller's requests in flight, summed: what they put "
            "on the proposers at once (0: no bound)"
        ),
    )
    max_prompt_chars: int = field(
        default=200_000, metadata=_help("largest prompt a request may make (INVALID_ARGUMENT beyond)")
    )
    max_messages: int = field(default=256, metadata=_help("messages a conversation may hold"))
    max_message_chars: int = field(default=100_000, metadata=_help("characters a message may hold"))
    max_role_chars: int = field(default=4_000, metadata=_help("characters of a role or task description"))
    max_candidates: int = field(default=256, metadata=_help("candidates a judge or moderator call may hold"))
    max_tokens_limit: int = field(default=8_192, metadata=_help("largest max_tokens a request may ask for"))
    max_proposers: int = field(default=32, metadata=_help("largest n a request may ask for"))
    max_layers_limit: int = field(default=10, metadata=_help("largest max_layers a request may ask for"))
    default_token_budget: int = field(
        default=500_000, metadata=_help("tokens a generation may spend when its request sets no budget")
    )
    # Security: plaintext and open by default (local); see tls.py and auth.py.
    tls_cert_file: str = field(default="", metadata=_help("PEM certificate chain to serve TLS with"))
    tls_key_file: str = field(default="", metadata=_help("PEM private key of tls_cert_file"))
    tls_client_ca_file: str = field(
        default="", metadata=_help("PEM CA that clients' certificates must be signed by (mutual TLS)")
    )
    peer_ca_file: str = field(default="", metadata=_help("PEM CA to trust for TLS to peer services"))
    peer_cert_file: str = field(default="", metadata=_help("PEM client certificate toward peers (mTLS)"))
    peer_key_file: str = field(default="", metadata=_help("PEM private key of peer_cert_file"))
    peer_server_name: str = field(
        default="", metadata=_help("name to check in peers' certificates instead of the target's host")
    )
    proposer_server_name: str = field(
        default="", metadata=_help("the name to check in the proposer's certificate (else peer_server_name)")
    )
    judge_server_name: str = field(
        default="", metadata=_help("the name to check in the judge's certificate (else peer_server_name)")
    )
    moderator_server_name: str = field(
        default="", metadata=_help("the name to check in the moderator's certificate (else peer_server_name)")
    )
    peer_token_env: str = field(
        default="SMOA_PEER_TOKEN", metadata=_help("env var holding the bearer token sent to peer services")
    )
    peer_token_file: str = field(
        default="", metadata=_help("file holding that token (a mounted secret); wins over peer_token_env")
    )
    auth_tokens_file: str = field(
        default="", metadata=_help("file of accepted bearer tokens, one 'name token' per line")
    )
    auth_tokens_env: str = field(
        default="", metadata=_help("env var holding accepted bearer tokens, 'name token' per line or comma")
    )
    auth_allow: str = field(
        default="",
        metadata=_help('what each caller may call, JSON: {"name": ["service" | "service/Method" | "*"]}'),
    )
    auth_allow_file: str = field(
        default="", metadata=_help("file holding auth_allow's JSON, read again when it changes; wins over it")
    )
    reflection: bool = field(
        default=True, metadata=_help("serve gRPC reflection (the schema, unauthenticated)")
    )
    max_connection_age_seconds: float = field(
        default=120.0, metadata=_help("close connections this old so clients re-resolve DNS (replicas)")
    )
    # LLM backends
    llm_base_url: str = field(default=EMBEDDED_BASE_URL, metadata=_help("default OpenAI-compatible URL"))
    llm_model: str = field(default=EMBEDDED_MODEL, metadata=_help("default model name"))
    llm_api_key_env: str = field(default="SMOA_LLM_API_KEY", metadata=_help("env var holding the API key"))
    backends: str = field(
        default="",
        metadata=_help(
            'named extra backends as JSON: {"name": {"base_url": ..., "model": ..., "api_key_env": ...}}'
        ),
    )
    llm_concurrency: int = field(default=4, metadata=_help("LLM calls in flight per backend"))
    llm_slots_per_caller: int = field(
        default=0,
        metadata=_help("most of those one authenticated caller's work holds (0: half, rounded up)"),
    )
    llm_timeout_seconds: float = field(
        default=120.0, metadata=_help("cap on one LLM call, its retries and hedge included")
    )
    llm_max_retries: int = field(
        default=3,
        metadata=_help("retries on 429, 5xx, timeouts and malformed replies, while the budget allows"),
    )
    llm_hedge_after: str = field(
        default="off",
        metadata=_help(
            "start a second attempt of an LLM call not answered after: off, p95 (observed) or seconds"
        ),
    )
    breaker_consecutive_failures: int = field(
        default=10, metadata=_help("failures in a row that open a backend's circuit breaker")
    )
    breaker_failure_ratio: float = field(
        default=0.5, metadata=_help("share of failures (of 20+ calls in 10 s) that opens it")
    )
    breaker_cooldown_seconds: float = field(
        default=5.0, metadata=_help("first cool-down of an open breaker (doubles while it keeps failing)")
    )
    max_tokens: int = field(default=512, metadata=_help("default max_tokens of an LLM call"))
    temperature: float = field(default=0.7, metadata=_help("default sampling temperature"))
    # Peers (orchestrator only). dns:/// targets with round_robin reach every replica.
    orchestrator_target: str = field(
        default="dns:///127.0.0.1:50051", metadata=_help("orchestrator service (the gateway's)")
    )
    proposer_target: str = field(default="dns:///127.0.0.1:50052", metadata=_help("proposer service"))
    judge_target: str = field(default="dns:///127.0.0.1:50053", metadata=_help("judge service"))
    moderator_target: str = field(default="dns:///127.0.0.1:50054", metadata=_help("moderator service"))
    call_budget_seconds: float = field(
        default=180.0, metadata=_help("cap on one outgoing RPC when the caller set no shorter deadline")
    )
    peer_hedge_after: str = field(
        default="off",
        metadata=_help("start a second judge/moderator RPC (another replica) after: off, p95 or seconds"),
    )
    peer_keepalive_seconds: float = field(
        default=2.0,
        metadata=_help("ping peers this often; one that does not answer within as long leaves the rotation"),
    )
    max_generation_seconds: float = field(
        default=300.0, metadata=_help("deadline of a generation whose caller set none (or a longer one)")
    )
    # Pipeline defaults
    n: int = field(default=4, metadata=_help("proposers per layer"))
    k: int = field(default=2, metadata=_help("answers the judge keeps per layer"))
    max_layers: int = field(default=3, metadata=_help("layer cap"))
    quorum: int = field(default=0, metadata=_help("proposers a layer needs to go on (0: max(k, ceil(n/2)))"))
    straggler_wait_factor: float = field(
        default=1.0,
        metadata=_help("once the quorum answered, wait this share of the time it took for the rest"),
    )
    straggler_min_wait_seconds: float = field(
        default=0.5, metadata=_help("floor of that wait: a busy host's scheduling delay is not slowness")
    )
    straggler_max_wait_seconds: float = field(default=10.0, metadata=_help("cap on that wait"))
    roles: str = field(default="", metadata=_help("default proposer roles as a JSON list of strings"))
    role_cache_size: int = field(default=256, metadata=_help("task descriptions whose roles are cached"))
    judge_passes: int = field(default=1, metadata=_help("shuffled judging passes combined by aggregation"))
    dedup_threshold: float = field(default=0.8, metadata=_help("Jaccard at which candidates are duplicates"))
    consensus_threshold: float = field(
        default=0.75, metadata=_help("agreement at which the moderator stops without an LLM call")
    )
    skip_judge_on_consensus: bool = field(
        default=True,
        metadata=_help("a layer whose answers agree stops without a judge or moderator call (SMOA, AUTO)"),
    )
    skip_synthesis_on_agreement: bool = field(
        default=True,
        metadata=_help(
            "agreeing final answers (or one) are answered as they are, no aggregator (SMOA, AUTO)"
        ),
    )
    fused_judge_moderator: bool = field(
        default=True,
        metadata=_help("judge and moderator in one LLM call unless the request says (SMOA, AUTO)"),
    )
    auto_panel: int = field(default=2, metadata=_help("AUTO: proposers asked first, before the rest"))

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

    def default_roles(self) -> list[str]:
        return list(_parse_roles(self.roles))

    def admin_caller_names(self) -> frozenset[str]:
        return frozenset(n.strip() for n in self.admin_callers.split(",") if n.strip())

    def server_name(self, peer: str) -> str:
        """The name expected in `peer`'s certificate ("": the target's host)."""
        own: str = getattr(self, f"{peer}_server_name", "")
        return own or self.peer_server_name

    def allowed_calls(self) -> dict[str, tuple[str, ...]]:
        """Per caller, the services ("smoa.v1.ProposerService"), methods (".../Propose") or "*" it may call;
        empty: every known caller may call everything."""
        return dict(parse_allow(self.auth_allow))

    @classmethod
    def load(
        cls, service: str, argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Defaults, then ``SMOA_<FIELD>`` variables, then ``--field`` flags. The port defaults to the
        service's well-known one (orchestrator 50051, proposer 50052, judge 50053, moderator 50054)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "port": DEFAULT_PORTS.get(service, 0),
            "max_concurrent_rpcs_per_caller": PER_CALLER_DEFAULTS.get(service, 0),
        }
        for f in dataclasses.fields(cls):
            raw = env.get(f"SMOA_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _parse(f.name, raw, type(getattr(cls(), f.name)))
        defaults = dataclasses.replace(cls(), **values)
        parser = argparse.ArgumentParser(
            prog=f"python -m smoa_services.{service}",
            description=f"smoa {service} service. Every flag also reads SMOA_<FLAG> from the environment.",
        )
        for f in dataclasses.fields(cls):
            current = getattr(defaults, f.name)
            parser.add_argument(
                f"--{f.name.replace('_', '-')}",
                type=_truthy if isinstance(current, bool) else type(current),
                default=current,
                help=f"{f.metadata.get('help', '')} (default: {current!r})",
            )
        settings = cls(**vars(parser.parse_args(argv)))
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuses settings that cannot work, naming the setting."""
        checks = [
            ("port", 0 <= self.port <= 65535),
            ("n", 1 <= self.n <= self.max_proposers),
            ("k", self.k >= 1),
            ("max_layers", 1 <= self.max_layers <= self.max_layers_limit),
            ("llm_concurrency", self.llm_concurrency >= 1),
            ("llm_slots_per_caller", self.llm_slots_per_caller >= 0),
            ("judge_passes", 1 <= self.judge_passes <= MAX_JUDGE_PASSES),
            ("grace_seconds", self.grace_seconds >= 0),
            ("drain_delay_seconds", self.drain_delay_seconds >= 0),
            ("llm_timeout_seconds", self.llm_timeout_seconds > 0),
            ("llm_max_retries", self.llm_max_retries >= 0),
            ("llm_hedge_after", valid_hedge(self.llm_hedge_after)),
            ("peer_hedge_after", valid_hedge(self.peer_hedge_after)),
            ("breaker_consecutive_failures", self.breaker_consecutive_failures >= 1),
            ("breaker_failure_ratio", 0.0 < self.breaker_failure_ratio <= 1.0),
            ("breaker_cooldown_seconds", self.breaker_cooldown_seconds > 0),
            ("call_budget_seconds", self.call_budget_seconds > 0),
            ("peer_keepalive_seconds", self.peer_keepalive_seconds >= 1),
            ("max_generation_seconds", self.max_generation_seconds > 0),
            ("quorum", self.quorum >= 0),
            ("max_concurrent_rpcs", self.max_concurrent_rpcs >= 1),
            ("max_concurrent_rpcs_per_caller", self.max_concurrent_rpcs_per_caller >= 0),
            ("max_proposers_in_flight_per_caller", self.max_proposers_in_flight_per_caller >= 0),
            ("max_messages", self.max_messages >= 1),
            ("max_message_chars", self.max_message_chars >= 1),
            ("max_role_chars", self.max_role_chars >= 1),
            # The core's similarity and aggregation are quadratic, and bounded there at MAX_CANDIDATES.
            ("max_candidates", 1 <= self.max_candidates <= smoa_core_rs.MAX_CANDIDATES),
            ("max_tokens_limit", self.max_tokens_limit >= 1),
            ("default_token_budget", self.default_token_budget >= 0),
            ("straggler_wait_factor", self.straggler_wait_factor >= 0),
            ("straggler_min_wait_seconds", self.straggler_min_wait_seconds >= 0),
            ("straggler_max_wait_seconds", self.straggler_max_wait_seconds >= 0),
            ("dedup_threshold", 0.0 <= self.dedup_threshold <= 1.0),
            ("consensus_threshold", 0.0 <= self.consensus_threshold <= 1.0),
            ("auto_panel", self.auto_panel >= 1),
        ]
        for name, ok in checks:
            if not ok:
                raise ValueError(f"{name}: invalid value {getattr(self, name)!r}")
        try:
            self.named_backends()
            self.default_roles()
        except (ValueError, TypeError) as e:
            raise ValueError(f"backends/roles: not valid JSON of the documented shape: {e}") from e
        try:
            self.allowed_calls()
        except (ValueError, TypeError) as e:
            raise ValueError(
                f'auth_allow: expected JSON {{"caller": ["service" | "service/Method" | "*", ...]}}: {e}'
            ) from e


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


@functools.lru_cache(maxsize=8)
def parse_allow(raw: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not raw:
        return ()
    parsed = json.loads(raw)
    if not isinstance(parsed, dict) or not all(
        isinstance(v, list) and all(isinstance(p, str) for p in v) for v in parsed.values()
    ):
        raise ValueError("not an object of lists of strings")
    return tuple((str(name), tuple(patterns)) for name, patterns in parsed.items())


@functools.lru_cache(maxsize=8)
def _parse_roles(raw: str) -> tuple[str, ...]:
    return tuple(json.loads(raw)) if raw else ()


def _truthy(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _parse(name: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            return _truthy(raw)
        return kind(raw)
    except ValueError as e:
        raise ValueError(f"SMOA_{name.upper()}: expected {kind.__name__}, got {raw!r}") from e
