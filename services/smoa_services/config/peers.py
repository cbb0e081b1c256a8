"""The orchestrator's peers: where the proposer, judge and moderator are (dns:/// targets with round_robin
reach every replica), and how long it waits on them and on a whole generation."""

from __future__ import annotations

from dataclasses import dataclass, field

from smoa_services.config.backends import valid_hedge
from smoa_services.config.help_text import help_text


@dataclass(frozen=True)
class Peers:
    """peers (the orchestrator's): targets, budgets, hedges, the longest generation"""

    orchestrator_target: str = field(
        default="dns:///127.0.0.1:50051", metadata=help_text("orchestrator service (the gateway's)")
    )
    proposer_target: str = field(default="dns:///127.0.0.1:50052", metadata=help_text("proposer service"))
    judge_target: str = field(default="dns:///127.0.0.1:50053", metadata=help_text("judge service"))
    moderator_target: str = field(default="dns:///127.0.0.1:50054", metadata=help_text("moderator service"))
    call_budget_seconds: float = field(
        default=180.0, metadata=help_text("cap on one outgoing RPC when the caller set no shorter deadline")
    )
    peer_hedge_after: str = field(
        default="off",
        metadata=help_text("start a second judge/moderator RPC (another replica) after: off, p95 or seconds"),
    )
    peer_keepalive_seconds: float = field(
        default=2.0,
        metadata=help_text(
            "ping peers this often; one that does not answer within as long leaves the rotation"
        ),
    )
    max_generation_seconds: float = field(
        default=300.0, metadata=help_text("deadline of a generation whose caller set none (or a longer one)")
    )

    def checks(self) -> list[tuple[str, bool]]:
        return [
            ("call_budget_seconds", self.call_budget_seconds > 0),
            ("peer_hedge_after", valid_hedge(self.peer_hedge_after)),
            ("peer_keepalive_seconds", self.peer_keepalive_seconds >= 1),
            ("max_generation_seconds", self.max_generation_seconds > 0),
        ]
