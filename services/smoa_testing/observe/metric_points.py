"""Reading what an InMemoryMetricReader holds: the data points of one metric, filtered by attributes given
as keywords with dots written as double underscores (``rpc__method="..."``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader, NumberDataPoint

Point = HistogramDataPoint | NumberDataPoint


def points(reader: InMemoryMetricReader, name: str) -> Iterator[Point]:
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    yield from metric.data.data_points  # type: ignore[misc]


def matching(reader: InMemoryMetricReader, name: str, **attributes: Any) -> list[Point]:
    def keys(point: Point) -> Mapping[str, Any]:
        return point.attributes or {}

    wanted = {k.replace("__", "."): v for k, v in attributes.items()}
    return [p for p in points(reader, name) if all(keys(p).get(k) == v for k, v in wanted.items())]


def count(reader: InMemoryMetricReader, name: str, **attributes: Any) -> float:
    """Histograms: recordings; counters: their sum."""
    found = matching(reader, name, **attributes)
    return sum(p.count if isinstance(p, HistogramDataPoint) else p.value for p in found)


def total(reader: InMemoryMetricReader, name: str, **attributes: Any) -> float:
    return sum(p.sum for p in matching(reader, name, **attributes) if isinstance(p, HistogramDataPoint))
