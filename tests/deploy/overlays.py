"""deploy/k8s's overlays as `kubectl kustomize` renders them (the kustomize built into kubectl; no cluster is
involved), parsed. Nothing here re-implements kustomize: where kubectl is not on PATH, a test that needs a
rendering is skipped and says so. The secured overlays render only with their Secrets' files present, so
they are rendered from a copy of deploy/k8s with trial secrets (deploy/make_secrets.py's) in it."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy import trial_secrets
from tests.deploy.manifests import Manifest
from tests.deploy.paths import K8S

# Each overlay by name, as a folder of deploy/k8s.
OVERLAYS = {
    "default": Path("."),
    "base": Path("base"),
    "tracing": Path("tracing"),
    "secure": Path("secure"),
    "secure-tracing": Path("secure-tracing"),
    "quotas": Path("quotas"),
}
SECURED = ("secure", "secure-tracing")
TRACED = ("tracing", "secure-tracing")
QUOTAS = ("quotas",)
COMPONENTS = {name: K8S / "components" / name for name in ("secure", "tracing", "quotas")}
# Where the secure component's Secrets are made from (gitignored; under the component, as kustomize's load
# restrictor wants).
SECRETS = Path("components") / "secure" / "secrets"


def with_trial_secrets(destination: Path) -> Path:
    """deploy/k8s copied to `destination` (without any secrets of this checkout), with trial secrets made
    where the secure component reads them."""
    shutil.copytree(K8S, destination, ignore=shutil.ignore_patterns("secrets"))
    trial_secrets.make(destination / SECRETS)
    return destination


@functools.cache
def rendered_yaml(directory: Path) -> str:
    """`kubectl kustomize DIR`'s output; skips the test where kubectl is not on PATH."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH")
    done = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"kubectl kustomize {directory}: {done.stderr}"
    return done.stdout


def render(directory: Path) -> list[Manifest]:
    """The objects `kubectl kustomize DIR` renders, freshly parsed (a test may change its copy)."""
    return [doc for doc in yaml.safe_load_all(rendered_yaml(directory)) if doc]


def kustomization(directory: Path) -> Manifest:
    """A kustomization's own file (what it lists), as written."""
    loaded: Manifest = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return loaded


def load_documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
