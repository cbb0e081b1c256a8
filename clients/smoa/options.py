"""GenerateOptions: everything a generation asks for besides the question, as one frozen value. The
clients, `smoa ask`, `smoa load` and `smoa eval` all build one, and smoa.request.generate_request turns it
into the wire message, so a field GenerateRequest gains is added here and there, and nowhere else
(tests/client/test_options_coverage.py fails until it is); the keyword form, GenerateOverrides, is generated
from it (python protos/generate.py).

    options = GenerateOptions(n=4, k=2, aggregation="rrf")
    client.generate("What is 6 x 7?", options)
    client.generate("What is 6 x 7?", options, max_layers=1)  # keyword arguments override it

A GenerateOptions is checked when it is made (dataclasses.replace makes one too): a bad field raises
ValueError (TypeError for a wrong type) naming it, before any call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from smoa.overrides import GenerateOverrides
from smoa.ranking import Aggregation, Selection
from smoa.request import JsonAnswer, ModelSettings, Skips, choice, options_message
from smoa.result import Mode
from smoa.tools import Tool


@dataclass(frozen=True)
class GenerateOptions:
    """None (and every other default) takes the service's default, except `mode`: SMoA unless told."""

    mode: Mode | str = Mode.SMOA
    # Proposers per layer, answers kept per layer, the layer cap.
    n: int | None = None
    k: int | None = None
    max_layers: int | None = None
    # Explicit proposer roles (fewer than n are reused in turn), or a description the roles are written
    # for; not both.
    roles: Sequence[str] | None = None
    task_description: str | None = None
    # Defaults for every agent (proposers, judge, moderator, aggregator): a model name or ModelSettings.
    model: ModelSettings | str | None = None
    # Settings of single proposers, by 0-based index, over `model`.
    agents: Mapping[int, ModelSettings | str] | None = None
    # Judge and moderator in one LLM call (True) or two (False); None: the service's default (fused).
    fused: bool | None = None
    # Tokens (in + out) the request may spend, checked between stages.
    token_budget: int | None = None
    # Same seed, same pipeline decisions (judge shuffles, sampling).
    seed: int | None = None
    # How the judge combines its ballots, and picks the k kept.
    aggregation: Aggregation | str | None = None
    selection: Selection | str | None = None
    # Proposers a layer needs to go on (the service's default is max(k, ceil(n/2))); the rest are cut off
    # after a bounded wait, and what was lost is in Result.degradations.
    quorum: int | None = None
    # Shuffled judge passes per layer, one LLM call each (1 to 8), their ballots combined by `aggregation`.
    judge_passes: int | None = None
    # A first layer grown while its answers disagree (SMOA, AUTO): this many proposers asked first, then
    # `first_layer_step` more at a time until they agree or all n answered (each ask a Step in the result).
    first_layer_start: int | None = None
    first_layer_step: int | None = None
    # That first layer's proposers asked in the order of the deployment's agent ranking (how often the judge
    # kept each agent, and what its answers cost), which always explores; the order is a Step ("ranked").
    rank_agents: bool | None = None
    # Which calls SMoA and AUTO may leave out when they would add nothing.
    skips: Skips | None = None
    # The answer ends before the first of these (up to 4), as a single model's would: the proposers and
    # the aggregator stop on them, the judge and the moderator do not.
    stop: str | Sequence[str] | None = None
    # Labels recorded with the request (its trace), never taken as who is calling.
    metadata: Mapping[str, str] | None = None
    # The answer as JSON (any object, or valid against a schema), checked before it is sent.
    response_format: JsonAnswer | None = None
    # Functions the answer may call instead of answering (Result.tool_calls); whether it may ("auto", the
    # default with tools), must ("required"), must not ("none") or must call the one named; and whether one
    # answer may call several.
    tools: Sequence[Tool] | None = None
    tool_choice: str | None = None
    parallel_tool_calls: bool | None = None

    def __post_init__(self) -> None:
        options_message(self)  # raises for the first bad field
        # One form whatever the caller gave, and copies of its own: a list or dict the caller changes
        # later must not change a checked GenerateOptions.
        object.__setattr__(self, "mode", choice("mode", Mode, self.mode))
        if self.aggregation is not None:
            object.__setattr__(self, "aggregation", choice("aggregation", Aggregation, self.aggregation))
        if self.selection is not None:
            object.__setattr__(self, "selection", choice("selection", Selection, self.selection))
        if self.roles is not None:
            object.__setattr__(self, "roles", tuple(self.roles))
        if self.agents is not None:
            object.__setattr__(self, "agents", dict(self.agents))
        if self.stop is not None and not isinstance(self.stop, str):
            object.__setattr__(self, "stop", tuple(self.stop))
        if self.metadata is not None:
            object.__setattr__(self, "metadata", dict(self.metadata))
        if self.tools is not None:
            object.__setattr__(self, "tools", tuple(self.tools))


def with_overrides(options: GenerateOptions | None, overrides: GenerateOverrides) -> GenerateOptions:
    """`options` (the defaults when None) with the keyword arguments of a call over it."""
    chosen = GenerateOptions() if options is None else options
    return dataclasses.replace(chosen, **overrides) if overrides else chosen
