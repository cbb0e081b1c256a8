"""Latency histograms: HdrHistogram (the `hdrhistogram` package) in microseconds, 1 µs to 1 hour at 3
significant digits, so percentiles stay exact to 0.1% at any count and in constant memory, and runs
can be merged (`add`) or shipped encoded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOWEST_US = 1
HIGHEST_US = 3_600 * 1_000_000
SIGNIFICANT_DIGITS = 3


class MissingExtra(ImportError):
    """The optional dependencies of `smoa load` are not installed."""


def _hdr_class() -> Any:
    try:
        from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]
    except ImportError as e:
        raise MissingExtra("smoa load needs the load extra: pip install 'smoa[load]'") from e
    return HdrHistogram


@dataclass(frozen=True)
class Bucket:
    upper_seconds: float
    count: int


class LatencyHistogram:
    def __init__(self) -> None:
        self._hdr = _hdr_class()(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)

    def record(self, seconds: float) -> None:
        self._hdr.record_value(min(max(round(seconds * 1e6), LOWEST_US), HIGHEST_US))

    def add(self, other: LatencyHistogram) -> None:
        self._hdr.add(other._hdr)

    @property
    def count(self) -> int:
        return int(self._hdr.get_total_count())

    def percentile(self, p: float) -> float:
        """Seconds at percentile p (0-100)."""
        return float(self._hdr.get_value_at_percentile(p)) / 1e6

    @property
    def min(self) -> float:
        return float(self._hdr.get_min_value()) / 1e6 if self.count else 0.0

    @property
    def max(self) -> float:
        return float(self._hdr.get_max_value()) / 1e6

    @property
    def mean(self) -> float:
        return float(self._hdr.get_mean_value()) / 1e6 if self.count else 0.0

    def buckets(self, how_many: int = 10) -> list[Bucket]:
        """ghz's histogram: `how_many` equal-width buckets from the fastest to the slowest value, each
        labelled with its upper edge (the first also holds the fastest value)."""
        if not self.count:
            return []
        low, high = self.min, self.max
        width = (high - low) / how_many
        edges = [low + width * (i + 1) for i in range(how_many)]
        edges[-1] = high
        counts = [0] * how_many
        for item in self._hdr.get_recorded_iterator():
            value = float(item.value_iterated_to) / 1e6
            index = 0 if width == 0 else min(max(int((value - low) / width), 0), how_many - 1)
            counts[index] += int(item.count_at_value_iterated_to)
        return [Bucket(edge, count) for edge, count in zip(edges, counts, strict=True)]

    def encode(self) -> str:
        """The standard compressed HDR encoding (base64), readable by every HdrHistogram port."""
        encoded: bytes = self._hdr.encode()
        return encoded.decode("ascii")
