"""OpenTelemetry for one smoa process: its traces and its metrics, configured only by the standard
``OTEL_*`` variables (traces.py, meters.py), with ``service.name`` defaulting to ``smoa-<service>``
(``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` are read by the SDK). With no exporter configured,
nothing is recorded, so an offline run neither retries a collector that is not there nor pays for spans
and measurements nobody reads.

Message content is recorded on LLM spans only when ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``
is true (the GenAI conventions' opt-in)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import MeterProvider, NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from smoa_services.telemetry import traces
from smoa_services.telemetry.instruments import Instruments
from smoa_services.telemetry.meters import meter_provider
from smoa_services.telemetry.rpc_durations import ClientDurations, ServerDurations

SCOPE = "smoa"


@dataclass(frozen=True)
class Telemetry:
    traces: TracerProvider
    meters: MeterProvider
    capture_content: bool = False

    @classmethod
    def load(
        cls,
        service_name: str,
        span_processors: Sequence[SpanProcessor] = (),
        metric_readers: Sequence[MetricReader] = (),
        environ: Mapping[str, str] | None = None,
    ) -> Telemetry:
        """A process's telemetry from ``environ`` (the process environment by default), plus the span
        processors and metric readers given (tests read what they record in process)."""
        env = os.environ if environ is None else environ
        attributes = {} if env.get("OTEL_SERVICE_NAME") else {"service.name": f"smoa-{service_name}"}
        resource = Resource.create(attributes)
        return cls(
            traces.tracer_provider(resource, span_processors, env),
            meter_provider(resource, metric_readers, env),
            traces.capture_content(env),
        )

    @cached_property
    def tracer(self) -> trace.Tracer:
        return self.traces.get_tracer(SCOPE)

    @cached_property
    def instruments(self) -> Instruments:
        # Once per process: services that share one Telemetry (tests) share its instruments.
        return Instruments(self.meters.get_meter(SCOPE))

    @property
    def recording(self) -> bool:
        return traces.recording(self.traces)

    @property
    def measuring(self) -> bool:
        return not isinstance(self.meters, NoOpMeterProvider)

    def server_interceptors(self) -> list[Any]:
        """Outermost first: the RPC's span, then its duration."""
        durations = [ServerDurations(self.instruments.rpc_server_duration)] if self.measuring else []
        return [*traces.server_interceptors(self.traces), *durations]

    def client_interceptors(self) -> list[Any]:
        """Client spans carry the trace context to the next service, so one Generate is one trace."""
        durations = [ClientDurations(self.instruments.rpc_client_duration)] if self.measuring else []
        return [*traces.client_interceptors(self.traces), *durations]

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        flushed = self.traces.force_flush(timeout_millis)
        if isinstance(self.meters, SdkMeterProvider):
            flushed = self.meters.force_flush(timeout_millis) and flushed
        return flushed

    def shutdown(self) -> None:
        self.traces.shutdown()
        if isinstance(self.meters, SdkMeterProvider):
            self.meters.shutdown()
