"""A FakeOpenAI script that answers every smoa caller at once and validly: the judge scores every
response it was shown, the moderator says continue, each proposer's answer differs by role (so neither
dedup nor the consensus check ends a layer early) and the aggregator writes a fixed answer."""

from __future__ import annotations

import json
import zlib
from typing import Any

from smoa_services.judge import prompt as judge_prompt
from smoa_services.moderator import prompt as moderator_prompt
from smoa_services.orchestrator.aggregator import AGGREGATOR_PROMPT
from tests.fakes.openai_endpoint import Reply, system_prompt
from tests.services.running_service import shown_responses

FINAL_ANSWER = "The synthesized answer is forty two"


def instant_reply(request: dict[str, Any]) -> Reply:
    system = system_prompt(request)
    if system.startswith(judge_prompt.SYSTEM):
        labels = list(shown_responses(request))
        return Reply(json.dumps({"scores": {label: 9 - i % 9 for i, label in enumerate(labels)}}))
    if system.startswith(moderator_prompt.SYSTEM):
        return Reply('{"decision": "continue", "reason": "another round may help"}')
    if system.startswith(AGGREGATOR_PROMPT) or not system:
        return Reply(FINAL_ANSWER)
    role = zlib.crc32(system.encode())
    return Reply(f"Speaking as role {role % 997} the count comes to {role % 1000} after careful thought")
