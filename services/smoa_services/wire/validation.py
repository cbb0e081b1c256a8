"""Request checks shared by every service. Each returns the violations it found (empty: fine), named by
field path, so one INVALID_ARGUMENT can list everything wrong with a request at once. The limits are
settings (config/limits.py): nothing a caller sends reaches an LLM unbounded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from smoa.v1 import common_pb2
from smoa_services.config import Settings
from smoa_services.ensemble.answer_format import MAX_SCHEMA_CHARS, schema_problem
from smoa_services.ensemble.tool_use import MAX_TOOLS, NAME
from smoa_services.rpc.failure import Violation

ROLES = (
    common_pb2.CHAT_ROLE_SYSTEM,
    common_pb2.CHAT_ROLE_USER,
    common_pb2.CHAT_ROLE_ASSISTANT,
    common_pb2.CHAT_ROLE_TOOL,
)
# What a caller sent is quoted in a refusal this short at most (failure.py says why refusals stay small).
ECHO_CHARS = 40


def echo(value: str) -> str:
    """A caller's string, quoted short and in ASCII: grpc-message percent-encodes each byte of UTF-8
    beyond ASCII into three."""
    quoted = ascii(value)
    return quoted if len(quoted) <= ECHO_CHARS else quoted[: ECHO_CHARS - 4] + "..." + quoted[-1]


def check_messages(
    messages: Sequence[common_pb2.ChatMessage], settings: Settings, field: str = "messages"
) -> list[Violation]:
    if not messages:
        return [Violation(field, "must hold at least one message")]
    if len(messages) > settings.max_messages:
        # Alone: a flood of bad messages would otherwise be a violation each (millions in 4 MB).
        return [Violation(field, f"{len(messages)} messages, over the limit of {settings.max_messages}")]
    found: list[Violation] = []
    for i, m in enumerate(messages):
        where = f"{field}[{i}]"
        if m.role not in ROLES:
            found.append(Violation(f"{where}.role", f"must be SYSTEM, USER, ASSISTANT or TOOL, got {m.role}"))
        if m.tool_calls and m.role != common_pb2.CHAT_ROLE_ASSISTANT:
            found.append(Violation(f"{where}.tool_calls", "only an assistant message calls tools"))
        if m.role == common_pb2.CHAT_ROLE_TOOL:
            if not m.tool_call_id:
                found.append(
                    Violation(f"{where}.tool_call_id", "a tool message must name the call it answers")
                )
        elif m.tool_call_id:
            found.append(Violation(f"{where}.tool_call_id", "only a tool message answers a call"))
        if not m.content.strip() and not m.tool_calls and m.role != common_pb2.CHAT_ROLE_TOOL:
            found.append(Violation(f"{where}.content", "must not be empty"))
        found += check_text(m.content, settings.max_message_chars, f"{where}.content")
        for j, call in enumerate(m.tool_calls):
            found += check_tool_call(call, settings, f"{where}.tool_calls[{j}]")
    if messages[-1].role not in (common_pb2.CHAT_ROLE_USER, common_pb2.CHAT_ROLE_TOOL):
        found.append(
            Violation(
                f"{field}[{len(messages) - 1}].role", "the last message must be from the user or a tool"
            )
        )
    return found


def check_tool_call(call: common_pb2.ToolCall, settings: Settings, field: str) -> list[Violation]:
    found = [] if call.id else [Violation(f"{field}.id", "must not be empty")]
    found += check_name(call.name, f"{field}.name")
    return found + check_text(call.arguments, settings.max_message_chars, f"{field}.arguments")


def check_name(name: str, field: str) -> list[Violation]:
    """A tool's name, as OpenAI takes it."""
    if NAME.fullmatch(name):
        return []
    return [Violation(field, f"must be 1 to 64 of a-z, A-Z, 0-9, _ and -, got {echo(name)}")]


def conversation_chars(messages: Sequence[common_pb2.ChatMessage]) -> int:
    """What a conversation puts into a prompt, tool calls included."""
    return sum(len(m.content) + sum(len(c.name) + len(c.arguments) for c in m.tool_calls) for m in messages)


def check_tools(
    tools: Sequence[common_pb2.Tool], choice: common_pb2.ToolChoice, settings: Settings
) -> list[Violation]:
    if len(tools) > MAX_TOOLS:
        return [Violation("tools", f"{len(tools)} tools, over {MAX_TOOLS}")]
    found: list[Violation] = []
    names: set[str] = set()
    for i, tool in enumerate(tools):
        named = check_name(tool.name, f"tools[{i}].name")
        found += named
        if not named and tool.name in names:
            found.append(Violation(f"tools[{i}].name", f"{echo(tool.name)} is defined twice"))
        names.add(tool.name)
        found += check_text(tool.description, settings.max_role_chars, f"tools[{i}].description")
        if tool.parameters:
            problem = schema_problem(tool.parameters)
            if problem:
                found.append(Violation(f"tools[{i}].parameters", problem))
    if choice.mode not in common_pb2.ToolChoice.Mode.values():
        found.append(Violation("tool_choice.mode", f"unknown ToolChoice.Mode {choice.mode}"))
    elif choice.mode == common_pb2.ToolChoice.MODE_FUNCTION:
        if choice.function not in names:
            found.append(Violation("tool_choice.function", f"no tool is named {echo(choice.function)}"))
    elif choice.function:
        found.append(Violation("tool_choice.function", "a function is named only with MODE_FUNCTION"))
    if not tools and choice.mode == common_pb2.ToolChoice.MODE_REQUIRED:
        found.append(Violation("tool_choice", "a tool call is required, but no tools are given"))
    # Every prompt that writes an answer carries the tools: their total is bounded, not just each one.
    size = sum(len(t.description) + len(t.parameters) for t in tools)
    if size > MAX_TOOLS_CHARS:
        found.append(Violation("tools", f"{size} characters of definitions, over {MAX_TOOLS_CHARS}"))
    return found


def check_text(text: str, limit: int, field: str) -> list[Violation]:
    if len(text) > limit:
        return [Violation(field, f"{len(text)} characters, over the limit of {limit}")]
    return []


def check_model(
    settings: common_pb2.ModelSettings, limits: Settings, field: str = "model"
) -> list[Violation]:
    found: list[Violation] = []
    if settings.HasField("max_tokens") and not 0 < settings.max_tokens <= limits.max_tokens_limit:
        found.append(
            Violation(
                f"{field}.max_tokens",
                f"must be in [1, {limits.max_tokens_limit}], got {settings.max_tokens}",
            )
        )
    if settings.HasField("temperature") and not 0.0 <= settings.temperature <= 2.0:
        found.append(Violation(f"{field}.temperature", f"must be in [0, 2], got {settings.temperature}"))
    backends = list(limits.named_backends())
    if settings.backend and settings.backend not in backends:
        known = ", ".join(sorted(backends)) or "none configured"
        found.append(
            Violation(f"{field}.backend", f"unknown backend {echo(settings.backend)} (known: {known})")
        )
    return found


# OpenAI's limits, so what its clients send is taken as it would be.
MAX_SCHEMA_NAME_CHARS = 64
MAX_STOP_SEQUENCES, MAX_STOP_CHARS = 4, 256
MAX_TOOLS_CHARS = 4 * MAX_SCHEMA_CHARS
MAX_METADATA_PAIRS, MAX_METADATA_KEY_CHARS, MAX_METADATA_VALUE_CHARS = 16, 64, 512


def check_stop(stop: Sequence[str], field: str = "stop") -> list[Violation]:
    if len(stop) > MAX_STOP_SEQUENCES:
        return [Violation(field, f"{len(stop)} stop sequences, over {MAX_STOP_SEQUENCES}")]
    return [
        Violation(f"{field}[{i}]", f"must be 1 to {MAX_STOP_CHARS} characters, got {len(sequence)}")
        for i, sequence in enumerate(stop)
        if not 0 < len(sequence) <= MAX_STOP_CHARS
    ]


def check_metadata(metadata: Mapping[str, str], field: str = "metadata") -> list[Violation]:
    if len(metadata) > MAX_METADATA_PAIRS:
        return [Violation(field, f"{len(metadata)} pairs, over {MAX_METADATA_PAIRS}")]
    found = []
    for key, value in metadata.items():
        if not 0 < len(key) <= MAX_METADATA_KEY_CHARS:
            found.append(
                Violation(field, f"keys must be 1 to {MAX_METADATA_KEY_CHARS} characters: {echo(key)}")
            )
        elif len(value) > MAX_METADATA_VALUE_CHARS:
            found.append(
                Violation(field, f"the value of {echo(key)} is over {MAX_METADATA_VALUE_CHARS} characters")
            )
    return found


def check_response_format(wire: common_pb2.ResponseFormat, field: str = "response_format") -> list[Violation]:
    if wire.format not in common_pb2.OutputFormat.values():
        return [Violation(f"{field}.format", f"unknown OutputFormat {wire.format}")]
    if wire.format != common_pb2.OUTPUT_FORMAT_JSON_SCHEMA:
        if wire.json_schema:
            return [Violation(f"{field}.json_schema", "a schema needs format OUTPUT_FORMAT_JSON_SCHEMA")]
        return []
    if not wire.json_schema:
        return [Violation(f"{field}.json_schema", "OUTPUT_FORMAT_JSON_SCHEMA needs the schema")]
    problem = schema_problem(wire.json_schema)
    found = [Violation(f"{field}.json_schema", problem)] if problem else []
    return found + check_text(wire.name, MAX_SCHEMA_NAME_CHARS, f"{field}.name")


def check_candidates(
    candidates: Sequence[common_pb2.Candidate], settings: Settings, field: str
) -> list[Violation]:
    found: list[Violation] = []
    if len(candidates) > settings.max_candidates:
        return [
            Violation(field, f"{len(candidates)} candidates, over the limit of {settings.max_candidates}")
        ]
    seen: set[str] = set()
    for i, c in enumerate(candidates):
        if not c.id:
            found.append(Violation(f"{field}[{i}].id", "must not be empty"))
        elif c.id in seen:
            found.append(Violation(f"{field}[{i}].id", f"duplicate id {echo(c.id)}"))
        seen.add(c.id)
    return found


def check_prompt_size(chars: int, limit: int, field: str = "messages") -> list[Violation]:
    """Everything a request would put into a prompt (conversation, candidates, role) against
    ``Settings.max_prompt_chars``: refused up front rather than after the backend spent time on it."""
    if chars > limit:
        return [Violation(field, f"the prompt would be {chars} characters, over the limit of {limit}")]
    return []


def check_layers(layer: int, max_layers: int) -> list[Violation]:
    """Which layer this is of how many at most: what a stop-or-continue decision depends on."""
    found = []
    if layer < 1:
        found.append(Violation("layer", f"must be at least 1, got {layer}"))
    if max_layers < max(layer, 1):
        found.append(Violation("max_layers", f"must be at least layer, got {max_layers}"))
    return found
