"""Every metric smoa records, named once. Durations and token counts follow the OpenTelemetry semantic
conventions (RPC and GenAI), so dashboards built for them work; the rest are smoa's own, under ``smoa.``.

Histograms carry their bucket boundaries as advice: the SDK's default buckets are meant for milliseconds,
and these durations are in seconds, from a few milliseconds (a judge call on a fast model) to minutes (a
whole generation on a slow one)."""

from __future__ import annotations

from opentelemetry.metrics import Meter

from smoa_services.telemetry import attributes

# The RPC conventions' advice, extended past 10 s: a Generate on a slow model takes minutes.
RPC_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300)
# The GenAI conventions' advice.
LLM_SECONDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKENS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
LAYERS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)

# Loop lag: under a millisecond when idle, 50 ms is when callers notice, seconds when it is saturated.
LAG_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# The breaker gauge's values: a number, so an alert can say "> 0".
# Keyed by llm.breaker.State values.
BREAKER_VALUE = {"closed": 0, "half_open": 1, "open": 2}


class Instruments:
    def __init__(self, meter: Meter):
        self.rpc_server_duration = meter.create_histogram(
            "rpc.server.call.duration",
            unit="s",
            description="Duration of incoming RPCs, by method and status code.",
            explicit_bucket_boundaries_advisory=RPC_SECONDS,
        )
        self.rpc_client_duration = meter.create_histogram(
            "rpc.client.call.duration",
            unit="s",
            description="Duration of RPCs to peer services (retries included), by method and status code.",
            explicit_bucket_boundaries_advisory=RPC_SECONDS,
        )
        # An UpDownCounter, so the count is exported as it stands (a gauge in Prometheus:
        # smoa_rpc_server_in_flight), summed over whatever servers share this meter.
        self.rpc_server_in_flight = meter.create_up_down_counter(
            "smoa.rpc.server.in_flight",
            unit="{call}",
            description="smoa calls being served (admitted, not finished; health checks excluded).",
        )
        self.loop_lag = meter.create_histogram(
            "smoa.process.loop_lag",
            unit="s",
            description="How late the service's event loop woke a task due every 100 ms (loop_lag.py).",
            explicit_bucket_boundaries_advisory=LAG_SECONDS,
        )
        self.llm_duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="Duration of LLM calls, attempts, retries and hedges included.",
            explicit_bucket_boundaries_advisory=LLM_SECONDS,
        )
        self.llm_tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Tokens per LLM call, by gen_ai.token.type (input or output).",
            explicit_bucket_boundaries_advisory=TOKENS,
        )
        self.requests = meter.create_counter(
            "smoa.requests",
            unit="{request}",
            description="Answered generations, by mode, stop reason and whether the answer degraded.",
        )
        self.caller_requests = meter.create_counter(
            "smoa.caller.requests",
            unit="{request}",
            description="Generations by caller (those in the quota file, else other) and outcome.",
        )
        self.caller_tokens = meter.create_counter(
            "smoa.caller.tokens",
            unit="{token}",
            description="Tokens each caller spent (a failed request: its grant), by caller and outcome.",
        )
        self.quota_unchecked = meter.create_counter(
            "smoa.quota.unchecked",
            unit="{request}",
            description="Generations admitted with no quota check, their store unreachable, by caller.",
        )
        self.layers = meter.create_histogram(
            "smoa.layers",
            unit="{layer}",
            description="Layers run per answered generation, by mode.",
            explicit_bucket_boundaries_advisory=LAYERS,
        )
        self.degradations = meter.create_counter(
            "smoa.degradations",
            unit="{degradation}",
            description="Stages that failed or were cut while the answer still came, by stage.",
        )
        self.judge_fallbacks = meter.create_counter(
            "smoa.judge.fallbacks",
            unit="{layer}",
            description="Layers whose answers were kept by consensus centrality, the judge having failed.",
        )
        self.moderator_fallbacks = meter.create_counter(
            "smoa.moderator.fallbacks",
            unit="{layer}",
            description="Layers whose stop decision was the layer rule, the moderator having failed.",
        )
        self.agent_kept_rate = meter.create_gauge(
            "smoa.agent.kept_rate",
            unit="1",
            description="Share of an agent's answers the judge kept (decayed), for agents judged often.",
        )
        self.breaker_state = meter.create_gauge(
            "smoa.llm.breaker.state",
            unit="1",
            description="Circuit breaker of each LLM backend: 0 closed, 1 half-open, 2 open.",
        )
        self.breaker_transitions = meter.create_counter(
            "smoa.llm.breaker.transitions",
            unit="{transition}",
            description="Circuit breaker state changes, by backend and the state entered.",
        )

    def breaker_changed(self, backend: str, state: str) -> None:
        of_backend = {attributes.BACKEND: backend or "default"}
        self.breaker_state.set(BREAKER_VALUE[state], of_backend)
        self.breaker_transitions.add(1, {**of_backend, attributes.BREAKER_STATE: state})
