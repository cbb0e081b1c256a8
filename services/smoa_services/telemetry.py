"""OpenTelemetry wiring, configured only by the standard ``OTEL_*`` variables.

Spans are exported over OTLP when an endpoint is configured (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; OTLP over gRPC) or ``OTEL_TRACES_EXPORTER`` names ``otlp`` or
``console``; with neither,
nothing is exported, so an offline run does not retry a collector that is not there.
``OTEL_SDK_DISABLED=true`` turns tracing off. Message content is recorded on LLM spans only when
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` (the GenAI conventions' opt-in).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor, filters
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

TRACER_NAME = "smoa"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def capture_content(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return _truthy(env.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"))


def _exporters(environ: Mapping[str, str]) -> list[Any]:
    names = [n.strip() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    if not names and (
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        names = ["otlp"]
    exporters: list[Any] = []
    for name in names:
        if name == "otlp":
            # The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers, TLS, timeout) itself.
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
    return exporters


def tracer_provider(
    service_name: str,
    extra_processors: Sequence[SpanProcessor] = (),
    environ: Mapping[str, str] | None = None,
) -> TracerProvider:
    """A provider for one service: resource from ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES``
    (the SDK reads them), ``service.name`` defaulting to ``smoa-<service>``."""
    env = os.environ if environ is None else environ
    attributes = {} if env.get("OTEL_SERVICE_NAME") else {"service.name": f"smoa-{service_name}"}
    processors = list(extra_processors)
    if not _truthy(env.get("OTEL_SDK_DISABLED")):
        processors = [BatchSpanProcessor(exporter) for exporter in _exporters(env)] + processors
    # Spans nobody receives still cost time on every RPC and LLM call: without a processor, record none.
    sampler = None if processors else ALWAYS_OFF
    provider = TracerProvider(resource=Resource.create(attributes), sampler=sampler)
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def recording(provider: TracerProvider) -> bool:
    return provider.sampler is not ALWAYS_OFF


def server_interceptors(provider: TracerProvider) -> list[Any]:
    """One server span per RPC; health checks are left out (probes would drown the traces). None when
    nothing is recorded, which also means this service passes no trace context on."""
    if not recording(provider):
        return []
    return [aio_server_interceptor(tracer_provider=provider, filter_=filters.negate(filters.health_check()))]


def client_interceptors(provider: TracerProvider) -> list[Any]:
    """Client spans that carry the trace context to the next service, so one Generate is one trace."""
    if not recording(provider):
        return []
    return list(aio_client_interceptors(tracer_provider=provider))


def tracer(provider: TracerProvider) -> trace.Tracer:
    return provider.get_tracer(TRACER_NAME)
