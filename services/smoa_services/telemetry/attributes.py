"""Every smoa span attribute and span event name, one constant each, so that one name means one thing, of
one type, in every service. Names from the OpenTelemetry conventions (gen_ai.*, rpc.*, server.*) are
not here: they belong to the conventions and are set where the convention says.

Content (texts, roles) is recorded only when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is on."""

from __future__ import annotations

# A generation (the orchestrator's server span).
MODE = "smoa.mode"  # str: smoa, moa, single, auto
# On smoa.caller.* metrics: a caller named in the quota file, else "other" (the label's values are bounded).
CALLER = "smoa.caller"
AGENT = "smoa.agent"  # str, an agent's key in the agent ranking (backend/model/hash of the role)
OUTCOME = "smoa.outcome"  # str: answered, failed, quota_exceeded
STOP_REASON = "smoa.stop_reason"  # str
LAYERS = "smoa.layers"  # int: layers run
DEGRADED = "smoa.degraded"  # bool; also the event of one degradation (with STAGE, LAYER, REASON)
TEXT = "smoa.text"  # str, content: the final answer

# A layer (the orchestrator's layer span) and the calls it makes.
LAYER = "smoa.layer"  # int, 1-based
N = "smoa.n"  # int: proposers asked
K = "smoa.k"  # int: answers kept
QUORUM = "smoa.quorum"  # int
PROPOSERS_LOST = "smoa.proposers_lost"  # int
KEPT_IDS = "smoa.kept_ids"  # list[str]
DEDUP_REMOVED = "smoa.dedup_removed"  # int
CANDIDATE_COUNT = "smoa.candidate_count"  # int: candidates the judge was shown
CANDIDATES = "smoa.candidates"  # str, content: JSON {id: text} of the layer's answers
REFERENCES = "smoa.references"  # int: references a proposer was shown
DECISION = "smoa.decision"  # str: stop, continue, unspecified
AGREEMENT = "smoa.agreement"  # float in [0, 1]
LLM_USED = "smoa.llm_used"  # bool: the moderator asked its LLM (no consensus first)
JUDGE_FALLBACK = "smoa.judge.fallback"  # bool: kept by consensus centrality, not by the judge's LLM
JUDGE_PASSES_FAILED = "smoa.judge.passes_failed"  # int
MODERATOR_FALLBACK = "smoa.moderator.fallback"  # bool: decided by rule, not by the moderator's LLM
STAGE = "smoa.stage"  # str, on DEGRADED events
REASON = "smoa.reason"  # str, on DEGRADED and step events

# Roles.
ROLES = "smoa.roles"  # list[str], content
ROLES_SOURCE = "smoa.roles.source"  # str: request, description, cache, settings, generic, fallback
ROLES_FALLBACK = "smoa.roles.fallback"  # event, with "error"

# One LLM call (beside the gen_ai.* conventions).
USAGE_ESTIMATED = "smoa.usage.estimated"  # bool: the backend reported no usage; counted by estimate
LLM_CALLS = "smoa.llm.calls"  # int: attempts, retries and hedges included

# A backend's circuit breaker changing state (event).
BREAKER = "smoa.breaker"
BACKEND = "smoa.backend"  # str: the named backend ("" is the default)
BREAKER_STATE = "smoa.breaker.state"  # str: closed, open, half_open


def request_metadata(key: str) -> str:
    """A GenerateRequest.metadata pair (str): the caller's labels, e.g. OpenAI's `user`. Not content: a
    caller's labels for its own request, set on the generation's span."""
    return f"smoa.request.metadata.{key}"


def step_event(action: str) -> str:
    """The event of a call left out or added (a Step: judge_skipped, moderator_skipped,
    synthesis_skipped, panel, escalated, ranked)."""
    return f"smoa.{action}"
