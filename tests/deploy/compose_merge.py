"""How docker compose merges an override file (`-f docker-compose.yml -f OVERRIDE`), as far as our files go:
mappings merge key by key (environment, healthcheck), a command or a health check's test is replaced, and
other sequences (secrets, ports) are joined. A compose-marked test holds this against docker-compose."""

from __future__ import annotations

from typing import Any

REPLACED = {"command", "entrypoint", "test"}


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            result[key] = merged(base[key], value)
        elif isinstance(value, list) and isinstance(base.get(key), list) and key not in REPLACED:
            result[key] = [*base[key], *value]
        else:
            result[key] = value
    return result
