"""The generation policy of SMOA, dense MOA and SINGLE, in plain Python over the ports (ports.py).

SMOA (Li et al. 2024): per layer, n proposers answer in parallel (layer > 1 sees the previous layer's
kept answers as references); the judge keeps k; the moderator (or the judge itself when fused) decides
whether to stop. MOA (Wang et al. 2024): every answer goes forward, exactly max_layers layers, no judge, no
moderator. Both end with the aggregator over the last answers. SINGLE: one streamed call on the
conversation; it has no layers (nothing is proposed or judged, so a layer record would only mislead) and
its cost is the stage "single".

The token budget is checked between stages, and at least one layer always runs: there must be answers to
aggregate. When it stops a layer before judging, the aggregator gets that layer's answers unjudged; they
build on the previous layer's kept answers, so they are the best there is.

`run` is an async generator of events (progress, tokens, then Finished). A consumer that is cancelled
cancels the fan-out in flight with it (asyncio.TaskGroup).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncGenerator, Callable, Sequence

from opentelemetry import trace

from smoa_services.deadline import Deadline
from smoa_services.orchestrator.aggregator import Aggregator
from smoa_services.orchestrator.cost import CostLedger
from smoa_services.orchestrator.plan import Mode, Plan
from smoa_services.orchestrator.ports import (
    Chat,
    JudgeCall,
    PeerFailed,
    Peers,
    Proposal,
    usage_of,
)
from smoa_services.orchestrator.records import (
    Candidate,
    Decision,
    Event,
    Finished,
    LayerRecord,
    Progress,
    Result,
    Stage,
    StopReason,
    Token,
)
from smoa_services.orchestrator.roles import RoleWriter


class Pipeline:
    def __init__(
        self,
        chat: Chat,
        role_writer: RoleWriter,
        tracer: trace.Tracer,
        *,
        llm_budget_seconds: float,
        capture_content: bool = False,
    ):
        self.chat = chat
        self.role_writer = role_writer
        self.aggregator = Aggregator(chat)
        self.tracer = tracer
        self.llm_budget_seconds = llm_budget_seconds
        self.capture_content = capture_content

    async def run(self, plan: Plan, peers: Peers, deadline: Deadline) -> AsyncGenerator[Event, None]:
        run = _Run(plan, peers, lambda: deadline.timeout(self.llm_budget_seconds))
        if plan.mode is Mode.SINGLE:
            async for event in self._single(run):
                yield event
            return

        roles = await self._roles(run)
        yield run.progress(Stage.ROLES_READY, None)
        references: list[Candidate] = []
        answers: list[Candidate] = []
        stop: StopReason | None = None
        for layer in range(1, plan.max_layers + 1):
            if layer > 1 and run.over_budget():
                stop = StopReason.TOKEN_BUDGET
                break
            record = LayerRecord(layer)
            run.layers.append(record)
            with self.tracer.start_as_current_span(f"smoa.layer {layer}") as span:
                started = time.perf_counter()
                try:
                    answers = await self._propose(run, record, roles, references)
                    yield run.progress(Stage.PROPOSALS_DONE, record)
                    if plan.mode is Mode.MOA:
                        references = answers
                        record.kept_ids = [c.id for c in answers]
                        self._describe(span, plan, record)
                        continue
                    if run.over_budget():
                        self._describe(span, plan, record)
                        stop = StopReason.TOKEN_BUDGET
                        break
                    answers = references = await self._judge(run, record)
                    self._describe(span, plan, record)
                    yield run.progress(Stage.JUDGED, record)
                    if plan.fused_judge_moderator:
                        # The judge's decision came with the judgement; no moderator call.
                        yield run.progress(Stage.MODERATED, record)
                        # At the cap the judge says stop because no layers remain: that is MAX_LAYERS.
                        if record.decision is Decision.STOP and layer < plan.max_layers:
                            stop = StopReason.MODERATOR
                            break
                    elif layer < plan.max_layers:
                        if run.over_budget():
                            stop = StopReason.TOKEN_BUDGET
                            break
                        llm_used = await self._moderate(run, record, answers)
                        yield run.progress(Stage.MODERATED, record)
                        if record.decision is Decision.STOP:
                            stop = StopReason.MODERATOR if llm_used else StopReason.CONSENSUS
                            break
                finally:
                    run.timings.append((f"layer {layer}", time.perf_counter() - started))
                    span.set_attribute("smoa.decision", record.decision.value)
        if stop is None:
            stop = StopReason.FIXED_LAYERS if plan.mode is Mode.MOA else StopReason.MAX_LAYERS

        yield run.progress(Stage.AGGREGATING, None)
        started = time.perf_counter()
        text, model = "", ""
        async for piece in self.aggregator.write(plan.conversation, answers, plan.model, run.llm_timeout()):
            if isinstance(piece, str):
                yield Token(piece)
            else:
                run.ledger.add("aggregator", 0, usage_of(piece))
                text, model = piece.text, piece.model
        run.timings.append(("aggregator", time.perf_counter() - started))
        yield Finished(run.result(text, stop, list(roles), model))

    async def _single(self, run: _Run) -> AsyncGenerator[Event, None]:
        started = time.perf_counter()
        text, model = "", ""
        stream = self.chat.stream(run.plan.conversation, run.plan.model, timeout=run.llm_timeout())
        async for piece in stream:
            if isinstance(piece, str):
                yield Token(piece)
            else:
                run.ledger.add("single", 0, usage_of(piece))
                text, model = piece.text, piece.model
        run.timings.append(("single", time.perf_counter() - started))
        yield Finished(run.result(text, StopReason.FIXED_LAYERS, [], model))

    async def _roles(self, run: _Run) -> tuple[str, ...]:
        plan = run.plan
        started = time.perf_counter()
        assignment = await self.role_writer.assign(
            plan.n,
            plan.model,
            run.llm_timeout,
            explicit=plan.roles,
            description=plan.task_description,
            defaults=plan.default_roles,
        )
        run.timings.append(("roles", time.perf_counter() - started))
        for completion in assignment.completions:
            run.ledger.add("roles", 0, usage_of(completion))
        span = trace.get_current_span()
        span.set_attribute("smoa.roles.source", assignment.source)
        if assignment.source == "fallback":
            span.add_event("smoa.roles.fallback", {"error": assignment.error})
        if self.capture_content:
            span.set_attribute("smoa.roles", list(assignment.roles))
        return assignment.roles

    async def _propose(
        self, run: _Run, record: LayerRecord, roles: Sequence[str], references: Sequence[Candidate]
    ) -> list[Candidate]:
        plan = run.plan
        started = time.perf_counter()
        try:
            # A failure or a cancelled caller cancels every proposer still running.
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        run.peers.proposers.propose(roles[i], references, plan.proposer_models[i])
                    )
                    for i in range(plan.n)
                ]
        except BaseExceptionGroup as failures:
            raise _first(failures) from None
        proposals: list[Proposal] = [t.result() for t in tasks]
        record.timings.append(("proposer", time.perf_counter() - started))
        for p in proposals:
            run.ledger.add("proposer", record.layer, p.usage)
        record.candidates = [
            Candidate(f"L{record.layer}-P{i}", p.text, roles[i]) for i, p in enumerate(proposals)
        ]
        return record.candidates

    async def _judge(self, run: _Run, record: LayerRecord) -> list[Candidate]:
        plan = run.plan
        seed = plan.judge_seed(record.layer)
        started = time.perf_counter()
        judgement = await run.peers.judge.judge(
            JudgeCall(
                candidates=record.candidates,
                k=plan.k,
                layer=record.layer,
                max_layers=plan.max_layers,
                model=plan.model,
                fused=plan.fused_judge_moderator,
                # Unseeded requests still get a fresh shuffle per layer, so no position is favoured.
                seed=random.getrandbits(63) if seed is None else seed,
                aggregation=plan.aggregation,
                selection=plan.selection,
                passes=plan.judge_passes,
            )
        )
        record.timings.append(("judge", time.perf_counter() - started))
        run.ledger.add("judge", record.layer, judgement.usage)
        by_id = {c.id: c for c in record.candidates}
        kept = [by_id[i] for i in judgement.kept_ids if i in by_id]
        if not kept:
            raise PeerFailed("judge", "INTERNAL", f"kept none of the candidates: {judgement.kept_ids}")
        record.kept_ids = [c.id for c in kept]
        record.scores = list(judgement.scores)
        record.duplicate_ids = list(judgement.duplicate_ids)
        record.judge_fallback = judgement.fallback
        if plan.fused_judge_moderator:
            record.decision, record.reason = judgement.decision, judgement.reason
            record.agreement = judgement.agreement
        return kept

    async def _moderate(self, run: _Run, record: LayerRecord, kept: Sequence[Candidate]) -> bool:
        started = time.perf_counter()
        moderation = await run.peers.moderator.moderate(
            kept, record.layer, run.plan.max_layers, run.plan.model
        )
        record.timings.append(("moderator", time.perf_counter() - started))
        run.ledger.add("moderator", record.layer, moderation.usage)
        record.decision, record.reason = moderation.decision, moderation.reason
        record.agreement = moderation.agreement
        return moderation.llm_used

    def _describe(self, span: trace.Span, plan: Plan, record: LayerRecord) -> None:
        span.set_attribute("smoa.layer", record.layer)
        span.set_attribute("smoa.n", plan.n)
        span.set_attribute("smoa.k", plan.n if plan.mode is Mode.MOA else plan.k)
        span.set_attribute("smoa.kept_ids", record.kept_ids)
        span.set_attribute("smoa.dedup_removed", len(record.duplicate_ids))
        span.set_attribute("smoa.judge_fallback", record.judge_fallback)
        if self.capture_content:
            span.set_attribute("smoa.candidates", json.dumps({c.id: c.text for c in record.candidates}))


class _Run:
    """The state of one generation: what it spent, how long each stage took, the layers so far."""

    def __init__(self, plan: Plan, peers: Peers, llm_timeout: Callable[[], float]):
        self.plan = plan
        self.peers = peers
        self.llm_timeout = llm_timeout
        self.ledger = CostLedger()
        self.timings: list[tuple[str, float]] = []
        self.layers: list[LayerRecord] = []
        self.started = time.perf_counter()

    def over_budget(self) -> bool:
        budget = self.plan.token_budget
        return budget > 0 and self.ledger.total().tokens >= budget

    def progress(self, stage: Stage, record: LayerRecord | None) -> Progress:
        layer = 0 if record is None else record.layer
        trace = None if record is None else record.snapshot()
        return Progress(stage, layer, trace, time.perf_counter() - self.started)

    def result(self, text: str, stop: StopReason, roles: list[str], model: str) -> Result:
        timings = [*self.timings, ("total", time.perf_counter() - self.started)]
        return Result(text, self.plan.mode, self.layers, stop, self.ledger, timings, roles, model)


def _first(failures: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first real failure of a fan-out (the others are usually its cancelled siblings)."""
    first = failures.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
