"""Rendered manifests checked against Kubernetes' own JSON schemas by kubernetes-validate's command line, as
an operator or CI would run it: `kubernetes-validate --strict --kubernetes-version 1.32 -` (strict: a field
the API does not know is an error, as `kubectl apply --validate=strict` makes it).

kubernetes-validate only warns, and exits 0, on a kind it has no schema for (a custom resource such as
KEDA's ScaledObject), so a warning counts as a failure here: every object must have been checked."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

KUBERNETES_VERSION = "1.32"


@dataclass(frozen=True)
class Report:
    returncode: int
    passed: list[str]  # "kind/name" of each object that validated
    problems: list[str]  # every line that is not a pass: ERROR, WARN, FATAL


def validate(rendered: str) -> Report:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubernetes_validate",
            "--strict",
            "--kubernetes-version",
            KUBERNETES_VERSION,
            "-",
        ],
        input=rendered,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "No module named kubernetes_validate" not in done.stderr, (
        "kubernetes-validate is not installed: pip install --group test"
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    # "INFO - passed for resource deployment/judge against version 1.32"
    passed = [line.split(" for resource ")[1].split()[0] for line in lines if line.startswith("INFO ")]
    problems = [line for line in lines if not line.startswith("INFO ")]
    return Report(done.returncode, passed, problems)
