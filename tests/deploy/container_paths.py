"""A container's paths as the test's files: each mount point (a file or a folder) swapped for what is
mounted there, in settings and in command lines (`--flag PATH` and `--flag=PATH`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

Mounts = Mapping[str, Path]  # path in the container -> the file or folder on this machine


def on_host(value: str, mounts: Mounts) -> str:
    for inside, outside in mounts.items():
        if value == inside or value.startswith(inside.rstrip("/") + "/"):
            return str(outside) + value[len(inside) :]
    return value


def command_on_host(command: list[str], mounts: Mounts) -> list[str]:
    def word(w: str) -> str:
        if w.startswith("--") and "=" in w:
            flag, _, value = w.partition("=")
            return f"{flag}={on_host(value, mounts)}"
        return on_host(w, mounts)

    return [word(w) for w in command]


def environment_on_host(environment: Mapping[str, str], mounts: Mounts) -> dict[str, str]:
    return {name: on_host(value, mounts) for name, value in environment.items()}
