"""What `smoa ask` prints about a generation for people: one line per progress event, and a few summary
lines (why it stopped, what it cost, where the time went)."""

from __future__ import annotations

from smoa.events import Progress, Stage
from smoa.result import Result


def progress_line(progress: Progress) -> str | None:
    """None for stages not worth a line (roles ready)."""
    trace = progress.trace
    if progress.stage == Stage.PROPOSALS_DONE:
        ids = " ".join(c.id for c in trace.candidates)
        lost = "".join(f", {f.id} {f.kind.value.replace('_', ' ')}" for f in trace.failures)
        return f"layer {progress.layer}: {len(trace.candidates)} proposals ({ids}){lost}"
    if progress.stage == Stage.JUDGED:
        kept = ", ".join(f"{i} ({trace.scores[i]:.2f})" if i in trace.scores else i for i in trace.kept_ids)
        dupes = f", {len(trace.duplicate_ids)} duplicates dropped" if trace.duplicate_ids else ""
        fallback = " [judge failed: consensus fallback]" if trace.judge_fallback else ""
        return f"layer {progress.layer}: kept {kept}{dupes}{fallback}"
    if progress.stage == Stage.MODERATED:
        decision = trace.decision.name if trace.decision else "NO DECISION"
        rule = " [moderator failed: by rule]" if trace.moderator_fallback else ""
        return f"layer {progress.layer}: {decision} (agreement {trace.agreement:.2f}){rule}: {trace.reason}"
    if progress.stage == Stage.AGGREGATING:
        return "aggregating:"
    return None


def summary_lines(result: Result) -> list[str]:
    total = result.cost.total
    stages = ", ".join(
        f"{stage} {u.calls} calls {u.input_tokens}/{u.output_tokens}"
        for stage, u in result.cost.by_stage().items()
    )
    estimated = " (some estimated)" if total.estimated else ""
    timings = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in result.timings.items())
    degraded = [f"degraded: {d.stage}" + (f" (layer {d.layer})" if d.layer else "") + f": {d.reason}"
                for d in result.degradations]  # fmt: skip
    return [
        *degraded,
        f"stop: {result.stop_reason.name} after {len(result.layers)} layer(s) · mode {result.mode.name}",
        f"cost: {total.calls} LLM calls, {total.input_tokens} input / {total.output_tokens} output tokens"
        f"{estimated} [{stages}]",
        f"time: {timings}",
    ]
