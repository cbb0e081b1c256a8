"""The e2e's verdict and figures: every expectation checked (held or not, in words), and per phase and
door the failed requests, the degraded share, p50/p99 against the fault-free phase, and how long the
fault took to be routed around. Written as e2e.json and as the text a person reads (e2e.txt)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.deployment.faults import Stop
from tests.e2e.deployment.scenario import Phase

# A fault counts as routed around when nothing it reached was due in the phase's last seconds.
QUIET_TAIL_SECONDS = 10.0


@dataclass
class Report:
    started: str
    expectations: list[tuple[bool, str]] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    smoke: dict[str, Any] = field(default_factory=dict)
    secure: dict[str, Any] = field(default_factory=dict)

    def expect(self, held: bool, what: str) -> None:
        self.expectations.append((held, what))

    @property
    def passed(self) -> bool:
        return bool(self.expectations) and all(held for held, _ in self.expectations)

    def add_phases(self, phases: Sequence[Phase]) -> None:
        for phase in phases:
            entry: dict[str, Any] = {
                "phase": phase.name,
                "fault": phase.fault.describe() if phase.fault else None,
                "expected": phase.fault.expected if phase.fault else "no request reached by anything",
                "doors": [f.as_json() for f in phase.figures],
                "audit": {"answers": phase.audit.answers, "unflagged": phase.audit.unflagged},
            }
            for f in phase.figures:
                self.expect(
                    f.failed == 0, f"{phase.name} ({f.door}): {f.failed} of {f.requests} requests failed"
                )
                if phase.fault is None:  # the straggler floor's check: a busy host is no fault
                    self.expect(f.degraded == 0, f"{phase.name} ({f.door}): {f.degraded} answers degraded")
                else:
                    self.expect(
                        f.quiet_tail_s >= QUIET_TAIL_SECONDS,
                        f"{phase.name} ({f.door}): routed around, nothing reached in the last "
                        f"{f.quiet_tail_s:.1f} s of the phase",
                    )
            self.expect(
                not phase.audit.unflagged and phase.audit.answers > 0,
                f"{phase.name}: {phase.audit.answers} audited answers, every degraded one flagged"
                + (f" (not: {phase.audit.unflagged[:3]})" if phase.audit.unflagged else ""),
            )
            if isinstance(phase.fault, Stop):
                seen = phase.fault.seen
                entry["drain"] = {
                    "not_serving_after_s": seen.not_serving_after,
                    "port_closed_after_s": seen.closed_after,
                    "exited_after_s": seen.exited_after,
                    "statuses": seen.statuses,
                }
                held = seen.not_serving_after is not None and (
                    seen.closed_after is None or seen.not_serving_after < seen.closed_after
                )
                self.expect(
                    held,
                    f"{phase.name}: NOT_SERVING at {seen.not_serving_after} s, before the port "
                    f"closed at {seen.closed_after} s",
                )
            self.phases.append(entry)

    def as_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "passed": self.passed,
            "expectations": [{"held": held, "what": what} for held, what in self.expectations],
            "timings": self.timings,
            "smoke": self.smoke,
            "phases": self.phases,
            "secure": self.secure,
        }

    def text(self) -> str:
        lines = [f"smoa e2e, {self.started}: {'PASSED' if self.passed else 'FAILED'}", ""]
        lines.append(
            f"{'phase':<20} {'door':<5} {'requests':>8} {'failed':>6} {'degraded':>9} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'p99 x':>6} {'reached':>7} {'routed around after':>20}"
        )
        for phase in self.phases:
            for d in phase["doors"]:
                routed = d["routed_around_after_s"]
                after = "-" if routed is None else f"{routed:.1f} s"
                lines.append(
                    f"{phase['phase']:<20} {d['door']:<5} {d['requests']:>8} {d['failed']:>6} "
                    f"{d['degraded_share']:>8.1%} {d['p50_ms']:>7.0f} {d['p99_ms']:>7.0f} "
                    f"{d['p99_vs_fault_free']:>6.2f} {d['reached']:>7} {after:>20}"
                )
        lines.append("")
        for phase in self.phases:
            if phase["fault"]:
                lines.append(f"{phase['phase']}: {phase['fault']}; expected: {phase['expected']}")
            if "drain" in phase:
                lines.append(f"  drain: {phase['drain']['statuses']}")
        lines.append("")
        lines += [f"{'ok  ' if held else 'FAIL'} {what}" for held, what in self.expectations]
        lines.append("")
        lines.append("timings: " + ", ".join(f"{k} {v:.0f}" for k, v in self.timings.items()))
        return "\n".join(lines) + "\n"
