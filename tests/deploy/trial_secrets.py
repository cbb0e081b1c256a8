"""deploy/make_secrets.py run as an operator runs it, into a folder of the test's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from smoa_services.access.auth import parse_tokens
from tests.deploy.paths import MAKE_SECRETS

SERVICES = ("orchestrator", "proposer", "judge", "moderator", "gateway")
# The services that require a client certificate (the orchestrator's), so their health checks present one.
PEERS = ("proposer", "judge", "moderator")


def make(directory: Path) -> Path:
    done = subprocess.run(
        [sys.executable, str(MAKE_SECRETS), str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return directory


def token_of(tokens_file: Path, name: str) -> str:
    """The token `name` holds in a tokens file, read as the services read it."""
    tokens = dict(parse_tokens(tokens_file.read_text()))
    assert name in tokens, f"{tokens_file.name}: no token of {name}"
    return tokens[name].decode()
