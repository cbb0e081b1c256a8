"""Consensus centrality: with no judgement to go on, the answer most similar to the others is most likely
right (the idea behind self-consistency). The judge falls back to it when its LLM gives no valid ranking,
the orchestrator when the judge service cannot be reached: never the first answer or a random one."""

from __future__ import annotations

from collections.abc import Sequence

import smoa_core_rs as core


def central_ranking(texts: Sequence[str]) -> tuple[list[int], list[float]]:
    """Indices best first, and each text's centrality score."""
    central = core.centrality(core.similarity_matrix(list(texts)))
    return list(central.ranking), list(central.scores)
