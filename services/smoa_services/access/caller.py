"""Who a call is from, and whom its work is for.

`CALLER` is the authenticated caller of this RPC (auth.py sets it; "" when no authentication is
configured): admission counts calls in flight by it. `END_CALLER` is whom the work is for: the caller
itself at the orchestrator, and at a peer the orchestrator's caller, which the orchestrator passes on in
the `smoa-end-caller` header. LLM slots are shared fairly by it, so the orchestrator's own identity (every
peer call carries it) does not make all end users one caller. A peer takes the header from any caller
that passed authentication: SMOA_AUTH_ALLOW keeps end users from calling peers at all."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from typing import Any

HEADER = "smoa-end-caller"
# A name from a token file or a certificate: longer is not a name.
MAX_NAME_CHARS = 256

CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("smoa_caller", default="")
END_CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("smoa_end_caller", default="")


def end_caller_in(metadata: Iterable[tuple[str, Any]]) -> str:
    for key, value in metadata:
        if key == HEADER and isinstance(value, str):
            return value[:MAX_NAME_CHARS]
    return ""
