"""The report's PNGs, per dataset (matplotlib, Agg: no display needed):

- quality_vs_tokens_<dataset>.png: one point per system, mean tokens per item against accuracy (or the
  judge's mean score), 95% intervals as error bars both ways: the cost-quality trade-off at a glance.
- stop_layers_<dataset>.png: how many items each system ran 1, 2, ... layers for (where SMoA stopped).
- tokens_by_role_<dataset>.png: tokens per item by role, stacked: where each system spends.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from smoa.eval.extras import require
from smoa.eval.statistics import Interval
from smoa.eval.summary import DatasetSummary, is_accuracy

ROLE_ORDER = ("roles", "single", "proposer", "judge", "moderator", "aggregator")


def file_stem(dataset: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset)


def _pyplot() -> Any:
    matplotlib = require("matplotlib", "the report's plots")
    matplotlib.use("Agg")
    return require("matplotlib.pyplot", "the report's plots")


def _errors(interval: Interval) -> tuple[float, float]:
    if math.isnan(interval.low):
        return 0.0, 0.0
    return max(0.0, interval.estimate - interval.low), max(0.0, interval.high - interval.estimate)


def quality_vs_tokens(summary: DatasetSummary, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    accuracy = is_accuracy(summary.grading)
    for name, s in summary.systems.items():
        quality = s.accuracy if accuracy else s.judge_score
        if quality is None or s.items == 0:
            continue
        scale = 100.0 if accuracy else 1.0
        y_low, y_high = _errors(quality)
        x_low, x_high = _errors(s.tokens)
        ax.errorbar(
            s.tokens.estimate,
            quality.estimate * scale,
            xerr=[[x_low], [x_high]],
            yerr=[[y_low * scale], [y_high * scale]],
            fmt="o",
            capsize=4,
            label=name,
        )
        ax.annotate(
            name, (s.tokens.estimate, quality.estimate * scale), textcoords="offset points", xytext=(6, 6)
        )
    if not ax.get_lines() and not ax.collections:
        # No system has a quality number here (e.g. the judge rated nothing): say so on the plot.
        ax.text(0.5, 0.5, "no accuracy or judge ratings to plot", ha="center", transform=ax.transAxes)
    else:
        ax.legend()
    ax.set_xlabel("tokens per item (input + output), mean")
    ax.set_ylabel("accuracy (%)" if accuracy else "judge score (1-10), mean")
    ax.set_title(f"{summary.dataset}: quality vs cost (95% intervals)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def stop_layers(summary: DatasetSummary, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    names = list(summary.systems)
    layers = sorted({layer for s in summary.systems.values() for layer in s.layers})
    width = 0.8 / max(1, len(layers))
    for j, layer in enumerate(layers):
        counts = [summary.systems[n].layers.get(layer, 0) for n in names]
        ax.bar([i + j * width for i in range(len(names))], counts, width, label=f"{layer} layer(s)")
    ax.set_xticks([i + width * (len(layers) - 1) / 2 for i in range(len(names))], names)
    ax.set_ylabel("items")
    ax.set_title(f"{summary.dataset}: layers run per item (0 = single call)")
    if layers:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tokens_by_role(summary: DatasetSummary, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    names = list(summary.systems)
    present = {role for s in summary.systems.values() for role in s.by_role}
    roles = [r for r in ROLE_ORDER if r in present] + sorted(present - set(ROLE_ORDER))
    bottom = [0.0] * len(names)
    for role in roles:
        values = [
            (c.input_tokens + c.output_tokens) if (c := summary.systems[n].by_role.get(role)) else 0.0
            for n in names
        ]
        ax.bar(names, values, bottom=bottom, label=role)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("tokens per item (input + output), mean")
    ax.set_title(f"{summary.dataset}: tokens by role")
    if roles:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_all(summary: DatasetSummary, directory: Path) -> dict[str, str]:
    """Writes the three plots of one dataset; returns {kind: file name}."""
    stem = file_stem(summary.dataset)
    files = {
        "quality_vs_tokens": f"quality_vs_tokens_{stem}.png",
        "stop_layers": f"stop_layers_{stem}.png",
        "tokens_by_role": f"tokens_by_role_{stem}.png",
    }
    quality_vs_tokens(summary, directory / files["quality_vs_tokens"])
    stop_layers(summary, directory / files["stop_layers"])
    tokens_by_role(summary, directory / files["tokens_by_role"])
    return files
