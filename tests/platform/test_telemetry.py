"""Spans leave through the real OTLP exporter, configured only by OTEL_* variables."""

import pytest

from smoa_services import telemetry
from tests.fakes.otlp_receiver import OtlpReceiver


def test_spans_are_exported_over_otlp_to_the_configured_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
        monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
        provider = telemetry.tracer_provider("judge")
        with telemetry.tracer(provider).start_as_current_span("work") as span:
            span.set_attribute("smoa.layer", 2)
        assert provider.force_flush(10_000)
        provider.shutdown()
        (service, exported), *_ = receiver.spans()
    assert service == "smoa-judge"
    assert exported.name == "work"
    assert [a.value.int_value for a in exported.attributes if a.key == "smoa.layer"] == [2]


def test_nothing_is_recorded_without_configuration() -> None:
    provider = telemetry.tracer_provider("judge", environ={})
    assert provider._active_span_processor._span_processors == ()
    assert not telemetry.recording(provider)
    assert telemetry.server_interceptors(provider) == [] and telemetry.client_interceptors(provider) == []
    with telemetry.tracer(provider).start_as_current_span("work") as span:
        assert not span.is_recording()


def test_sdk_can_be_disabled() -> None:
    provider = telemetry.tracer_provider(
        "judge", environ={"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}
    )
    assert provider._active_span_processor._span_processors == ()


def test_content_capture_is_opt_in() -> None:
    assert not telemetry.capture_content({})
    assert telemetry.capture_content({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"})
