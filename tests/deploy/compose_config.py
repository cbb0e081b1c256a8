"""The compose files as docker-compose itself renders them: `docker-compose -f A [-f B] config`, the files
merged in order, ${VAR:-default} resolved to its default, relative paths made absolute, ports in long form,
environment values as strings. Rendered with the defaults the files give (no SMOA_* or COMPOSE_* variable of
this shell, no .env), once per set of files in a session; a failure is kept too, so it costs one run."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.compose_venv import docker_compose
from tests.deploy.paths import COMPOSE_FILE, ROOT, SECURE_COMPOSE_FILE, TELEMETRY_COMPOSE_FILE

BASE = (COMPOSE_FILE,)
TELEMETRY = (COMPOSE_FILE, TELEMETRY_COMPOSE_FILE)
SECURE = (COMPOSE_FILE, SECURE_COMPOSE_FILE)


@dataclass(frozen=True)
class Rendering:
    config: dict[str, Any] | None  # None: docker-compose refused the files
    stderr: str


_renderings: dict[tuple[Path, ...], Rendering] = {}
_installed: list[Path | Exception] = []  # docker-compose, or why it could not be installed


def _docker_compose() -> Path:
    if not _installed:
        try:
            _installed.append(docker_compose())
        except (AssertionError, OSError, subprocess.SubprocessError) as e:
            _installed.append(e)
    found = _installed[0]
    if isinstance(found, Exception):
        raise found
    return found


def render(files: tuple[Path, ...]) -> Rendering:
    """What `docker-compose config` printed for these files, run the first time only."""
    if files not in _renderings:
        _renderings[files] = _run(files)
    return _renderings[files]


def rendered(files: tuple[Path, ...]) -> dict[str, Any]:
    """The configuration docker-compose makes of the files (the test fails if it refuses them)."""
    rendering = render(files)
    if rendering.config is None:
        pytest.fail(f"docker-compose refused {' + '.join(f.name for f in files)}:\n{rendering.stderr}")
    return rendering.config


def services(files: tuple[Path, ...]) -> dict[str, Any]:
    found: dict[str, Any] = rendered(files)["services"]
    return found


def environment(files: tuple[Path, ...], service: str) -> dict[str, str]:
    """A service's environment as the container gets it (docker-compose renders every value a string)."""
    found: dict[str, str] = services(files)[service].get("environment", {})
    return found


def ports(service: dict[str, Any]) -> list[tuple[int, int]]:
    """(published, target) of each published port, from docker-compose's long form."""
    return [(int(p["published"]), int(p["target"])) for p in service.get("ports", [])]


def config_of(files: list[Path], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`docker-compose -f ... config` run as rendered here: the files' own defaults, nothing from this
    shell's SMOA_* / COMPOSE_* variables or a local .env."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SMOA_", "COMPOSE_"))}
    with tempfile.NamedTemporaryFile("w", suffix=".env") as empty:
        command = [str(_docker_compose()), "--env-file", empty.name, "--project-directory", str(cwd)]
        for file in files:
            command += ["-f", str(file)]
        return subprocess.run(
            [*command, "config"],
            cwd=cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _run(files: tuple[Path, ...]) -> Rendering:
    try:
        done = config_of(list(files))
    except (AssertionError, OSError, subprocess.SubprocessError) as e:  # no docker-compose
        return Rendering(None, f"{type(e).__name__}: {e}")
    if done.returncode != 0:
        return Rendering(None, done.stderr)
    config = yaml.safe_load(done.stdout)
    assert isinstance(config, dict) and isinstance(config.get("services"), dict), done.stdout[:500]
    return Rendering(config, done.stderr)
