"""Service configuration: every setting has a default that works offline (the embedded model on
127.0.0.1:8080), an ``SMOA_*`` environment variable, and a command-line flag; flags win over the
environment. OpenTelemetry is configured by the standard ``OTEL_*`` variables only (see telemetry/).

The settings come in groups, one file each (serving, limits, security, backends, peers, pipeline), which
Settings joins into one value with one loader."""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

from smoa_services.config.backends import EMBEDDED_BASE_URL, EMBEDDED_MODEL, Backend, Backends
from smoa_services.config.limits import Limits
from smoa_services.config.peers import Peers
from smoa_services.config.pipeline import MAX_JUDGE_PASSES, Pipeline
from smoa_services.config.security import Security, parse_allow
from smoa_services.config.serving import DEFAULT_PORTS, PER_CALLER_DEFAULTS, Serving

__all__ = [
    "DEFAULT_PORTS",
    "EMBEDDED_BASE_URL",
    "EMBEDDED_MODEL",
    "MAX_JUDGE_PASSES",
    "Backend",
    "Settings",
    "parse_allow",
]
GROUPS: tuple[type, ...] = (Serving, Limits, Security, Backends, Peers, Pipeline)


@dataclasses.dataclass(frozen=True)
class Settings(Pipeline, Peers, Backends, Security, Limits, Serving):
    """Every setting of every service (each reads those it needs), flat: `settings.n`, `settings.host`."""

    @classmethod
    def load(
        cls, service: str, argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Defaults, then ``SMOA_<FIELD>`` variables, then ``--field`` flags. The port defaults to the
        service's well-known one (orchestrator 50051, proposer 50052, judge 50053, moderator 50054)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "port": DEFAULT_PORTS.get(service, 0),
            "max_concurrent_rpcs_per_caller": PER_CALLER_DEFAULTS.get(service, 0),
        }
        blank = cls()
        for f in dataclasses.fields(cls):
            raw = env.get(f"SMOA_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _parse(f.name, raw, type(getattr(blank, f.name)))
        defaults = dataclasses.replace(blank, **values)
        parser = argparse.ArgumentParser(
            prog=f"python -m smoa_services.{service}",
            description=f"smoa {service} service. Every flag also reads SMOA_<FLAG> from the environment.",
        )
        for group in GROUPS:
            flags = parser.add_argument_group(group.__doc__)
            for f in dataclasses.fields(group):
                current = getattr(defaults, f.name)
                flags.add_argument(
                    f"--{f.name.replace('_', '-')}",
                    type=_truthy if isinstance(current, bool) else type(current),
                    default=current,
                    help=f"{f.metadata.get('help', '')} (default: {current!r})",
                )
        settings = cls(**vars(parser.parse_args(argv)))
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuses settings that cannot work, naming the setting."""
        checks = [check for group in GROUPS for check in group.checks(self)]  # type: ignore[attr-defined]
        # Across groups: the defaults must be requests the limits allow.
        checks += [
            ("n", 1 <= self.n <= self.max_proposers),
            ("max_layers", 1 <= self.max_layers <= self.max_layers_limit),
        ]
        for name, ok in checks:
            if not ok:
                raise ValueError(f"{name}: invalid value {getattr(self, name)!r}")
        try:
            self.named_backends()
            self.default_roles()
        except (ValueError, TypeError) as e:
            raise ValueError(f"backends/roles: not valid JSON of the documented shape: {e}") from e
        try:
            self.allowed_calls()
        except (ValueError, TypeError) as e:
            raise ValueError(
                f'auth_allow: expected JSON {{"caller": ["service" | "service/Method" | "*", ...]}}: {e}'
            ) from e


def _truthy(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _parse(name: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            return _truthy(raw)
        return kind(raw)
    except ValueError as e:
        raise ValueError(f"SMOA_{name.upper()}: expected {kind.__name__}, got {raw!r}") from e
