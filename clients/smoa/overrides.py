"""Generated from GenerateOptions (smoa/options.py) by protos/generate.py: do not edit.

GenerateOverrides: GenerateOptions' fields as keyword arguments of generate() and stream(), each
overriding the GenerateOptions given, so that they type-check as keywords too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from smoa.ranking import Aggregation, Selection
from smoa.request import JsonAnswer, ModelSettings, Skips
from smoa.result import Mode
from smoa.tools import Tool


class GenerateOverrides(TypedDict, total=False):
    mode: Mode | str
    n: int | None
    k: int | None
    max_layers: int | None
    roles: Sequence[str] | None
    task_description: str | None
    model: ModelSettings | str | None
    agents: Mapping[int, ModelSettings | str] | None
    fused: bool | None
    token_budget: int | None
    seed: int | None
    aggregation: Aggregation | str | None
    selection: Selection | str | None
    quorum: int | None
    judge_passes: int | None
    first_layer_start: int | None
    first_layer_step: int | None
    rank_agents: bool | None
    skips: Skips | None
    stop: str | Sequence[str] | None
    metadata: Mapping[str, str] | None
    response_format: JsonAnswer | None
    tools: Sequence[Tool] | None
    tool_choice: str | None
    parallel_tool_calls: bool | None
