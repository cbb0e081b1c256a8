"""The generation policy of SMOA, dense MOA and SINGLE, in plain Python over the ports (ports.py).

SMOA (Li et al. 2024): per layer, n proposers answer in parallel (layer > 1 sees the previous layer's
kept answers as references); the judge keeps k; while layers remain, the moderator (or the judge itself
when fused) decides whether to stop. The last layer is the cap, which the pipeline knows without asking.
MOA (Wang et al. 2024): every answer goes forward, exactly max_layers layers, no judge, no moderator. Both
end with the aggregator over the last answers. SINGLE: one streamed call on the conversation; it has no
layers (nothing is proposed or judged, so a layer record would only mislead) and its cost is the stage
"single".

Off the happy path the answer degrades; it does not fail (each degradation is recorded and flagged):
- a layer goes on once a quorum of its proposers answered (quorum.py); below the quorum it fails at once;
- a judge that cannot be reached is replaced by consensus centrality, a moderator by the rule (continue
  while layers remain: decision.by_rule), an aggregator by the best kept answer, a role writer by the
  generic roles;
- every call before the aggregator leaves time for it (timeline.py), and a layer that would not fit before
  the deadline is not started (STOP_REASON_DEADLINE).
What cannot degrade fails with its own status: a layer below its quorum, SINGLE's one call, and a stream
whose answer broke after tokens were sent.

The token budget is checked between stages, and at least one layer always runs: there must be answers to
aggregate. When it stops a layer before judging, the aggregator gets that layer's answers unjudged; they
build on the previous layer's kept answers, so they are the best there is.

`run` is an async generator of events (progress, tokens, then Finished). A consumer that is cancelled
cancels the calls in flight with it.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing

from opentelemetry import trace

from smoa_services.ensemble.agent_ranking import agent_key
from smoa_services.ensemble.answer_format import AnswerFormat, AnswerInvalid
from smoa_services.ensemble.consensus import Agreement, agreement_of, central_ranking
from smoa_services.ensemble.decision import Decision, by_rule, layers_remain
from smoa_services.llm.completion import Message, estimate_prompt, estimate_tokens
from smoa_services.llm.usage import Usage
from smoa_services.orchestrator.agent_standing import AgentStanding
from smoa_services.orchestrator.cost import CostLedger
from smoa_services.orchestrator.plan import Mode, Plan
from smoa_services.orchestrator.ports import Chat, JudgeCall, Moderation, Peers, Proposal
from smoa_services.orchestrator.prompt import aggregator_messages, in_format, repair
from smoa_services.orchestrator.quorum import MissingKind, QuorumPolicy, StragglerWait, gather_quorum
from smoa_services.orchestrator.records import (
    Candidate,
    Degradation,
    Event,
    Finished,
    LayerRecord,
    Progress,
    Result,
    Stage,
    Step,
    StopReason,
    Token,
)
from smoa_services.orchestrator.roles import RoleWriter
from smoa_services.orchestrator.timeline import Timeline
from smoa_services.rpc.failure import Failure, OutputNotValid, StreamInterrupted
from smoa_services.telemetry import attributes
from smoa_services.timing.latency import LatencyWindow


class Pipeline:
    def __init__(
        self,
        chat: Chat,
        role_writer: RoleWriter,
        tracer: trace.Tracer,
        *,
        llm_budget_seconds: float,
        straggler_wait: StragglerWait | None = None,
        max_prompt_chars: int = 200_000,
        capture_content: bool = False,
        agents: AgentStanding | None = None,
    ):
        self.chat = chat
        self.role_writer = role_writer
        self.tracer = tracer
        self.llm_budget_seconds = llm_budget_seconds
        self.straggler_wait = straggler_wait or StragglerWait()
        self.max_prompt_chars = max_prompt_chars
        self.capture_content = capture_content
        # The agent ranking: taught by every layer a judge ranks, followed by a grown first layer that asks.
        self.agents = agents
        # How long the final stage takes, across requests: the time every earlier call leaves for it.
        self.final_stage = LatencyWindow()

    async def run(
        self, plan: Plan, peers: Peers, timeline: Timeline, *, stream: bool = True
    ) -> AsyncGenerator[Event, None]:
        """`stream`: tokens reach the caller as they come, so a final answer that breaks after some were
        sent cannot be replaced by a fallback; without it, it can."""
        tools = plan.tool_use
        async with aclosing(self._events(plan, peers, timeline, stream)) as events:
            if tools is None:
                async for event in events:
                    yield event
                return
            # A reply is structured, so its one token is the whole checked reply: the caller gets its answer
            # or, in the result, its tool calls.
            reply = None
            async for event in events:
                if isinstance(event, Token):
                    reply = tools.reply(event.text)
                    if reply.text:
                        yield Token(reply.text)
                elif isinstance(event, Finished) and reply is not None:
                    answered = dataclasses.replace(event.result, text=reply.text, tool_calls=reply.tool_calls)
                    yield Finished(answered)
                else:
                    yield event

    async def _events(
        self, plan: Plan, peers: Peers, timeline: Timeline, stream: bool
    ) -> AsyncGenerator[Event, None]:
        run = _Run(plan, peers, timeline, stream)
        if plan.mode is Mode.SINGLE:
            async for event in self._final(run, "single", plan.conversation, candidates=[]):
                yield event
            yield Finished(run.result(StopReason.FIXED_LAYERS, []))
            return

        roles = await self._roles(run)
        yield run.progress(Stage.ROLES_READY, None)
        end = LayerEnd(answers=[], references=[])
        for layer in range(1, plan.max_layers + 1):
            if layer > 1 and (stop := self._no_room_for(run, layer)):
                end.stop = stop
                break
            async for event in self._layer(run, layer, roles, end):
                yield event
            if end.stop is not None:
                break
        answers, stop = end.answers, end.stop
        if stop is None:
            stop = StopReason.FIXED_LAYERS if plan.mode is Mode.MOA else StopReason.MAX_LAYERS

        if plan.sparse and plan.skip_synthesis_on_agreement:
            best = self._nothing_to_synthesize(run, answers)
            if best is not None and plan.answer_format.json:
                best = next(iter(valid(plan.answer_format, [best])), None)  # else the aggregator fixes it
            if best is not None:
                run.text, run.model = best.text, best.model
                yield Token(best.text)
                yield Finished(run.result(stop, list(roles)))
                return
        yield run.progress(Stage.AGGREGATING, None)
        messages = aggregator_messages(plan.conversation, answers, self.max_prompt_chars)
        async for event in self._final(run, "aggregator", messages, candidates=answers):
            yield event
        yield Finished(run.result(stop, list(roles)))

    async def _layer(
        self, run: _Run, layer: int, roles: Sequence[str], end: LayerEnd
    ) -> AsyncGenerator[Event, None]:
        """One layer: its proposals on `end.references`, then, by mode, the judge and the moderator's
        decision. Leaves in `end` the answers it kept, the next layer's references, and why the run
        stops here, if it does."""
        plan = run.plan
        record = LayerRecord(layer)
        run.layers.append(record)
        with self.tracer.start_as_current_span(f"smoa.layer {layer}") as span:
            started = time.perf_counter()
            try:
                if layer == 1 and plan.sparse and 0 < plan.panel < plan.n:
                    agreed = await self._panel(run, record, roles)
                else:
                    await self._propose(run, record, roles, end.references, range(plan.n))
                    agreed = self._agreed(run, record) if plan.skip_judge_on_consensus else None
                end.answers = record.candidates
                yield run.progress(Stage.PROPOSALS_DONE, record)
                if plan.mode is Mode.MOA:
                    end.references = end.answers
                    record.kept_ids = [c.id for c in end.answers]
                    self._describe(span, plan, record)
                    return
                if agreed is not None:
                    end.answers = end.references = self._keep_central(run, record, agreed)
                    self._describe(span, plan, record)
                    yield run.progress(Stage.JUDGED, record)
                    end.stop = StopReason.CONSENSUS
                    return
                if run.over_budget():
                    self._describe(span, plan, record)
                    end.stop = StopReason.TOKEN_BUDGET
                    return
                end.answers = end.references = await self._judge(run, record)
                if not record.judge_fallback:
                    self._teach(run, record, roles)
                self._describe(span, plan, record)
                yield run.progress(Stage.JUDGED, record)
                if not layers_remain(layer, plan.max_layers):
                    return  # nothing to decide at the cap: the loop's end is the stop (MAX_LAYERS)
                if plan.fused_judge_moderator:
                    # The judge's decision came with the judgement; no moderator call.
                    yield run.progress(Stage.MODERATED, record)
                    if record.decision is Decision.STOP:
                        end.stop = StopReason.MODERATOR
                    return
                # No room for another layer, whatever the moderator would say: save its call.
                if stop := self._no_room_for(run, layer + 1):
                    end.stop = stop
                    return
                if self._kept_agree(run, record, end.answers):
                    yield run.progress(Stage.MODERATED, record)
                    end.stop = StopReason.CONSENSUS
                    return
                llm_used = await self._moderate(run, record, end.answers)
                yield run.progress(Stage.MODERATED, record)
                if record.decision is Decision.STOP:
                    end.stop = StopReason.MODERATOR if llm_used else StopReason.CONSENSUS
            finally:
                elapsed = time.perf_counter() - started
                run.timings.append((f"layer {layer}", elapsed))
                run.longest_layer = max(run.longest_layer, elapsed)
                decision = record.decision.value if record.decision else "unspecified"
                span.set_attribute(attributes.DECISION, decision)

    @staticmethod
    def _no_room_for(run: _Run, layer: int) -> StopReason | None:
        """Why `layer` cannot start: the budget is spent, or it would not fit in the time left (flagged as
        a degradation); None when it can."""
        if run.over_budget():
            return StopReason.TOKEN_BUDGET
        if not run.layer_fits():
            run.degrade("deadline", layer, run.no_time_for("layer", layer))
            return StopReason.DEADLINE
        return None

    async def _final(
        self, run: _Run, stage: str, messages: Sequence[Message], candidates: Sequence[Candidate]
    ) -> AsyncIterator[Event]:
        """The last call (aggregator or SINGLE): streamed text, or the checked structured answer."""
        if run.plan.answer_format.json:
            yield await self._final_structured(run, stage, messages, candidates)
        else:
            async for event in self._final_text(run, stage, messages, candidates[0] if candidates else None):
                yield event

    async def _final_structured(
        self, run: _Run, stage: str, messages: Sequence[Message], candidates: Sequence[Candidate]
    ) -> Token:
        """The answer in the requested format, checked before anything is sent: asked for in that format,
        asked once more with the problem named if it is not valid and time allows, else the best kept
        answer that is valid; with none, the request fails (OutputNotValid) rather than answer invalid."""
        form, started = run.plan.answer_format, time.perf_counter()
        asked = in_format(messages, form.instruction())
        problem, failed = "", None
        for attempt in range(2):
            left = run.timeline.left()
            if attempt and left is not None and left < time.perf_counter() - started:
                break  # no time for a second call as long as the first
            try:
                completion = await self.chat.complete(
                    asked,
                    run.plan.answer_model,
                    timeout=run.timeline.final_timeout(self.llm_budget_seconds),
                    json_mode=True,
                    schema=form.schema_object,
                )
            except Failure as failure:
                problem, failed = f"the {stage} failed ({failure})", failure
                break
            run.ledger.add(stage, 0, Usage.of([completion]))
            try:
                run.text, run.model = form.check(completion.text), completion.model
            except AnswerInvalid as e:
                problem = f"the {stage}'s answer is not valid: {e}"
                run.step(0, "format_repair", f"{problem}; asked again with the problem named")
                asked = repair(asked, completion.text, str(e))
                continue
            run.timings.append((stage, time.perf_counter() - started))
            self.final_stage.observe(time.perf_counter() - started)
            return Token(run.text)
        run.timings.append((stage, time.perf_counter() - started))
        fallback = next(iter(valid(form, candidates)), None)
        if fallback is None:
            # A call that failed fails the request with its own status (SINGLE's has nothing to fall back on).
            raise failed or OutputNotValid(problem)
        return self._fall_back(run, stage, problem, fallback)

    async def _final_text(
        self, run: _Run, stage: str, messages: Sequence[Message], fallback: Candidate | None
    ) -> AsyncIterator[Event]:
        """The streamed last call (aggregator or SINGLE). Should it fail before a token reached the caller,
        `fallback` (the best kept answer) is the answer; after, the stream ends with StreamInterrupted."""
        started = time.perf_counter()
        sent = 0
        try:
            stream = self.chat.stream(
                messages, run.plan.answer_model, timeout=run.timeline.final_timeout(self.llm_budget_seconds)
            )
            async for piece in stream:
                if isinstance(piece, str):
                    sent += 1
                    yield Token(piece)
                else:
                    run.ledger.add(stage, 0, Usage.of([piece]))
                    run.text, run.model = piece.text, piece.model
        except Failure as failure:
            if sent and run.stream:
                raise StreamInterrupted(failure, sent) from failure
            if fallback is None:
                raise
            yield self._fall_back(run, stage, f"the aggregator failed ({failure})", fallback)
            run.timings.append((stage, time.perf_counter() - started))
            return
        if fallback is not None and not run.text.strip():
            # A small model can end its answer at once; nothing is no synthesis (seen on the embedded model).
            yield self._fall_back(run, stage, "the aggregator wrote nothing", fallback)
        duration = time.perf_counter() - started
        run.timings.append((stage, duration))
        # Only stages that answered: how long a failure took to give up says nothing about the stage.
        self.final_stage.observe(duration)

    @staticmethod
    def _fall_back(run: _Run, stage: str, why: str, fallback: Candidate) -> Token:
        """The best kept answer in place of the aggregator's, and the answer says so."""
        kept = "kept first that is valid" if run.plan.answer_format.json else "kept first"
        run.degrade(stage, 0, f"{why}; the answer is {fallback.id}, {kept}")
        run.text, run.model = fallback.text, fallback.model
        return Token(fallback.text)

    async def _roles(self, run: _Run) -> tuple[str, ...]:
        plan = run.plan
        started = time.perf_counter()
        assignment = await self.role_writer.assign(
            plan.n,
            plan.model,
            lambda: run.timeline.call_timeout(self.llm_budget_seconds),
            explicit=plan.roles,
            description=plan.task_description,
            defaults=plan.default_roles,
        )
        run.timings.append(("roles", time.perf_counter() - started))
        for completion in assignment.completions:
            run.ledger.add("roles", 0, Usage.of([completion]))
        span = trace.get_current_span()
        span.set_attribute(attributes.ROLES_SOURCE, assignment.source)
        if assignment.source == "fallback":
            span.add_event(attributes.ROLES_FALLBACK, {"error": assignment.error})
            run.degrade("roles", 0, f"no roles were written ({assignment.error}); the generic roles answer")
        if self.capture_content:
            span.set_attribute(attributes.ROLES, list(assignment.roles))
        return assignment.roles

    async def _panel(self, run: _Run, record: LayerRecord, roles: Sequence[str]) -> Agreement | None:
        """A first layer grown while its answers disagree (the agreement stop of Adaptive-Consistency and
        ESC, across agents): a panel of proposers first, then more (`panel_step` at a time, or the rest)
        until the answers agree or all n answered. Answers that agree are the layer (and, with nothing left
        to synthesize, the answer); otherwise the layer goes on as SMOA's."""
        plan = run.plan
        order = list(range(plan.n))
        if plan.rank_agents and self.agents is not None:
            order = self.agents.ranking.order([self._agent(plan, roles, i) for i in order])
            asked_first = ", ".join(f"P{i}" for i in order)
            run.step(record.layer, "ranked", f"proposers asked in the agent ranking's order: {asked_first}")
        run.step(record.layer, "panel", f"{plan.panel} of {plan.n} proposers asked first")
        # One answer is enough to go on: a lost panelist is made up for by the rest of the layer.
        await self._propose(run, record, roles, [], order[: plan.panel], quorum=1)
        asked = plan.panel
        while asked < plan.n:
            found = agreement_of([c.text for c in record.candidates], plan.consensus_threshold)
            if found.consensus:
                return found
            more = min(plan.panel_step or plan.n, plan.n - asked)
            why = f"{len(record.candidates)} answers do not agree ({found.reason}): {more} more asked"
            run.step(record.layer, "escalated", why)
            # Until the last proposers, one answer is enough to go on; the last bring the layer to its quorum.
            quorum = None if asked + more == plan.n else 1
            await self._propose(run, record, roles, [], order[asked : asked + more], quorum=quorum)
            asked += more
        return self._agreed(run, record) if plan.skip_judge_on_consensus else None

    @staticmethod
    def _agent(plan: Plan, roles: Sequence[str], i: int) -> str:
        choice = plan.proposer_models[i]
        return agent_key(roles[i], choice.backend, choice.model)

    def _teach(self, run: _Run, record: LayerRecord, roles: Sequence[str]) -> None:
        """What the judge kept of this layer, and what each answer cost, to the agent ranking."""
        if self.agents is None:
            return
        kept = set(record.kept_ids)
        for c in record.candidates:
            i, seconds, tokens = run.answered[c.id]
            self.agents.judged(self._agent(run.plan, roles, i), c.id in kept, seconds, tokens, roles[i])

    @staticmethod
    def _agreed(run: _Run, record: LayerRecord) -> Agreement | None:
        found = agreement_of([c.text for c in record.candidates], run.plan.consensus_threshold)
        return found if found.consensus else None

    @staticmethod
    def _rank_by_centrality(record: LayerRecord, k: int) -> list[Candidate]:
        """The layer ranked with no judgement to go on: every answer scored by its centrality, the k most
        central kept."""
        order, scores = central_ranking([c.text for c in record.candidates])
        kept = [record.candidates[i] for i in order[:k]]
        record.kept_ids = [c.id for c in kept]
        record.scores = [(record.candidates[i].id, scores[i]) for i in order]
        return kept

    def _keep_central(self, run: _Run, record: LayerRecord, agreed: Agreement) -> list[Candidate]:
        """A layer whose answers agree needs no judge to rank them, nor a moderator to say stop."""
        kept = self._rank_by_centrality(record, run.plan.k)
        record.decision, record.reason, record.agreement = Decision.STOP, agreed.reason, agreed.agreement
        why = f"{agreed.reason}: kept by centrality, no judge or moderator call"
        run.step(record.layer, "judge_skipped", why)
        return kept

    @staticmethod
    def _nothing_to_synthesize(run: _Run, answers: Sequence[Candidate]) -> Candidate | None:
        """The best of the answers when an aggregator could only restate them: one answer, or answers that
        agree (the first, best ranked, of those holding the answer they agree on)."""
        if len(answers) == 1:
            run.step(0, "synthesis_skipped", f"one answer to synthesize ({answers[0].id}): it is the answer")
            return answers[0]
        found = agreement_of([c.text for c in answers], run.plan.consensus_threshold)
        if not found.consensus:
            return None
        best = answers[found.holders[0]] if found.holders else answers[0]
        run.step(0, "synthesis_skipped", f"{found.reason}: {best.id} is the answer, no aggregator call")
        return best

    async def _propose(
        self,
        run: _Run,
        record: LayerRecord,
        roles: Sequence[str],
        references: Sequence[Candidate],
        indices: Sequence[int],
        quorum: int | None = None,
    ) -> None:
        """Asks the proposers at `indices` (of the layer's n) and adds their answers to the layer. They must
        bring the layer to its quorum, unless `quorum` says how many of them are needed."""
        plan = run.plan
        started = time.perf_counter()
        propose = run.peers.proposers.propose
        seconds: dict[int, float] = {}

        async def timed(i: int) -> Proposal:
            began = time.perf_counter()
            proposal = await propose(roles[i], references, plan.proposer_models[i])
            seconds[i] = time.perf_counter() - began
            return proposal

        calls = {i: (lambda i=i: timed(i)) for i in indices}
        # The layer's quorum counts every answer it has; a part of the layer needs what is still missing.
        needed = quorum or min(len(indices), max(1, (plan.quorum or plan.n) - len(record.candidates)))
        policy = QuorumPolicy(needed, self.straggler_wait)
        gathered = await gather_quorum(calls, policy, record.layer)
        record.timings.append(("proposer", time.perf_counter() - started))
        for proposal in gathered.answers.values():
            run.ledger.add("proposer", record.layer, proposal.usage)
        # A proposer cut off or out of time was working on its prompt, which may be billed: counted as one
        # call with that prompt's estimated tokens. (One that failed reported no work.)
        abandoned = sum(m.kind is not MissingKind.FAILED for m in gathered.missing)
        if abandoned:
            prompt = estimate_prompt(run.plan.conversation) + sum(estimate_tokens(c.text) for c in references)
            run.ledger.add("proposer", record.layer, Usage(prompt * abandoned, 0, abandoned, estimated=True))
        record.failures += gathered.missing
        if gathered.missing:
            lost = "; ".join(m.describe() for m in gathered.missing)
            run.degrade(
                "proposer", record.layer, f"{len(gathered.missing)} of {plan.n} proposers lost: {lost}"
            )
        for i, p in gathered.answers.items():
            record.candidates.append(Candidate(f"L{record.layer}-P{i}", p.text, roles[i], p.model))
            run.answered[f"L{record.layer}-P{i}"] = (i, seconds[i], p.usage.output_tokens)

    async def _judge(self, run: _Run, record: LayerRecord) -> list[Candidate]:
        plan = run.plan
        seed = plan.judge_seed(record.layer)
        k = min(plan.k, len(record.candidates))
        # A fused judge decides only while layers remain; at the cap the pipeline knows the answer.
        decide = plan.fused_judge_moderator and layers_remain(record.layer, plan.max_layers)
        started = time.perf_counter()
        try:
            judgement = await run.peers.judge.judge(
                JudgeCall(
                    candidates=record.candidates,
                    k=k,
                    layer=record.layer,
                    max_layers=plan.max_layers,
                    model=plan.model,
                    decide=decide,
                    # Unseeded requests still get a fresh shuffle per layer, so no position is favoured.
                    seed=random.getrandbits(63) if seed is None else seed,
                    aggregation=plan.aggregation,
                    selection=plan.selection,
                    passes=plan.judge_passes,
                )
            )
        except Failure as failure:
            return self._judge_fallback(run, record, k, failure, started)
        record.timings.append(("judge", time.perf_counter() - started))
        run.ledger.add("judge", record.layer, judgement.usage)
        by_id = {c.id: c for c in record.candidates}
        kept = [by_id[i] for i in judgement.kept_ids if i in by_id]
        if not kept:
            # A judge that keeps none of what it was shown is lying: rank without it.
            detail = f"the judge kept none of the candidates: {judgement.kept_ids}"
            return self._judge_fallback(run, record, k, detail, started)
        record.kept_ids = [c.id for c in kept]
        record.scores = list(judgement.scores)
        record.duplicate_ids = list(judgement.duplicate_ids)
        record.judge_fallback = judgement.fallback
        if judgement.fallback:
            run.degrade(
                "judge", record.layer, "the judge's LLM gave no valid ranking: kept by consensus centrality"
            )
        if plan.fused_judge_moderator:
            record.agreement = judgement.agreement
            if decide and judgement.decision is not None:
                record.decision, record.reason = judgement.decision, judgement.reason
            else:
                self._decide_by_rule(run, record)
        return kept

    def _judge_fallback(
        self, run: _Run, record: LayerRecord, k: int, failure: Failure | str, started: float
    ) -> list[Candidate]:
        kept = self._rank_by_centrality(record, k)
        record.timings.append(("judge", time.perf_counter() - started))
        record.judge_fallback = True
        run.degrade("judge", record.layer, f"{failure}; kept by consensus centrality")
        if run.plan.fused_judge_moderator:
            self._decide_by_rule(run, record)
        return kept

    @staticmethod
    def _decide_by_rule(run: _Run, record: LayerRecord) -> None:
        """A fused layer's decision where the judge gave none: at the cap it was not asked, else it failed."""
        rule = by_rule(record.layer, run.plan.max_layers)
        record.decision, record.reason = rule.decision, rule.reason

    @staticmethod
    def _kept_agree(run: _Run, record: LayerRecord, kept: Sequence[Candidate]) -> bool:
        """The moderator's own first check, made here: kept answers that agree stop the run, and asking
        the moderator would only cost a call to hear it."""
        found = agreement_of([c.text for c in kept], run.plan.consensus_threshold)
        if not found.consensus:
            return False
        record.decision, record.reason, record.agreement = Decision.STOP, found.reason, found.agreement
        why = f"{found.reason}: the kept answers agree, no moderator call"
        run.step(record.layer, "moderator_skipped", why)
        return True

    async def _moderate(self, run: _Run, record: LayerRecord, kept: Sequence[Candidate]) -> bool:
        started = time.perf_counter()
        try:
            moderation = await run.peers.moderator.moderate(
                kept, record.layer, run.plan.max_layers, run.plan.model
            )
        except Failure as failure:
            rule = by_rule(record.layer, run.plan.max_layers)
            reason = f"{rule.reason} (the moderator failed: {failure})"
            moderation = Moderation(rule.decision, reason, fallback=True)
        record.timings.append(("moderator", time.perf_counter() - started))
        run.ledger.add("moderator", record.layer, moderation.usage)
        record.decision, record.reason = moderation.decision, moderation.reason
        record.agreement = moderation.agreement
        record.moderator_fallback = moderation.fallback
        if moderation.fallback:
            run.degrade("moderator", record.layer, moderation.reason)
        return moderation.llm_used

    def _describe(self, span: trace.Span, plan: Plan, record: LayerRecord) -> None:
        span.set_attribute(attributes.LAYER, record.layer)
        span.set_attribute(attributes.N, plan.n)
        span.set_attribute(attributes.K, plan.n if plan.mode is Mode.MOA else plan.k)
        span.set_attribute(attributes.QUORUM, plan.quorum or plan.n)
        span.set_attribute(attributes.PROPOSERS_LOST, len(record.failures))
        span.set_attribute(attributes.KEPT_IDS, record.kept_ids)
        span.set_attribute(attributes.DEDUP_REMOVED, len(record.duplicate_ids))
        span.set_attribute(attributes.JUDGE_FALLBACK, record.judge_fallback)
        if self.capture_content:
            span.set_attribute(attributes.CANDIDATES, json.dumps({c.id: c.text for c in record.candidates}))


@dataclasses.dataclass
class LayerEnd:
    """What the layers so far leave: the answers kept, the next layer's references, and why the run stops,
    once it does."""

    answers: list[Candidate]
    references: list[Candidate]
    stop: StopReason | None = None


class _Run:
    """The state of one generation: what it spent, how long each stage took, the layers so far, and what
    degraded."""

    def __init__(self, plan: Plan, peers: Peers, timeline: Timeline, stream: bool):
        self.plan = plan
        self.peers = peers
        self.timeline = timeline
        self.stream = stream
        self.ledger = CostLedger()
        self.timings: list[tuple[str, float]] = []
        self.layers: list[LayerRecord] = []
        self.degradations: list[Degradation] = []
        self.steps: list[Step] = []
        self.longest_layer = 0.0
        self.text, self.model = "", ""
        self.started = time.perf_counter()
        # Each answer's proposer index, seconds and output tokens, by candidate id: what the agent ranking
        # learns once a judge ranked the answer.
        self.answered: dict[str, tuple[int, float, int]] = {}

    def over_budget(self) -> bool:
        budget = self.plan.token_budget
        return budget > 0 and self.ledger.total().tokens >= budget

    def layer_fits(self) -> bool:
        return self.timeline.fits(self.longest_layer)

    def no_time_for(self, what: str, layer: int) -> str:
        left = self.timeline.left() or 0.0
        return (
            f"{what} {layer} not started: {left:.2f}s left, a layer took {self.longest_layer:.2f}s and "
            f"{self.timeline.reserve():.2f}s are kept for the aggregator"
        )

    def step(self, layer: int, action: str, reason: str) -> None:
        self.steps.append(Step(layer, action, reason))
        trace.get_current_span().add_event(
            attributes.step_event(action), {attributes.LAYER: layer, attributes.REASON: reason}
        )

    def degrade(self, stage: str, layer: int, reason: str) -> None:
        self.degradations.append(Degradation(stage, layer, reason))
        trace.get_current_span().add_event(
            attributes.DEGRADED, {attributes.STAGE: stage, attributes.LAYER: layer, attributes.REASON: reason}
        )

    def progress(self, stage: Stage, record: LayerRecord | None) -> Progress:
        layer = 0 if record is None else record.layer
        snapshot = None if record is None else record.snapshot()
        return Progress(stage, layer, snapshot, time.perf_counter() - self.started)

    def result(self, stop: StopReason, roles: list[str]) -> Result:
        timings = [*self.timings, ("total", time.perf_counter() - self.started)]
        return Result(
            self.text,
            self.plan.mode,
            self.layers,
            stop,
            self.ledger,
            timings,
            roles,
            self.model,
            self.degradations,
            self.steps,
        )


def valid(form: AnswerFormat, candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates whose text is valid in `form`, in their order, each as its canonical JSON."""
    found = []
    for candidate in candidates:
        try:
            found.append(dataclasses.replace(candidate, text=form.check(candidate.text)))
        except AnswerInvalid:
            continue
    return found
