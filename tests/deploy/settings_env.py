"""The SMOA_* settings a deployment file gives a service, checked the way the service reads them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from smoa_services.config import Settings

FIELDS = {f"SMOA_{f.name.upper()}" for f in dataclasses.fields(Settings)}


def load(service: str, environment: Mapping[str, str]) -> Settings:
    """Settings.load as the service runs it (no flags): unknown SMOA_* variables are refused here, since
    the service would silently ignore a misspelt one; those a setting names (SMOA_LLM_API_KEY, the
    default of llm_api_key_env) are values, not settings."""
    settings = Settings.load(service, argv=[], environ=dict(environment))
    unknown = sorted(
        k for k in environment if k.startswith("SMOA_") and k not in FIELDS and k not in named_by(settings)
    )
    assert not unknown, f"{service}: not a setting: {unknown}"
    return settings


def named_by(settings: Settings) -> set[str]:
    """The variables the settings name, whose values the service reads (keys, tokens)."""
    named = {settings.llm_api_key_env, settings.peer_token_env, settings.auth_tokens_env}
    named |= {backend.api_key_env for backend in settings.named_backends().values()}
    return named - {""}


def seconds(duration: str | int | float) -> float:
    """A compose duration ("30s", "1m30s", "500ms") or a number of seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    total, number = 0.0, ""
    rest = duration.strip()
    while rest:
        if rest[0].isdigit() or rest[0] == ".":
            number += rest[0]
            rest = rest[1:]
            continue
        unit = next(u for u in sorted(units, key=len, reverse=True) if rest.startswith(u))
        total += float(number) * units[unit]
        number, rest = "", rest[len(unit) :]
    assert not number, f"duration without a unit: {duration!r}"
    return total
