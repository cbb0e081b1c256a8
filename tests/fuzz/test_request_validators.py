"""Every request validator on arbitrary requests, under real Settings (the defaults, and small limits that
random requests cross often): it never raises, names only real field paths, refuses in a status small
enough to reach the caller, and whatever it accepts is within every documented limit."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf.message import DecodeError, Message
from hypothesis import event, example, given, target
from hypothesis import strategies as st

from smoa.v1 import common_pb2, judge_pb2, moderator_pb2, orchestrator_pb2, proposer_pb2
from smoa_services.config import MAX_JUDGE_PASSES, Settings
from smoa_services.ensemble.ranking_methods import known_aggregation, known_selection
from smoa_services.judge.request import judge_violations
from smoa_services.moderator.request import moderate_violations
from smoa_services.orchestrator.request import check_request, plan_of
from smoa_services.proposer.request import propose_violations
from smoa_services.rpc.failure import InvalidArgument, Violation
from tests.fuzz.protobuf_messages import Shape, messages, wire_bytes
from tests.fuzz_budget import fuzz

USER = common_pb2.CHAT_ROLE_USER
ROLES = (common_pb2.CHAT_ROLE_SYSTEM, USER, common_pb2.CHAT_ROLE_ASSISTANT)
BACKENDS = '{"alt": {"base_url": "http://127.0.0.1:9/v1", "model": "alt-model"}}'
# gRPC clients refuse trailers over 8 KiB at random and over 16 KiB always: a refusal bigger than that
# reaches the caller as RESOURCE_EXHAUSTED with none of its violations (and looks retryable).
TRAILER_BUDGET = 6 * 1024


def small_settings(n: int, k: int, quorum: int) -> Settings:
    settings = Settings(
        max_prompt_chars=120, max_messages=5, max_message_chars=50, max_role_chars=30, max_candidates=4,
        max_tokens_limit=100, backends=BACKENDS, n=n, k=k, quorum=quorum,
    )  # fmt: skip
    settings.validate()
    return settings


SETTINGS = st.one_of(
    st.just(Settings()),
    st.builds(small_settings, st.integers(1, 32), st.integers(1, 6), st.integers(0, 6)),
)


def shape_for(settings: Settings) -> Shape:
    limits = (settings.max_message_chars, settings.max_role_chars, settings.max_prompt_chars)
    counts = (settings.max_messages, settings.max_candidates, settings.max_proposers)
    return Shape(
        lengths=tuple(sorted({1, *limits, *(n + 1 for n in limits)})),
        counts=tuple(sorted({*counts, *(n + 1 for n in counts)})),
        words=("alt", "nowhere", ""),
    )


def is_map(field: Any) -> bool:
    """A map field (metadata): a repeated message of map entries, which is no list."""
    return field.message_type is not None and bool(field.message_type.GetOptions().map_entry)


def plausible(message: Message, settings: Settings) -> None:
    """Repairs what random requests almost never get right (a conversation ending with a user turn,
    distinct candidate ids, a known backend), so the accepting side of the validators is reached too.
    Sizes, counts and every number are left as drawn."""
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE or is_map(field):
            continue  # scalars and maps of scalars (metadata) need no repair
        items = list(value) if field.is_repeated else [value]
        for i, item in enumerate(items):
            if isinstance(item, common_pb2.ChatMessage):
                item.role = item.role if item.role in ROLES else USER
                item.content = item.content if item.content.strip() else "hi"
            elif isinstance(item, common_pb2.Candidate):
                item.id = f"c{i}"
            elif isinstance(item, common_pb2.ModelSettings) and item.backend not in settings.named_backends():
                item.backend = ""
            else:
                plausible(item, settings)
    conversation = (
        getattr(message, "messages", None) if "messages" in message.DESCRIPTOR.fields_by_name else None
    )
    if conversation:
        conversation[-1].role = USER


_SEGMENT = re.compile(r"([a-z_][a-z0-9_]*)(?:\[(\d+)\])?")


def is_field_path(message: Message, path: str) -> bool:
    """True when ``path`` ("messages[2].content", "model.max_tokens") names a field of ``message``, with
    every index within its list."""
    current: Any = message
    for part in path.split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None or not isinstance(current, Message):
            return False
        field = current.DESCRIPTOR.fields_by_name.get(match[1])
        if field is None:
            return False
        current = getattr(current, match[1])
        if match[2] is not None:
            if not field.is_repeated or int(match[2]) >= len(current):
                return False
            current = current[int(match[2])]
    return True


def trailer_bytes(violations: list[Violation]) -> int:
    """What a refusal puts in the response trailers: grpc-message (percent-encoded) and the rich status
    (base64), each with its name."""
    status = InvalidArgument(violations).status()
    message = sum(1 if 0x20 <= b <= 0x7E and b != 0x25 else 3 for b in status.details.encode("utf-8"))
    binary = sum(
        len(k) + 4 * math.ceil(len(v) / 3) for k, v in status.trailing_metadata if k.endswith("-bin")
    )
    return len("grpc-message") + message + binary


# Each validator, and what a request it accepts must satisfy (besides the common checks below).
def model_ok(model: common_pb2.ModelSettings, settings: Settings) -> bool:
    return (
        (not model.HasField("max_tokens") or 1 <= model.max_tokens <= settings.max_tokens_limit)
        and (not model.HasField("temperature") or 0.0 <= model.temperature <= 2.0)
        and (model.backend == "" or model.backend in settings.named_backends())
    )


def conversation_ok(messages: Any, settings: Settings) -> bool:
    return (
        1 <= len(messages) <= settings.max_messages
        and all(m.role in ROLES and m.content.strip() for m in messages)
        and all(len(m.content) <= settings.max_message_chars for m in messages)
        and messages[-1].role == USER
    )


def candidates_ok(candidates: Any, settings: Settings) -> bool:
    ids = [c.id for c in candidates]
    return len(ids) <= settings.max_candidates and all(ids) and len(set(ids)) == len(ids)


def chars(*groups: Any) -> int:
    return sum(len(getattr(item, "content", getattr(item, "text", ""))) for group in groups for item in group)


def judge_ok(r: judge_pb2.JudgeRequest, s: Settings) -> None:
    assert conversation_ok(r.messages, s) and candidates_ok(r.candidates, s) and model_ok(r.model, s)
    assert 1 <= r.k <= len(r.candidates) and 0 <= r.passes <= MAX_JUDGE_PASSES
    assert known_aggregation(r.aggregation) and known_selection(r.selection)
    assert not r.fused or 1 <= r.layer <= r.max_layers
    assert chars(r.messages, r.candidates) <= s.max_prompt_chars


def moderate_ok(r: moderator_pb2.ModerateRequest, s: Settings) -> None:
    assert conversation_ok(r.messages, s) and candidates_ok(r.kept, s) and model_ok(r.model, s)
    assert len(r.kept) >= 1 and 1 <= r.layer <= r.max_layers
    assert chars(r.messages, r.kept) <= s.max_prompt_chars


def propose_ok(r: proposer_pb2.ProposeRequest, s: Settings) -> None:
    assert conversation_ok(r.messages, s) and candidates_ok(r.references, s) and model_ok(r.model, s)
    assert len(r.role) <= s.max_role_chars
    assert chars(r.messages, r.references) + len(r.role) <= s.max_prompt_chars


def generate_ok(r: orchestrator_pb2.GenerateRequest, s: Settings) -> None:
    assert conversation_ok(r.messages, s) and model_ok(r.model, s)
    assert chars(r.messages) <= s.max_prompt_chars
    assert r.mode in orchestrator_pb2.Mode.values()
    assert r.aggregation in common_pb2.AggregationMethod.values()
    assert r.selection in common_pb2.SelectionMethod.values()
    n = r.n or s.n
    assert 0 <= r.n <= s.max_proposers and 0 <= r.k <= n and 0 <= r.quorum <= n
    assert 0 <= r.max_layers <= s.max_layers_limit and r.token_budget >= 0
    assert len({a.index for a in r.agents}) == len(r.agents) and all(0 <= a.index < n for a in r.agents)
    assert all(model_ok(a.model, s) for a in r.agents)
    source = r.WhichOneof("role_source")
    if source == "roles":
        assert 1 <= len(r.roles.roles) <= s.max_proposers
        assert all(role.strip() and len(role) <= s.max_role_chars for role in r.roles.roles)
    if source == "task_description":
        assert r.task_description.strip() and len(r.task_description) <= s.max_role_chars
    # What the pipeline then runs with: every default filled in, within the same bounds.
    plan = plan_of(r, s)
    assert 1 <= plan.k <= plan.n and 1 <= plan.quorum <= plan.n and plan.max_layers >= 1
    assert plan.n == (r.n or s.n) and len(plan.proposer_models) == plan.n


@dataclass(frozen=True)
class Validator:
    request: type[Message]
    violations: Callable[[Any, Settings], list[Violation]]
    accepted: Callable[[Any, Settings], None]
    # A request it accepts, for drawn fields to be put into a few at a time.
    base: Message


QUESTION = [common_pb2.ChatMessage(role=USER, content="What is the capital of France?")]
ANSWERS = [common_pb2.Candidate(id="a", text="Paris."), common_pb2.Candidate(id="b", text="Lyon.")]
VALIDATORS = {
    "judge": Validator(
        judge_pb2.JudgeRequest,
        judge_violations,
        judge_ok,
        judge_pb2.JudgeRequest(messages=QUESTION, candidates=ANSWERS, k=1),
    ),
    "moderator": Validator(
        moderator_pb2.ModerateRequest,
        moderate_violations,
        moderate_ok,
        moderator_pb2.ModerateRequest(messages=QUESTION, kept=ANSWERS, layer=1, max_layers=2),
    ),
    "proposer": Validator(
        proposer_pb2.ProposeRequest,
        propose_violations,
        propose_ok,
        proposer_pb2.ProposeRequest(messages=QUESTION, role="Be brief.", references=ANSWERS[:1]),
    ),
    "orchestrator": Validator(
        orchestrator_pb2.GenerateRequest,
        check_request,
        generate_ok,
        orchestrator_pb2.GenerateRequest(messages=QUESTION, n=3, k=1, max_layers=2),
    ),
}


def blended(base: Message, drawn: Message, names: set[str]) -> Message:
    """``base`` with the fields ``names`` taken from ``drawn`` (set or not, as there)."""
    out = type(base)()
    out.CopyFrom(base)
    for name in sorted(names):
        field = base.DESCRIPTOR.fields_by_name[name]
        out.ClearField(name)
        if is_map(field):
            getattr(out, name).update(getattr(drawn, name))
        elif field.is_repeated:
            getattr(out, name).extend(getattr(drawn, name))
        elif field.type == field.TYPE_MESSAGE:
            if drawn.HasField(name):
                getattr(out, name).CopyFrom(getattr(drawn, name))
        elif not field.has_presence or drawn.HasField(name):
            setattr(out, name, getattr(drawn, name))
    return out


def validated(validator: Validator, request: Message, settings: Settings) -> list[Violation]:
    found = validator.violations(request, settings)
    assert isinstance(found, list) and all(isinstance(v, Violation) for v in found)
    for v in found:
        assert is_field_path(request, v.field), v
        v.description.encode("utf-8")
    return found


Case = tuple[str, Message, Settings]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    name = draw(st.sampled_from(sorted(VALIDATORS)))
    validator, settings = VALIDATORS[name], draw(SETTINGS)
    request = draw(messages(validator.request, shape_for(settings)))
    if draw(st.booleans()):
        # A valid request with a few fields drawn: each limit is crossed alone, and often not at all.
        names = validator.base.DESCRIPTOR.fields_by_name.keys()
        request = blended(validator.base, request, draw(st.sets(st.sampled_from(sorted(names)), max_size=3)))
    if draw(st.booleans()):
        plausible(request, settings)
    return name, request, settings


@st.composite
def decoded(draw: st.DrawFn) -> Case | None:
    name = draw(st.sampled_from(sorted(VALIDATORS)))
    settings = draw(SETTINGS)
    cls = VALIDATORS[name].request
    try:
        return name, cls.FromString(draw(wire_bytes(cls, shape_for(settings)))), settings
    except DecodeError:
        return None  # the server refuses it before any validator (failure.py)


# Each empty message a violation: once a refusal the caller never saw (over 16 KiB of trailers).
EMPTY_MESSAGES = [common_pb2.ChatMessage()] * 300


@given(case=cases())
@fuzz(400)  # four validators
@example(case=("judge", judge_pb2.JudgeRequest(messages=EMPTY_MESSAGES), Settings()))
@example(case=("orchestrator", orchestrator_pb2.GenerateRequest(messages=EMPTY_MESSAGES), Settings()))
@example(
    case=(
        "proposer",
        proposer_pb2.ProposeRequest(references=[common_pb2.Candidate(id="é" * 9)] * 99),
        Settings(),
    )
)
@example(
    case=(
        "moderator",
        moderator_pb2.ModerateRequest(model=common_pb2.ModelSettings(backend="b" * 20_000)),
        Settings(),
    )
)
def test_a_validator_refuses_reachably_or_accepts_only_what_is_within_limits(case: Case) -> None:
    name, request, settings = case
    validator = VALIDATORS[name]
    found = validated(validator, request, settings)
    event(f"{name}: {'refused' if found else 'accepted'}")
    if found:
        size = trailer_bytes(found)
        target(size, label=f"{name}: trailer bytes of a refusal")  # steers toward the largest
        assert size <= TRAILER_BUDGET
    else:
        validator.accepted(request, settings)


@given(case=decoded())
@fuzz(400)
def test_a_validator_takes_whatever_the_wire_decodes_to(case: Case | None) -> None:
    event("does not decode" if case is None else f"{case[0]}: decodes")
    if case is not None:
        name, request, settings = case
        found = validated(VALIDATORS[name], request, settings)
        if found:
            assert trailer_bytes(found) <= TRAILER_BUDGET


FLOODS: list[tuple[str, Message]] = [
    ("judge", judge_pb2.JudgeRequest(messages=[common_pb2.ChatMessage()] * 200_000)),
    ("judge", judge_pb2.JudgeRequest(candidates=[common_pb2.Candidate(id="é" * 2_000)] * 2_000)),
    ("judge", judge_pb2.JudgeRequest(model=common_pb2.ModelSettings(backend="😀" * 1_000_000))),
    (
        "moderator",
        moderator_pb2.ModerateRequest(messages=[common_pb2.ChatMessage(role=9)] * 200_000),  # type: ignore[arg-type]
    ),
    ("proposer", proposer_pb2.ProposeRequest(references=[common_pb2.Candidate()] * 200_000)),
    (
        "orchestrator",
        orchestrator_pb2.GenerateRequest(agents=[orchestrator_pb2.AgentOverride(index=-1)] * 200_000),
    ),
    ("orchestrator", orchestrator_pb2.GenerateRequest(roles=orchestrator_pb2.Roles(roles=[" "] * 200_000))),
]


@pytest.mark.parametrize(("name", "request_"), FLOODS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FLOODS)])
def test_a_flood_of_bad_items_is_refused_cheaply_and_briefly(name: str, request_: Message) -> None:
    # A 4 MB request of empty items was millions of violations: seconds of CPU, hundreds of MB, and a
    # status no client would take.
    started = time.perf_counter()
    found = validated(VALIDATORS[name], request_, Settings())
    assert time.perf_counter() - started < 2.0
    assert found and trailer_bytes(found) <= TRAILER_BUDGET
