"""Metrics, configured by the same standard ``OTEL_*`` variables as the traces.

``OTEL_METRICS_EXPORTER`` names the exporters (``otlp``, ``prometheus``, ``console``); with none, metrics go
over OTLP when an OTLP endpoint is configured, and nowhere otherwise. ``prometheus`` serves a scrape
endpoint on ``OTEL_EXPORTER_PROMETHEUS_HOST``:``OTEL_EXPORTER_PROMETHEUS_PORT`` (localhost:9464 by default,
as the exporter's specification has it). ``OTEL_METRIC_EXPORT_INTERVAL`` (ms) paces the OTLP push."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from opentelemetry.metrics import MeterProvider, NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from smoa_services.telemetry.traces import exporter_names, truthy

log = logging.getLogger(__name__)

PROMETHEUS_DEFAULT_PORT = 9464


def _readers(environ: Mapping[str, str]) -> list[MetricReader]:
    readers: list[MetricReader] = []
    for name in exporter_names(environ, "METRICS"):
        if name == "otlp":
            # The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers, TLS, timeout) itself.
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
        elif name == "console":
            readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter()))
        elif name == "prometheus":
            readers.append(_prometheus(environ))
        else:
            log.warning("OTEL_METRICS_EXPORTER: unknown exporter %r, ignored", name)
    return readers


def _prometheus(environ: Mapping[str, str]) -> MetricReader:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import start_http_server

    host = environ.get("OTEL_EXPORTER_PROMETHEUS_HOST") or "localhost"
    port = int(environ.get("OTEL_EXPORTER_PROMETHEUS_PORT") or PROMETHEUS_DEFAULT_PORT)
    reader = PrometheusMetricReader()
    start_http_server(port, addr=host)
    log.info("prometheus metrics on http://%s:%d/metrics", host, port)
    return reader


def meter_provider(
    resource: Resource, extra_readers: Sequence[MetricReader], environ: Mapping[str, str]
) -> MeterProvider:
    readers = list(extra_readers)
    if not truthy(environ.get("OTEL_SDK_DISABLED")):
        readers = _readers(environ) + readers
    if not readers:
        # Measurements nobody reads would still cost time on every RPC and LLM call.
        return NoOpMeterProvider()
    return SdkMeterProvider(resource=resource, metric_readers=readers)
