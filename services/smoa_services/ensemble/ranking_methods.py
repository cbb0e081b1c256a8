"""How the judge ranks a layer's candidates, by the core's names: how its ballots are combined
(`Aggregation`) and how the k kept are picked from the aggregate (`Selection`), with their wire values.
The orchestrator carries them in its plan and the judge runs them; neither handles proto ints."""

from __future__ import annotations

from typing import Literal

from smoa.v1 import common_pb2

Aggregation = Literal["mean", "zmean", "borda", "rrf", "copeland", "bradley_terry"]
Selection = Literal["top_k", "mmr"]

DEFAULT_AGGREGATION: Aggregation = "borda"
DEFAULT_SELECTION: Selection = "top_k"

_AGGREGATIONS: dict[common_pb2.AggregationMethod.ValueType, Aggregation] = {
    common_pb2.AGGREGATION_METHOD_MEAN: "mean",
    common_pb2.AGGREGATION_METHOD_ZMEAN: "zmean",
    common_pb2.AGGREGATION_METHOD_BORDA: "borda",
    common_pb2.AGGREGATION_METHOD_RRF: "rrf",
    common_pb2.AGGREGATION_METHOD_COPELAND: "copeland",
    common_pb2.AGGREGATION_METHOD_BRADLEY_TERRY: "bradley_terry",
}
_SELECTIONS: dict[common_pb2.SelectionMethod.ValueType, Selection] = {
    common_pb2.SELECTION_METHOD_TOP_K: "top_k",
    common_pb2.SELECTION_METHOD_MMR: "mmr",
}
_AGGREGATION_VALUES = {name: value for value, name in _AGGREGATIONS.items()}
_SELECTION_VALUES = {name: value for value, name in _SELECTIONS.items()}


def known_aggregation(value: common_pb2.AggregationMethod.ValueType) -> bool:
    return value == common_pb2.AGGREGATION_METHOD_UNSPECIFIED or value in _AGGREGATIONS


def known_selection(value: common_pb2.SelectionMethod.ValueType) -> bool:
    return value == common_pb2.SELECTION_METHOD_UNSPECIFIED or value in _SELECTIONS


def aggregation_from_wire(value: common_pb2.AggregationMethod.ValueType) -> Aggregation | None:
    """None for UNSPECIFIED: the judge's default, decided where the judging happens."""
    return _AGGREGATIONS.get(value)


def selection_from_wire(value: common_pb2.SelectionMethod.ValueType) -> Selection | None:
    return _SELECTIONS.get(value)


def aggregation_to_wire(name: Aggregation | None) -> common_pb2.AggregationMethod.ValueType:
    return common_pb2.AGGREGATION_METHOD_UNSPECIFIED if name is None else _AGGREGATION_VALUES[name]


def selection_to_wire(name: Selection | None) -> common_pb2.SelectionMethod.ValueType:
    return common_pb2.SELECTION_METHOD_UNSPECIFIED if name is None else _SELECTION_VALUES[name]
