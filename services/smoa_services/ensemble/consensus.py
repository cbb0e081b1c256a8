"""Whether answers agree, and which is most central, decided without an LLM call.

Agreement (the moderator's cheap check, and the orchestrator's before it calls the judge): two signals,
strongest first:
- answer keys (the final number, choice letter or boxed answer each response commits to): when every
  answer has one, the most common key's vote share is the agreement;
- otherwise the mean pairwise shingle Jaccard of the texts (near-identical answers).
When every answer has a key and the keys disagree, similarity is not consulted: two long derivations
that differ only in the final number are near-identical text and a real disagreement, and stopping there
would freeze the disagreement into the final answer. A single answer is not consensus: agreement needs
at least two independent answers to agree, and one answer says nothing about whether it is right. Its
agreement is reported as 0.0 (no evidence), not 1.0. Blank answers never count as agreeing (two empty
responses are textually identical and both useless).

Centrality: with no judgement to go on, the answer most similar to the others is most likely right (the
idea behind self-consistency). The judge falls back to it when its LLM gives no valid ranking, the
orchestrator when the judge service cannot be reached or need not be asked: never the first answer or a
random one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import smoa_core_rs as core


def central_ranking(texts: Sequence[str]) -> tuple[list[int], list[float]]:
    """Indices best first, and each text's centrality score."""
    central = core.centrality(core.similarity_matrix(list(texts)))
    return list(central.ranking), list(central.scores)


@dataclass(frozen=True)
class Agreement:
    consensus: bool
    # In [0, 1]: answer-key vote share, or mean pairwise similarity.
    agreement: float
    reason: str
    # When they agree by their answer keys: the indices of the answers committing to the agreed key.
    holders: tuple[int, ...] = ()


def mean_pairwise(similarity: Sequence[Sequence[float]]) -> float:
    n = len(similarity)
    pairs = [similarity[i][j] for i in range(n) for j in range(n) if i != j]
    return sum(pairs) / len(pairs) if pairs else 0.0


def agreement_of(texts: Sequence[str], threshold: float) -> Agreement:
    if len(texts) < 2:
        return Agreement(False, 0.0, "a single answer cannot show agreement")
    if any(not t.strip() for t in texts):
        return Agreement(False, 0.0, "an answer is empty")
    keys = core.answer_keys(list(texts))
    if all(key is not None for key in keys):
        key, votes = Counter(keys).most_common(1)[0]
        share = votes / len(keys)
        if share >= threshold:
            holders = tuple(i for i, k in enumerate(keys) if k == key)
            return Agreement(True, share, f"answers agree on {key}", holders)
        return Agreement(False, share, f"answers commit to different final answers ({share:.0%} agree)")
    similarity = mean_pairwise(core.similarity_matrix(list(texts)))
    if similarity >= threshold:
        return Agreement(True, similarity, "answers are near-identical")
    return Agreement(False, similarity, f"answers differ (mean similarity {similarity:.2f})")
