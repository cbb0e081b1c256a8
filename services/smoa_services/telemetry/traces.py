"""Traces. Spans are exported over OTLP (gRPC) when an endpoint is configured
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) or ``OTEL_TRACES_EXPORTER``
names ``otlp`` or ``console``; ``OTEL_SDK_DISABLED=true`` turns them off."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor, filters
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def capture_content(environ: Mapping[str, str]) -> bool:
    return truthy(environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"))


def exporter_names(environ: Mapping[str, str], signal: str) -> list[str]:
    """``OTEL_<SIGNAL>_EXPORTER``'s names; with none, ``otlp`` when an OTLP endpoint is configured for the
    signal, and nothing otherwise (an offline run must not retry a collector that is not there)."""
    names = [n.strip() for n in environ.get(f"OTEL_{signal}_EXPORTER", "").split(",") if n.strip()]
    if not names and (
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
    ):
        names = ["otlp"]
    return [n for n in names if n != "none"]


def _exporters(environ: Mapping[str, str]) -> list[Any]:
    names = exporter_names(environ, "TRACES")
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
    resource: Resource, extra_processors: Sequence[SpanProcessor], environ: Mapping[str, str]
) -> TracerProvider:
    processors = list(extra_processors)
    if not truthy(environ.get("OTEL_SDK_DISABLED")):
        processors = [BatchSpanProcessor(exporter) for exporter in _exporters(environ)] + processors
    # Spans nobody receives still cost time on every RPC and LLM call: without a processor, record none.
    sampler = None if processors else ALWAYS_OFF
    provider = TracerProvider(resource=resource, sampler=sampler)
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
