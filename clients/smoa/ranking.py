"""How the judge ranks the candidates of a layer: how it combines its ballots (`Aggregation`) and how it
picks the k kept from that aggregate (`Selection`). The members mirror the contract's AggregationMethod and
SelectionMethod by name (BORDA is AGGREGATION_METHOD_BORDA), so the wire value is found by name; the values
are what the command line takes. Unset (None) takes the service's default: Borda, top-k."""

from __future__ import annotations

from enum import Enum


class Aggregation(str, Enum):
    MEAN = "mean"
    ZMEAN = "zmean"  # the mean of each ballot's z-scores
    BORDA = "borda"
    RRF = "rrf"  # reciprocal rank fusion
    COPELAND = "copeland"
    BRADLEY_TERRY = "bradley_terry"


class Selection(str, Enum):
    TOP_K = "top_k"
    # Maximal marginal relevance: trades score against similarity to the answers already kept.
    MMR = "mmr"
