"""What `stream()` yields, in this order: `Progress` per stage of each layer, then `Token` pieces of the final
answer as they are written, then one `Summary` with the whole `Result` (whose text the tokens join to)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias

from smoa.result import Layer, Result


class Stage(str, Enum):
    ROLES_READY = "roles_ready"
    PROPOSALS_DONE = "proposals_done"  # trace.candidates are filled in
    JUDGED = "judged"  # ... and kept_ids, scores, duplicate_ids
    MODERATED = "moderated"  # ... and decision, reason, agreement
    AGGREGATING = "aggregating"  # the final answer's tokens come next
    # Not set, or a stage newer than this client.
    UNSPECIFIED = "unspecified"


@dataclass(frozen=True)
class Progress:
    stage: Stage
    # 0 for stages outside the layers.
    layer: int
    # The layer so far.
    trace: Layer
    # Seconds since the request started.
    elapsed: float


@dataclass(frozen=True)
class Token:
    """The next piece of the final answer."""

    text: str


@dataclass(frozen=True)
class Summary:
    """Always the last event."""

    result: Result


StreamEvent: TypeAlias = Progress | Token | Summary
