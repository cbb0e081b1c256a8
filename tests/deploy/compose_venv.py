"""docker-compose 1.29.2 (the Python one, from PyPI) in its own venv at .venv-compose/, made on first use
and reused: `docker-compose config` validates compose files against the Compose schema and renders them
merged, with no Docker engine (tests/deploy/compose_config.py). Isolated because it pins PyYAML < 6, whose
5.4.1 sdist builds only with Cython < 3 and no build isolation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.deploy.paths import ROOT

VENV = ROOT / ".venv-compose"
DOCKER_COMPOSE = VENV / "bin" / "docker-compose"
READY = VENV / ".installed"  # written last, so an interrupted install is redone, not reused

STEPS = [
    ["-m", "pip", "install", "--quiet", "cython<3", "wheel", "setuptools"],
    ["-m", "pip", "install", "--quiet", "--no-build-isolation", "pyyaml==5.4.1"],
    ["-m", "pip", "install", "--quiet", "docker-compose==1.29.2"],
]


def docker_compose() -> Path:
    if READY.exists() and DOCKER_COMPOSE.exists():
        return DOCKER_COMPOSE
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
    python = str(VENV / "bin" / "python")
    for step in STEPS:
        done = subprocess.run([python, *step], capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stdout}\n{done.stderr}"
    READY.touch()
    return DOCKER_COMPOSE
