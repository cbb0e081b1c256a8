"""results.jsonl: one line per finished (system, item), appended and fsynced as each finishes, so a crash
or Ctrl-C loses no finished item and a rerun continues where the last one stopped.

A rerun must measure the same thing, so the settings that change answers (n, k, layers, max tokens,
temperature, seed, the judge) are kept in run.json beside it, and a rerun with different ones is
refused instead of mixing two experiments in one report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from smoa.eval.record import ItemResult, Key

RESULTS = "results.jsonl"
RUN = "run.json"


class ResultsFile:
    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / RESULTS

    def claim(self, fingerprint: dict[str, Any]) -> None:
        """Records what this run measures, or checks it against what the earlier run measured."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # Compared as stored: through JSON, where a tuple comes back as a list.
        fingerprint = json.loads(json.dumps(fingerprint))
        run = self.directory / RUN
        if run.exists() and self.path.exists():
            earlier = json.loads(run.read_text(encoding="utf-8"))
            changed = sorted(k for k in {*earlier, *fingerprint} if earlier.get(k) != fingerprint.get(k))
            if changed:
                raise ValueError(
                    f"{self.directory} holds results measured with other settings ({', '.join(changed)}: "
                    f"{ {k: earlier.get(k) for k in changed} }); use another --out or delete {RESULTS}"
                )
            return
        run.write_text(json.dumps(fingerprint, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def read(self) -> list[ItemResult]:
        """Every row written so far, the last one per (system, item) winning. A torn last line (the
        process died mid-write) is ignored: that item runs again."""
        if not self.path.exists():
            return []
        found: dict[Key, ItemResult] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            result = ItemResult.from_json(row)
            if result.ok or result.key not in found:
                found[result.key] = result
        return list(found.values())

    def finished(self) -> set[Key]:
        return {r.key for r in self.read() if r.ok}

    def append(self, results: Iterable[ItemResult]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            if f.tell() > 0 and not self._ends_with_newline():
                f.write("\n")  # after a torn line, start clean
            for result in results:
                f.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"
