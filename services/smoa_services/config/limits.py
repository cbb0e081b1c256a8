"""What a request may ask for and spend: sizes, counts, budgets, and quotas over time per caller."""

from __future__ import annotations

from dataclasses import dataclass, field

import smoa_core_rs
from smoa_services.config.help_text import help_text


@dataclass(frozen=True)
class Limits:
    """limits: what one request may ask for, and what a caller may spend over time"""

    max_proposers_in_flight_per_caller: int = field(
        default=64,
        metadata=help_text(
            "the orchestrator's bound on the n of one caller's requests in flight, summed: what they put "
            "on the proposers at once (0: no bound)"
        ),
    )
    max_prompt_chars: int = field(
        default=200_000, metadata=help_text("largest prompt a request may make (INVALID_ARGUMENT beyond)")
    )
    max_messages: int = field(default=256, metadata=help_text("messages a conversation may hold"))
    max_message_chars: int = field(default=100_000, metadata=help_text("characters a message may hold"))
    max_role_chars: int = field(default=4_000, metadata=help_text("characters of a role or task description"))
    max_candidates: int = field(
        default=256, metadata=help_text("candidates a judge or moderator call may hold")
    )
    max_tokens_limit: int = field(
        default=8_192, metadata=help_text("largest max_tokens a request may ask for")
    )
    max_proposers: int = field(default=32, metadata=help_text("largest n a request may ask for"))
    max_layers_limit: int = field(default=10, metadata=help_text("largest max_layers a request may ask for"))
    default_token_budget: int = field(
        default=500_000, metadata=help_text("tokens a generation may spend when its request sets no budget")
    )
    quota_file: str = field(
        default="",
        metadata=help_text(
            'quotas per caller, JSON: {"*" | "name": {"tokens_per_minute", "tokens_per_day", '
            '"requests_per_minute"}}, read again when it changes (orchestrator; none: no quotas)'
        ),
    )
    admin_callers: str = field(
        default="", metadata=help_text("callers (comma-separated names) who may read every caller's usage")
    )
    redis_url: str = field(
        default="",
        metadata=help_text(
            "Redis holding the quota counters, shared by orchestrator replicas (none: in memory)"
        ),
    )
    quota_fail_open: bool = field(
        default=True,
        metadata=help_text(
            "admit requests unchecked when the quota store is unreachable (false: refuse them)"
        ),
    )

    def admin_caller_names(self) -> frozenset[str]:
        return frozenset(n.strip() for n in self.admin_callers.split(",") if n.strip())

    def checks(self) -> list[tuple[str, bool]]:
        return [
            ("max_proposers_in_flight_per_caller", self.max_proposers_in_flight_per_caller >= 0),
            ("max_messages", self.max_messages >= 1),
            ("max_message_chars", self.max_message_chars >= 1),
            ("max_role_chars", self.max_role_chars >= 1),
            # The core's similarity and aggregation are quadratic, and bounded there at MAX_CANDIDATES.
            ("max_candidates", 1 <= self.max_candidates <= smoa_core_rs.MAX_CANDIDATES),
            ("max_tokens_limit", self.max_tokens_limit >= 1),
            ("default_token_budget", self.default_token_budget >= 0),
        ]
