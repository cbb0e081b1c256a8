"""Spans and metrics leave through the real OTLP exporters (and a Prometheus scrape endpoint on request),
configured only by OTEL_* variables; with none, nothing is recorded."""

import pytest
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from smoa_services.telemetry import Telemetry
from smoa_testing.observe.otlp_receiver import OtlpReceiver


def test_spans_and_metrics_are_exported_over_otlp_to_the_configured_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
        monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
        telemetry = Telemetry.load("judge")
        with telemetry.tracer.start_as_current_span("work") as span:
            span.set_attribute("smoa.layer", 2)
        telemetry.instruments.judge_fallbacks.add(3, {"smoa.mode": "smoa"})
        assert telemetry.force_flush(10_000)
        telemetry.shutdown()
        (service, exported), *_ = receiver.spans()
        metrics = {(service, m.name): m for service, m in receiver.metrics()}
    assert service == "smoa-judge"
    assert exported.name == "work"
    assert [a.value.int_value for a in exported.attributes if a.key == "smoa.layer"] == [2]
    fallbacks = metrics["smoa-judge", "smoa.judge.fallbacks"]
    assert [p.as_int for p in fallbacks.sum.data_points] == [3]


def test_metrics_alone_can_be_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    with OtlpReceiver() as receiver:
        environ = {
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
        }
        for name, value in environ.items():
            monkeypatch.setenv(name, value)  # the exporter reads its endpoint from the process
        telemetry = Telemetry.load("moderator", environ=environ)
        telemetry.instruments.breaker_changed("", "open")
        telemetry.shutdown()
        metrics = {m.name: m for _, m in receiver.metrics()}
    assert telemetry.traces.sampler is ALWAYS_OFF
    assert [p.as_int for p in metrics["smoa.llm.breaker.state"].gauge.data_points] == [2]


def test_nothing_is_recorded_without_configuration() -> None:
    telemetry = Telemetry.load("judge", environ={})
    assert telemetry.traces.sampler is ALWAYS_OFF
    assert isinstance(telemetry.meters, NoOpMeterProvider)
    assert telemetry.server_interceptors() == [] and telemetry.client_interceptors() == []
    with telemetry.tracer.start_as_current_span("work") as span:
        assert not span.is_recording()
    telemetry.instruments.requests.add(1)  # a no-op, not an error


def test_sdk_can_be_disabled() -> None:
    telemetry = Telemetry.load(
        "judge",
        environ={
            "OTEL_SDK_DISABLED": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
            "OTEL_METRICS_EXPORTER": "otlp,prometheus",
        },
    )
    assert telemetry.traces.sampler is ALWAYS_OFF
    assert isinstance(telemetry.meters, NoOpMeterProvider)


def test_content_capture_is_opt_in() -> None:
    assert not Telemetry.load("t", environ={}).capture_content
    opted_in = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    assert Telemetry.load("t", environ=opted_in).capture_content
