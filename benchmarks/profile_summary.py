"""Where a service's CPU went, from py-spy speedscope profiles (bench_overhead.py --profile DIR): the share of
samples in each package (inclusive: a sample counts once for every package on its stack), the files
that were running (self time; the event loop's own C code shows as asyncio/runners.py, grpc's polling
thread as threading.py), and the functions of smoa_services with the largest inclusive shares, leaving
out the entry frames every sample passes through.

    .venv/bin/python benchmarks/profile_summary.py DIR/*.speedscope.json[.gz]
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any


def load(path: Path) -> dict[str, Any]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    found: dict[str, Any] = json.loads(raw)
    return found


def where(frame: dict[str, Any]) -> str:
    """A frame's file, from its package on: site-packages/x/y.py -> x/y.py; the standard library as is."""
    file = str(frame.get("file", "?"))
    for marker in ("site-packages/", "/services/"):
        file = file.split(marker)[-1]
    return file


ENTRY = ("server.py:main", "__main__.py:<module>")


def shares(profile: dict[str, Any]) -> tuple[Counter[str], Counter[str], Counter[str], float]:
    """Inclusive weight by package, self weight by file, inclusive weight by smoa_services function, and
    the total weight."""
    frames = profile["shared"]["frames"]
    packages: Counter[str] = Counter()
    running: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0.0
    for sampled in profile["profiles"]:
        for stack, weight in zip(sampled["samples"], sampled["weights"], strict=True):
            total += weight
            named = [(where(frames[i]), frames[i]["name"]) for i in stack]
            if named:
                running[named[-1][0]] += weight
            for package in {file.split("/")[0] for file, _ in named}:
                packages[package] += weight
            for key in {f"{file}:{name}" for file, name in named if file.startswith("smoa_services/")}:
                if not key.endswith(ENTRY):
                    functions[key] += weight
    return packages, running, functions, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    for path in args.profiles:
        packages, running, functions, total = shares(load(path))

        def share(weight: float, total: float = total) -> str:
            return f"{100 * weight / total:.0f}%"

        shown = [
            (n, w)
            for n, w in packages.most_common()
            if n and not n.startswith(("<", "/", "?", "smoa_", "uvloop"))
        ]
        print(f"== {path.name.split('.')[0]} ({total:.1f} s of samples)")
        print("   by package (inclusive): " + ", ".join(f"{n} {share(w)}" for n, w in shown[: args.top]))
        tops = running.most_common(args.top // 2)
        print(
            "   running (self): " + ", ".join(f"{n.rsplit('python3.11/', 1)[-1]} {share(w)}" for n, w in tops)
        )
        for key, weight in functions.most_common(args.top):
            print(f"   {share(weight):>4}  {key}")


if __name__ == "__main__":
    main()
