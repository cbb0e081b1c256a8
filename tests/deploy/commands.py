"""Container commands: which module `python -m` runs, and whether this checkout has it."""

from __future__ import annotations

import importlib.util

SERVICE_MODULES = {
    "orchestrator": "smoa_services.orchestrator",
    "proposer": "smoa_services.proposer",
    "judge": "smoa_services.judge",
    "moderator": "smoa_services.moderator",
    "gateway": "smoa_services.gateway",
    "model": "smoa_services.llm.embedded",
}


def module_of(command: list[str]) -> str:
    """The module of `python -m MODULE ...`, checked to be runnable: a module, or a package with a
    __main__ (found without importing it)."""
    assert command[:2] in (["python", "-m"], ["python3", "-m"]), f"not `python -m MODULE`: {command}"
    module = command[2]
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{module}: not importable"
    if spec.submodule_search_locations is not None:
        assert importlib.util.find_spec(f"{module}.__main__") is not None, f"{module}: no __main__"
    return module


def option(command: list[str], name: str) -> str | None:
    """The value of `--name VALUE` or `--name=VALUE` in a command, if given."""
    for i, word in enumerate(command):
        if word == name and i + 1 < len(command):
            return command[i + 1]
        if word.startswith(f"{name}="):
            return word.partition("=")[2]
    return None
