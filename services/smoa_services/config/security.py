"""Who may call, and how the services prove who they are: TLS, tokens, permissions. Plaintext and open
by default (local); see access/tls.py and access/auth.py."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

from smoa_services.config.help_text import help_text


@dataclass(frozen=True)
class Security:
    """security: TLS, tokens and who may call what"""

    tls_cert_file: str = field(default="", metadata=help_text("PEM certificate chain to serve TLS with"))
    tls_key_file: str = field(default="", metadata=help_text("PEM private key of tls_cert_file"))
    tls_client_ca_file: str = field(
        default="", metadata=help_text("PEM CA that clients' certificates must be signed by (mutual TLS)")
    )
    peer_ca_file: str = field(default="", metadata=help_text("PEM CA to trust for TLS to peer services"))
    peer_cert_file: str = field(default="", metadata=help_text("PEM client certificate toward peers (mTLS)"))
    peer_key_file: str = field(default="", metadata=help_text("PEM private key of peer_cert_file"))
    peer_server_name: str = field(
        default="", metadata=help_text("name to check in peers' certificates instead of the target's host")
    )
    proposer_server_name: str = field(
        default="",
        metadata=help_text("the name to check in the proposer's certificate (else peer_server_name)"),
    )
    judge_server_name: str = field(
        default="", metadata=help_text("the name to check in the judge's certificate (else peer_server_name)")
    )
    moderator_server_name: str = field(
        default="",
        metadata=help_text("the name to check in the moderator's certificate (else peer_server_name)"),
    )
    peer_token_env: str = field(
        default="SMOA_PEER_TOKEN",
        metadata=help_text("env var holding the bearer token sent to peer services"),
    )
    peer_token_file: str = field(
        default="", metadata=help_text("file holding that token (a mounted secret); wins over peer_token_env")
    )
    auth_tokens_file: str = field(
        default="", metadata=help_text("file of accepted bearer tokens, one 'name token' per line")
    )
    auth_tokens_env: str = field(
        default="",
        metadata=help_text("env var holding accepted bearer tokens, 'name token' per line or comma"),
    )
    auth_allow: str = field(
        default="",
        metadata=help_text('what each caller may call, JSON: {"name": ["service" | "service/Method" | "*"]}'),
    )
    auth_allow_file: str = field(
        default="",
        metadata=help_text("file holding auth_allow's JSON, read again when it changes; wins over it"),
    )
    reflection: bool = field(
        default=True, metadata=help_text("serve gRPC reflection (the schema, unauthenticated)")
    )

    def server_name(self, peer: str) -> str:
        """The name expected in `peer`'s certificate ("": the target's host)."""
        own: str = getattr(self, f"{peer}_server_name", "")
        return own or self.peer_server_name

    def allowed_calls(self) -> dict[str, tuple[str, ...]]:
        """Per caller, the services ("smoa.v1.ProposerService"), methods (".../Propose") or "*" it may call;
        empty: every known caller may call everything."""
        return dict(parse_allow(self.auth_allow))

    def checks(self) -> list[tuple[str, bool]]:
        return []


@functools.lru_cache(maxsize=8)
def parse_allow(raw: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not raw:
        return ()
    parsed = json.loads(raw)
    if not isinstance(parsed, dict) or not all(
        isinstance(v, list) and all(isinstance(p, str) for p in v) for v in parsed.values()
    ):
        raise ValueError("not an object of lists of strings")
    return tuple((str(name), tuple(patterns)) for name, patterns in parsed.items())
