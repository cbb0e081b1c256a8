"""An in-process OTLP/gRPC receiver of traces and metrics on 127.0.0.1:0: the real export path ends here in
tests, since no collector or Jaeger is installed on test machines."""

from __future__ import annotations

import threading
from concurrent import futures

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2


def _service_name(attributes: list[common_pb2.KeyValue]) -> str:
    return next((a.value.string_value for a in attributes if a.key == "service.name"), "")


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):  # type: ignore[misc]
    def __init__(self, lock: threading.Lock) -> None:
        self.requests: list[metrics_service_pb2.ExportMetricsServiceRequest] = []
        self._lock = lock

    def Export(
        self, request: metrics_service_pb2.ExportMetricsServiceRequest, context: grpc.ServicerContext
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        with self._lock:
            self.requests.append(request)
        return metrics_service_pb2.ExportMetricsServiceResponse()


class OtlpReceiver(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self._lock = threading.Lock()
        self._metrics = _Metrics(self._lock)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(self._metrics, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        with self._lock:
            self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()

    def spans(self) -> list[tuple[str, trace_pb2.Span]]:
        """Every received span with its resource's service.name."""
        found: list[tuple[str, trace_pb2.Span]] = []
        with self._lock:
            for request in self.requests:
                for resource_spans in request.resource_spans:
                    service = _service_name(resource_spans.resource.attributes)
                    for scope in resource_spans.scope_spans:
                        found += [(service, span) for span in scope.spans]
        return found

    def metrics(self) -> list[tuple[str, metrics_pb2.Metric]]:
        """Every received metric (one per export) with its resource's service.name."""
        found: list[tuple[str, metrics_pb2.Metric]] = []
        with self._lock:
            for request in self._metrics.requests:
                for resource_metrics in request.resource_metrics:
                    service = _service_name(resource_metrics.resource.attributes)
                    for scope in resource_metrics.scope_metrics:
                        found += [(service, metric) for metric in scope.metrics]
        return found

    def __enter__(self) -> OtlpReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(grace=None)
