"""A PNG of a run: each request's latency over its scheduled time (failures in red, so a stall or an
outage shows where it happened), and the HDR percentile curve (latency against 1/(1-p), the long tail
spread out)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from smoa.load.histogram import LatencyHistogram, MissingExtra
from smoa.load.sample import DROPPED, Sample

# 50% .. 99.999%: 1/(1-p) from 2 to 100000 on a log axis.
CURVE_PERCENTILES = (50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999)


def require_matplotlib() -> None:
    try:
        import matplotlib
    except ImportError as e:
        raise MissingExtra("--plot needs the load extra: pip install 'smoa[load]'") from e
    matplotlib.use("Agg")  # no display: files only


def write_plot(samples: Sequence[Sample], latency: LatencyHistogram, path: Path, title: str = "") -> None:
    require_matplotlib()
    from matplotlib import pyplot

    measured = [s for s in samples if not s.warmup and s.status != DROPPED]
    figure, (over_time, curve) = pyplot.subplots(1, 2, figsize=(13, 4.5))
    for ok, colour, label in ((True, "tab:blue", "OK"), (False, "tab:red", "failed")):
        chosen = [s for s in measured if s.ok == ok]
        if chosen:
            over_time.scatter(
                [s.scheduled for s in chosen],
                [s.latency * 1000 for s in chosen],
                s=6,
                c=colour,
                label=f"{label} ({len(chosen)})",
            )
    over_time.set(xlabel="scheduled send time (s)", ylabel="latency (ms)", title="latency over time")
    over_time.legend(loc="upper left")
    if latency.count:
        x = [1 / (1 - p / 100) for p in CURVE_PERCENTILES]
        y = [latency.percentile(p) * 1000 for p in CURVE_PERCENTILES]
        curve.plot(x, y, marker="o")
        curve.set_xscale("log")
        curve.set_xticks(x, [f"{p:g}%" for p in CURVE_PERCENTILES], rotation=45)
    curve.set(xlabel="percentile", ylabel="latency (ms)", title="latency by percentile")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
