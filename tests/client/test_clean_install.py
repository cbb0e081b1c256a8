"""The SDK installs and works where nothing else of smoa is: a fresh virtual environment with the wheel
of clients/ and its two dependencies (grpcio, protobuf), no Rust extension, no OpenAI SDK, no services."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PACKAGES = {"openai", "smoa-core-rs", "smoa-services", "grpcio-status", "googleapis-common-protos"}
ABSENT = ["openai", "smoa_core_rs", "smoa_services", "grpc_status", "google.rpc", "grpc_health"]


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Nothing of this environment may leak into the fresh one.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result


def test_the_sdk_works_in_a_clean_virtual_environment(tmp_path: Path, target: str) -> None:
    # Built from a copy, so the build leaves nothing in the work tree; with this environment's setuptools,
    # so it needs no index. Installing fetches grpcio and protobuf (pip's cache has them after once).
    source = tmp_path / "clients"
    shutil.copytree(
        ROOT / "clients", source, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build")
    )
    wheels = tmp_path / "wheels"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        source,
        "-w",
        wheels,
        cwd=tmp_path,
    )
    [wheel] = wheels.glob("smoa-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python, smoa = venv / "bin" / "python", venv / "bin" / "smoa"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=tmp_path)

    installed = run(python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path).stdout
    names = {line.split("==")[0].lower() for line in installed.split()}
    assert {"smoa", "grpcio", "protobuf"} <= names and not names & SERVICE_PACKAGES, names
    run(python, "-c", "import smoa; from smoa import SmoaClient, AsyncSmoaClient, SmoaError", cwd=tmp_path)
    for module in ABSENT:
        found = subprocess.run([python, "-c", f"import {module}"], cwd=tmp_path, capture_output=True)
        assert found.returncode != 0, f"{module} is importable in the clean environment"
    assert "usage: smoa" in run(smoa, "--help", cwd=tmp_path).stdout
    assert "usage: smoa ask" in run(smoa, "ask", "--help", cwd=tmp_path).stdout
    # And it speaks to the real services (the suite's stack) from there.
    assert run(smoa, "--target", target, "health", cwd=tmp_path).stdout.split() == [
        "orchestrator",
        target,
        "SERVING",
        "ready",
    ]
