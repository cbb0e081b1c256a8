"""The deployment's agent ranking (ensemble/agent_ranking.py) as one orchestrator process keeps it: in
memory, and in a JSON file when SMOA_AGENT_RANKING_FILE names one, so a restart does not forget it.

The file is read at start: one missing is a fresh ranking, one that cannot be read or is not a ranking
is logged and replaced at the next save. It is written whole (a temporary file renamed over it) at most
every SAVE_SECONDS after an answer was judged, and at shutdown; a write that fails is logged and never
fails a request. Each orchestrator replica keeps its own file: replicas that shared one would overwrite
each other's tallies.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from smoa_services.ensemble.agent_ranking import AgentRanking
from smoa_services.telemetry import attributes
from smoa_services.telemetry.instruments import Instruments

log = logging.getLogger(__name__)
SAVE_SECONDS = 5.0
# An agent's kept rate is a metric once it has been judged this often (decayed): written roles are new
# agents with every task, and a metric series each would grow the exporter's memory without end.
METRIC_AFTER_JUDGED = 10.0


class AgentStanding:
    def __init__(
        self,
        ranking: AgentRanking,
        path: Path | None = None,
        instruments: Instruments | None = None,
        save_seconds: float = SAVE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ranking, self.path, self.instruments = ranking, path, instruments
        self.save_seconds, self.clock = save_seconds, clock
        self.saved_at = clock()
        self.unsaved = False

    def load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            saved = json.loads(self.path.read_bytes())
            if not isinstance(saved, dict):
                raise ValueError("not a JSON object")
            self.ranking.restore(saved)
        except (OSError, ValueError, RecursionError) as e:
            log.warning("the agent ranking in %s is not usable (%s): starting afresh", self.path, e)

    def judged(self, agent: str, kept: bool, seconds: float, tokens: int, label: str) -> None:
        tally = self.ranking.observe(agent, kept, seconds, tokens, label)
        if self.instruments is not None and tally.judged >= METRIC_AFTER_JUDGED:
            self.instruments.agent_kept_rate.set(tally.kept_rate(), {attributes.AGENT: agent})
        self.unsaved = True
        if self.clock() - self.saved_at >= self.save_seconds:
            self.save()

    def save(self) -> None:
        if self.path is None or not self.unsaved:
            return
        self.saved_at, self.unsaved = self.clock(), False
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            partial.write_text(json.dumps(self.ranking.snapshot()))
            os.replace(partial, self.path)
        except OSError as e:
            self.unsaved = True
            log.warning("the agent ranking could not be saved to %s: %s", self.path, e)
