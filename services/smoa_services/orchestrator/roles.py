"""Role assignment: the personas the n proposers answer in. Diverse roles are what make a mixture of
agents more than n samples of one model (SMoA §3.4, role playing).

Sources, the first that applies wins: explicit roles from the request (reused in turn when fewer than n),
one LLM call writing n roles from the request's task description (validated, retried once with the error,
cached per (description, n)), the configured default roles, the built-in generic roles below. When the
written roles fail validation twice the generic roles are used and the assignment says so (`source`
"fallback", `error`), which the pipeline puts on the trace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smoa_services.llm import Completion, ModelChoice
from smoa_services.llm.completion import Message
from smoa_services.llm.json_reply import ReplyError, ask_json, json_object
from smoa_services.orchestrator.ports import Chat
from smoa_services.orchestrator.prompt import GENERIC_ROLES, ROLE_WRITER_PROMPT
from smoa_services.orchestrator.role_cache import RoleCache


@dataclass(frozen=True)
class RoleAssignment:
    roles: tuple[str, ...]
    # "request", "description" (written now), "cache", "settings", "generic", "fallback".
    source: str
    completions: tuple[Completion, ...] = ()
    # Why the written roles were refused (source "fallback").
    error: str = ""


def in_turn(roles: Sequence[str], n: int) -> tuple[str, ...]:
    """n roles from a shorter (or longer) list, reused in order."""
    return tuple(roles[i % len(roles)] for i in range(n))


# A written role is sent to every proposer, which refuses a role over its max_role_chars (4,000 by
# default) as INVALID_ARGUMENT: a role that long would fail the request over the LLM's reply. The prompt
# asks for one or two sentences; this leaves room for verbose ones.
MAX_WRITTEN_ROLE_CHARS = 1_000


def parse_roles(text: str, n: int, max_chars: int = MAX_WRITTEN_ROLE_CHARS) -> tuple[str, ...]:
    """The n roles in an LLM reply, each at most ``max_chars``; ReplyError says what is wrong, in words for
    the model's retry."""
    data = json_object(text).get("roles")
    if not isinstance(data, list):
        raise ReplyError('the object must have a "roles" list of strings')
    if len(data) != n:
        raise ReplyError(f"expected exactly {n} roles, got {len(data)}")
    if not all(isinstance(r, str) and r.strip() for r in data):
        raise ReplyError("every role must be a non-empty string")
    if any(len(r.strip()) > max_chars for r in data):
        raise ReplyError(f"every role must be at most {max_chars} characters (one or two sentences)")
    roles = tuple(r.strip() for r in data)
    if len({r.casefold() for r in roles}) != n:
        raise ReplyError("the roles must be distinct from each other")
    return roles


class RoleWriter:
    def __init__(self, chat: Chat, cache_size: int, max_role_chars: int = MAX_WRITTEN_ROLE_CHARS):
        self.chat = chat
        self.cache = RoleCache(cache_size)
        # Never longer than the proposers accept, whatever their max_role_chars.
        self.max_role_chars = min(MAX_WRITTEN_ROLE_CHARS, max_role_chars)

    async def assign(
        self,
        n: int,
        model: ModelChoice,
        timeout: Callable[[], float],
        *,
        explicit: Sequence[str] = (),
        description: str = "",
        defaults: Sequence[str] = (),
    ) -> RoleAssignment:
        if explicit:
            return RoleAssignment(in_turn(explicit, n), "request")
        if description:
            return await self.write(description, n, model, timeout)
        if defaults:
            return RoleAssignment(in_turn(defaults, n), "settings")
        return RoleAssignment(in_turn(GENERIC_ROLES, n), "generic")

    async def write(
        self, description: str, n: int, model: ModelChoice, timeout: Callable[[], float]
    ) -> RoleAssignment:
        cached = self.cache.get(description, n)
        if cached is not None:
            return RoleAssignment(cached, "cache")
        messages: list[Message] = [
            {"role": "system", "content": ROLE_WRITER_PROMPT},
            {"role": "user", "content": f"Number of assistants: {n}\nTask: {description}"},
        ]

        async def ask(conversation: Sequence[Message], schema: Mapping[str, Any] | None = None) -> Completion:
            return await self.chat.complete(
                conversation, model, timeout=timeout(), json_mode=True, schema=schema
            )

        schema = {
            "type": "object",
            "properties": {
                "roles": {"type": "array", "items": {"type": "string"}, "minItems": n, "maxItems": n}
            },
            "required": ["roles"],
        }
        reply = await ask_json(
            ask, messages, lambda text: parse_roles(text, n, self.max_role_chars), schema=schema
        )
        if reply.value is None:
            # Not cached: the next request with this description gets another chance at tailored roles.
            generic = in_turn(GENERIC_ROLES, n)
            return RoleAssignment(generic, "fallback", tuple(reply.completions), reply.error)
        self.cache.put(description, n, reply.value)
        return RoleAssignment(reply.value, "description", tuple(reply.completions))
