"""How a service serves: where it listens, how it drains, and how much it takes at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from smoa_services.config.help_text import help_text

DEFAULT_PORTS = {
    "orchestrator": 50051,
    "proposer": 50052,
    "judge": 50053,
    "moderator": 50054,
    "gateway": 8000,
}
# The front door shares itself between its callers; a peer's one caller is the orchestrator (no share).
# One caller's share of a service's calls in flight (of max_concurrent_rpcs, 256): a quarter at a peer,
# by end caller, so three can be at their share with room left for the rest.
PER_CALLER_DEFAULTS = {"orchestrator": 32, "proposer": 64, "judge": 64, "moderator": 64}


@dataclass(frozen=True)
class Serving:
    """serving: the listener, the drain, the calls taken at once"""

    host: str = field(default="127.0.0.1", metadata=help_text("address to bind; 0.0.0.0 in containers"))
    port: int = field(default=0, metadata=help_text("port to bind; 0 picks a free one (printed at start)"))
    drain_delay_seconds: float = field(
        default=5.0,
        metadata=help_text(
            "on SIGTERM, report NOT_SERVING this long with the listener still open (like a preStop hook), "
            "so probers and clients stop sending before the port closes"
        ),
    )
    grace_seconds: float = field(
        default=300.0,
        metadata=help_text(
            "then the time in-flight RPCs get to finish; at least max_generation_seconds, so a generation "
            "in flight completes (what is still running at its end fails UNAVAILABLE SHUTTING_DOWN)"
        ),
    )
    max_message_bytes: int = field(default=4 * 1024 * 1024, metadata=help_text("largest request/response"))
    max_concurrent_rpcs: int = field(
        default=256,
        metadata=help_text("calls in flight beyond which RESOURCE_EXHAUSTED (health never counts)"),
    )
    max_concurrent_rpcs_per_caller: int = field(
        default=0,
        metadata=help_text(
            "one caller's share of them, by end caller at a peer (0: no share; defaults: orchestrator 32, "
            "proposer, judge and moderator 64)"
        ),
    )
    max_connection_age_seconds: float = field(
        default=120.0, metadata=help_text("close connections this old so clients re-resolve DNS (replicas)")
    )

    def checks(self) -> list[tuple[str, bool]]:
        return [
            ("port", 0 <= self.port <= 65535),
            ("grace_seconds", self.grace_seconds >= 0),
            ("drain_delay_seconds", self.drain_delay_seconds >= 0),
            ("max_concurrent_rpcs", self.max_concurrent_rpcs >= 1),
            ("max_concurrent_rpcs_per_caller", self.max_concurrent_rpcs_per_caller >= 0),
        ]
