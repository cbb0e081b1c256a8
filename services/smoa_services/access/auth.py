"""Who may call what, checked before any work is done.

A caller is known by a bearer token (`authorization: Bearer <token>`) from the tokens this service
accepts, or, over mutual TLS, by its client certificate's common name. Tokens come from a file
(`SMOA_AUTH_TOKENS_FILE`, read again when it changes) and/or an environment variable
(`SMOA_AUTH_TOKENS_ENV` names it, so a Kubernetes Secret can be either): one `name token` per line (or
comma). Tokens are compared in constant time, against every configured token.

`SMOA_AUTH_ALLOW` says what each caller may call, as JSON: {"orchestrator": ["*"], "alice":
["smoa.v1.OrchestratorService"]} (a service, or "service/Method"); `SMOA_AUTH_ALLOW_FILE` holds the same
JSON in a file, read again when it changes. Without it every known caller may call
everything; with it, a caller not listed gets PERMISSION_DENIED. An internal service (proposer, judge,
moderator) allows only the orchestrator, and so refuses end users. With none of these set, every caller is
accepted: the local default.

gRPC's own services are not checked: health must answer probes, and reflection (only the schema) can be
turned off instead (`SMOA_REFLECTION`)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from smoa_services.access.caller import CALLER, END_CALLER, end_caller_in
from smoa_services.access.watched_file import WatchedFile
from smoa_services.config import Settings, parse_allow
from smoa_services.rpc.failure import PermissionDenied, Unauthenticated
from smoa_services.rpc.rpc_handler import Context


def parse_tokens(text: str) -> list[tuple[str, bytes]]:
    """`name token` pairs, one per line or comma; blank lines and `#` comments are skipped."""
    found = []
    # Comments go first: split at commas, "# read by the judge, moderator" would be a caller "moderator".
    uncommented = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    for entry in uncommented.replace(",", "\n").splitlines():
        entry = entry.strip()
        if not entry:
            continue
        name, _, token = entry.partition(" ")
        if not token.strip():
            raise ValueError(
                f"auth tokens: expected 'name token', got an entry named {name!r} without a token"
            )
        found.append((name, token.strip().encode()))
    return found


def allow_file(text: str) -> dict[str, tuple[str, ...]]:
    # Empty is a file caught being rewritten, not "allow everything": the last list read stays.
    if not text.strip():
        raise ValueError("auth allow file: empty")
    return dict(parse_allow(text.strip()))


def allowed(patterns: Sequence[str], method: str) -> bool:
    """`method` is gRPC's "/package.Service/Method"."""
    service, _, _ = method.lstrip("/").partition("/")
    return any(p == "*" or p == service or p == method.lstrip("/") for p in patterns)


class Callers:
    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.file = (
            WatchedFile(settings.auth_tokens_file, parse_tokens) if settings.auth_tokens_file else None
        )
        self.from_env = (
            parse_tokens(env.get(settings.auth_tokens_env, "")) if settings.auth_tokens_env else []
        )
        self._allow = WatchedFile(settings.auth_allow_file, allow_file) if settings.auth_allow_file else None
        self._allow_fixed = settings.allowed_calls()
        self.mtls = bool(settings.tls_client_ca_file)

    @property
    def enabled(self) -> bool:
        return bool(self.file or self.from_env or self._allow or self._allow_fixed or self.mtls)

    def allow(self) -> dict[str, tuple[str, ...]]:
        """What each caller may call now (empty: everything): the allow file's, else SMOA_AUTH_ALLOW's."""
        return self._allow.value() if self._allow else self._allow_fixed

    def tokens(self) -> list[tuple[str, bytes]]:
        return [*(self.file.value() if self.file else []), *self.from_env]

    def identify(self, metadata: Iterable[tuple[str, Any]], auth_context: Mapping[str, Any]) -> str:
        """The caller's name; Unauthenticated when it cannot be known. Never echoes a token."""
        headers = [str(v) for k, v in metadata if k == "authorization"]
        if headers:
            scheme, _, token = headers[0].partition(" ")
            if len(headers) > 1 or scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("expected one header 'authorization: Bearer <token>'")
            given = token.strip().encode()
            name = None
            for candidate, expected in self.tokens():
                # Every token is compared, whatever matched before: the time does not say which, or whether.
                if hmac.compare_digest(given, expected) and name is None:
                    name = candidate
            if name is None:
                raise Unauthenticated("the bearer token is not one this service accepts")
            return name
        names = auth_context.get("x509_common_name") or []
        if self.mtls and names:
            return bytes(names[0]).decode(errors="replace")
        if self.file or self.from_env:
            raise Unauthenticated("this service needs 'authorization: Bearer <token>'")
        return ""

    def authorize(self, caller: str, method: str) -> None:
        allow = self.allow()
        if allow and not allowed(allow.get(caller, []), method):
            raise PermissionDenied(caller, method)


class Authenticator:
    """Checks every smoa RPC's caller before its handler runs (a failure is turned into UNAUTHENTICATED or
    PERMISSION_DENIED with the call's other failures), and says whom its work is for (caller.py). Only a
    peer takes that from the `smoa-end-caller` header: at the front door, a caller could name another."""

    def __init__(self, callers: Callers, takes_end_caller: bool):
        self.callers = callers
        self.takes_end_caller = takes_end_caller

    def check(self, context: Context, method: str) -> None:
        if not self.callers.enabled and not self.takes_end_caller:
            return
        metadata: Sequence[tuple[str, Any]] = tuple(context.invocation_metadata() or ())
        caller = ""
        if self.callers.enabled:
            caller = self.callers.identify(metadata, context.auth_context())
            self.callers.authorize(caller, method)
            CALLER.set(caller)
        END_CALLER.set((self.takes_end_caller and end_caller_in(metadata)) or caller)
