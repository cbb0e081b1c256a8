"""The judge's policy: deduplicate, score the distinct candidates in shuffled anonymous passes, combine
the passes, keep k. Plain Python over an ``Ask`` callable, so it runs without gRPC.

Order of work and why:
1. Near-duplicates are clustered first (Rust) and only each cluster's representative is judged: the
   judge's prompt shrinks, and identical answers cannot take several of the k places.
2. Each pass shows the candidates under labels in its own seeded order and must score every label;
   a reply that fails validation is retried once with the exact error, then the pass counts as failed.
3. Passes are combined by a rank aggregation (Borda by default), which is robust to one pass using the
   0-10 scale differently from another; Kendall's W over the passes says how much they agreed.
4. When every pass failed (invalid replies, or the LLM itself failing or out of time), the consensus
   centrality of the texts ranks them (the answer most similar to the others is most likely right, the
   idea behind self-consistency), never the first or a random one; the outcome says it fell back.
5. k are kept by top-k, or by MMR when the caller wants the kept answers to differ from each other.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import smoa_core_rs as core
from smoa_services.ensemble.decision import Decision, ReasonedDecision, by_rule, layers_remain
from smoa_services.ensemble.ranking_methods import (
    DEFAULT_AGGREGATION,
    DEFAULT_SELECTION,
    Aggregation,
    Selection,
)
from smoa_services.judge.prompt import judge_messages, labels, shuffled_order
from smoa_services.judge.verdict import Verdict, parse_verdict, verdict_schema
from smoa_services.llm import Completion
from smoa_services.llm.chat_model import Ask
from smoa_services.llm.json_reply import ask_json


@dataclass(frozen=True)
class JudgeTask:
    conversation: Sequence[Mapping[str, str]]
    ids: Sequence[str]
    texts: Sequence[str]
    k: int
    passes: int = 1
    seed: int = 0
    aggregation: Aggregation = DEFAULT_AGGREGATION
    selection: Selection = DEFAULT_SELECTION
    fused: bool = False
    layer: int = 0
    max_layers: int = 0
    dedup_threshold: float = 0.8


@dataclass(frozen=True)
class PassBallot:
    """One pass: the scores it gave by candidate id, or why it failed."""

    scores: dict[str, float]
    failed: bool = False
    error: str = ""
    decision: Decision | None = None
    reason: str = ""


@dataclass(frozen=True)
class Cluster:
    representative_id: str
    # Every member, the representative included.
    member_ids: list[str]


@dataclass(frozen=True)
class JudgeOutcome:
    ranking: list[str]
    scores: dict[str, float]
    kept_ids: list[str]
    ballots: list[PassBallot] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    fallback: bool = False
    agreement: float = 0.0
    # Only for fused tasks.
    decision: Decision | None = None
    reason: str = ""

    @property
    def dedup_removed(self) -> int:
        return sum(len(c.member_ids) - 1 for c in self.clusters)


def fused_decision(task: JudgeTask, asked: bool, ballots: Sequence[PassBallot]) -> ReasonedDecision:
    """The stop/continue decision of a fused task: the passes' majority (a tie continues, since another
    layer is how disagreement gets resolved); without any valid decision, or when none was asked for (no
    layers remain), the rule's."""
    votes = [b for b in ballots if not b.failed and b.decision is not None]
    if not votes:
        rule = by_rule(task.layer, task.max_layers)
        if not asked:
            return rule
        return ReasonedDecision(rule.decision, f"the judge gave no valid decision; {rule.reason}")
    counts = Counter(b.decision for b in votes)
    decision = Decision.STOP if counts[Decision.STOP] > counts[Decision.CONTINUE] else Decision.CONTINUE
    reason = next(b.reason for b in votes if b.decision is decision)
    return ReasonedDecision(decision, reason or f"the judge decided to {decision.value}")


class Judge:
    async def judge(self, task: JudgeTask, ask: Ask) -> JudgeOutcome:
        found = core.dedup_near(list(task.texts), threshold=task.dedup_threshold)
        clusters = [
            Cluster(task.ids[members[0]], [task.ids[i] for i in members])
            for members in found.clusters
            if len(members) > 1
        ]
        ids = [task.ids[i] for i in found.representatives]
        texts = [task.texts[i] for i in found.representatives]
        keep = min(task.k, len(ids))
        if len(ids) == 1 and not task.fused:
            # Nothing to compare: every candidate says the same thing. Saves the LLM call.
            return JudgeOutcome(ids, {ids[0]: 1.0}, ids, clusters=clusters)
        # At the last layer only stop remains: the orchestrator sends no fused request there, and a caller
        # that does gets the rule's stop without the LLM being asked.
        decide = task.fused and layers_remain(task.layer, task.max_layers)
        # A pass that cannot get a valid reply (the LLM failing included) is a failed ballot, not an error:
        # only a bug fails a pass, and then the group cancels the others.
        async with asyncio.TaskGroup() as group:
            passes = [
                group.create_task(self._pass(task.conversation, ids, texts, task.seed, p, decide, ask))
                for p in range(task.passes)
            ]
        ballots = [p.result() for p in passes]
        completions = [c for _, used in ballots for c in used]
        votes = [b for b, _ in ballots]
        counted = [b for b in votes if not b.failed]
        similarity = core.similarity_matrix(texts)
        agreement = 0.0
        if counted:
            index = {id_: i for i, id_ in enumerate(ids)}
            combined = core.aggregate(
                [core.Ballot(scores={index[i]: s for i, s in b.scores.items()}) for b in counted],
                len(ids),
                method=task.aggregation,
            )
            order, scores = combined.ranking, combined.scores
            if len(counted) >= 2:
                agreement = combined.kendall_w or 0.0
        else:
            central = core.centrality(similarity)
            order, scores = central.ranking, central.scores
        chosen = order[:keep] if task.selection == "top_k" else core.mmr_top_k(scores, similarity, keep)
        decided = fused_decision(task, decide, votes) if task.fused else None
        return JudgeOutcome(
            ranking=[ids[i] for i in order],
            scores={ids[i]: scores[i] for i in range(len(ids))},
            kept_ids=[ids[i] for i in chosen],
            ballots=votes,
            clusters=clusters,
            completions=completions,
            fallback=not counted,
            agreement=agreement,
            decision=decided.decision if decided else None,
            reason=decided.reason if decided else "",
        )

    async def _pass(
        self,
        conversation: Sequence[Mapping[str, str]],
        ids: Sequence[str],
        texts: Sequence[str],
        seed: int,
        pass_index: int,
        decide: bool,
        ask: Ask,
    ) -> tuple[PassBallot, list[Completion]]:
        order = shuffled_order(len(ids), seed, pass_index)
        shown = labels(len(ids))
        messages = judge_messages(conversation, [texts[i] for i in order], decide)
        reply = await ask_json(
            ask,
            messages,
            lambda text: parse_verdict(text, shown, decide),
            schema=verdict_schema(shown, decide),
        )
        verdict: Verdict | None = reply.value
        if verdict is None:
            return PassBallot({}, failed=True, error=reply.error), reply.completions
        by_id = {ids[order[int(label) - 1]]: score for label, score in verdict.scores.items()}
        return PassBallot(by_id, decision=verdict.decision, reason=verdict.reason), reply.completions
