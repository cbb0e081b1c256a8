"""smoa's own counters, from each answer the orchestrator gives: how requests end (mode, stop reason,
degraded or not), how many layers they run, which stages degrade, and how often the judge and moderator
fall back. A request that fails has no answer: its status is in the RPC duration histogram. And what each
request spent, by caller and outcome, failed and refused ones included."""

from __future__ import annotations

from smoa_services.orchestrator.records import Result
from smoa_services.telemetry import attributes
from smoa_services.telemetry.instruments import Instruments


class AnswerMetrics:
    def __init__(self, instruments: Instruments):
        self.instruments = instruments

    def answered(self, result: Result) -> None:
        mode = {attributes.MODE: result.mode.value}
        self.instruments.requests.add(
            1,
            {**mode, attributes.STOP_REASON: result.stop_reason.value, attributes.DEGRADED: result.degraded},
        )
        if result.layers:
            self.instruments.layers.record(len(result.layers), mode)
        for degradation in result.degradations:
            self.instruments.degradations.add(1, {**mode, attributes.STAGE: degradation.stage})
        for layer in result.layers:
            if layer.judge_fallback:
                self.instruments.judge_fallbacks.add(1, mode)
            if layer.moderator_fallback:
                self.instruments.moderator_fallbacks.add(1, mode)

    def spent(self, caller: str, tokens: int, outcome: str) -> None:
        """A request's spend by caller (a metric label: a name in the quota file, else "other") and
        outcome: answered, failed or quota_exceeded."""
        labels = {attributes.CALLER: caller, attributes.OUTCOME: outcome}
        self.instruments.caller_requests.add(1, labels)
        self.instruments.caller_tokens.add(tokens, labels)

    def unchecked(self, caller: str) -> None:
        """A request admitted with no quota check: the counters' store could not be reached."""
        self.instruments.quota_unchecked.add(1, {attributes.CALLER: caller})
