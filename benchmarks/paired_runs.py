"""One system of one `smoa eval` run against one system of another (or the same) run, on the items both
answered: accuracy difference with McNemar's exact test, the token ratio with its paired bootstrap
interval, and the same restricted to the items where each of the first's steps fired (what a skip saved
where it acted).

    .venv/bin/python benchmarks/paired_runs.py AFTER_DIR:smoa BEFORE_DIR:smoa      # e.g. a prompt change
    .venv/bin/python benchmarks/paired_runs.py RUN:smoa RUN:smoa-full               # the skips on and off
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

from smoa.eval.record import ItemResult
from smoa.eval.results_file import ResultsFile
from smoa.eval.summary import compare


def side(spec: str, label: str) -> list[ItemResult]:
    """`DIR:SYSTEM` -> that system's results, renamed `label` so two runs of one system can be paired."""
    directory, _, system = spec.rpartition(":")
    if not directory or not system:
        raise ValueError(f"{spec!r}: expected DIR:SYSTEM")
    rows = [r for r in ResultsFile(Path(directory)).read() if r.system == system]
    if not rows:
        raise ValueError(f"{spec!r}: no results for system {system!r} in {directory}")
    return [dataclasses.replace(r, system=label) for r in rows]


def describe(title: str, first: Sequence[ItemResult], second: Sequence[ItemResult]) -> str:
    c = compare("first", "second", [*first, *second])
    if not c.items:
        return f"{title}: no item answered by both"
    d, t = c.quality_difference, c.token_ratio
    return (
        f"{title}: {c.items} items; accuracy {100 * d.estimate:+.0f} points "
        f"[{100 * d.low:+.0f}, {100 * d.high:+.0f}], {c.quality_test} p = {c.quality_p:.2f} ({c.detail}); "
        f"tokens {t.estimate:.2f}x [{t.low:.2f}, {t.high:.2f}], calls {c.calls_ratio:.2f}x"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("first", help="DIR:SYSTEM")
    parser.add_argument("second", help="DIR:SYSTEM, the reference")
    args = parser.parse_args(argv)
    first, second = side(args.first, "first"), side(args.second, "second")
    print(describe(f"{args.first} vs {args.second}", first, second))
    for action in sorted({step for r in first for step in r.steps}):
        fired = [r for r in first if action in r.steps]
        print(describe(f"  where {action} fired", fired, second))


if __name__ == "__main__":
    main()
