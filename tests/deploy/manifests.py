"""Finding things in rendered manifests, and a container's variables as the kubelet sets them."""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]


def find(docs: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[Manifest], kind: str, name: str) -> Manifest:
    (found,) = find(docs, kind, name)
    return found


def config_map(docs: list[Manifest], referenced: str) -> Manifest:
    """The ConfigMap a Deployment references (kustomize rewrites references to generated, hashed names)."""
    found = find(docs, "ConfigMap", referenced)
    assert len(found) == 1, f"no ConfigMap {referenced}"
    return found[0]


def container(deployment: Manifest) -> Manifest:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def environment(docs: list[Manifest], deployment: Manifest) -> dict[str, str]:
    """The container's variables as the kubelet sets them: envFrom ConfigMaps, then env (which wins)."""
    spec = container(deployment)
    values: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        values.update(config_map(docs, source["configMapRef"]["name"]).get("data", {}))
    for variable in spec.get("env", []):
        if "value" in variable:
            values[variable["name"]] = str(variable["value"])
    return values
