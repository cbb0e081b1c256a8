"""Just enough of kustomize to check our manifests without the binary: `resources` (files and directories,
recursively), `namespace`, `labels`, `images` and `configMapGenerator` (literals, files, behavior merge).
Generated ConfigMaps keep their plain name (kustomize appends a content hash and rewrites references; the
test that renders with `kubectl kustomize`, where kubectl is installed, covers that)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def load_documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization(directory: Path) -> Manifest:
    loaded: Manifest = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return loaded


def build(directory: Path) -> list[Manifest]:
    spec = kustomization(directory)
    docs: list[Manifest] = []
    for resource in spec.get("resources", []):
        path = (directory / resource).resolve()
        docs += build(path) if path.is_dir() else load_documents(path)
    for generator in spec.get("configMapGenerator", []):
        _generate(directory, generator, docs)
    for pair in spec.get("labels", []):
        for doc in docs:
            doc.setdefault("metadata", {}).setdefault("labels", {}).update(pair["pairs"])
    for image in spec.get("images", []):
        for container in containers_of(docs):
            _set_image(container, image)
    namespace = spec.get("namespace")
    if namespace:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc.setdefault("metadata", {})["namespace"] = namespace
    return docs


def _generate(directory: Path, generator: Manifest, docs: list[Manifest]) -> None:
    data: dict[str, str] = {}
    for literal in generator.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    for entry in generator.get("files", []):
        key, _, file = entry.rpartition("=") if "=" in entry else (Path(entry).name, "", entry)
        data[key] = (directory / file).read_text()
    name = generator["name"]
    if generator.get("behavior", "create") == "merge":
        existing = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name]
        assert len(existing) == 1, (
            f"configMapGenerator {name}: merge needs exactly one ConfigMap to merge into"
        )
        existing[0].setdefault("data", {}).update(data)
    else:
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})


def _set_image(container: Manifest, image: Manifest) -> None:
    current: str = container["image"]
    name, _, tag = current.partition(":") if "@" not in current else (current, "", "")
    if name != image["name"]:
        return
    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}".rstrip(":")


def containers_of(docs: list[Manifest]) -> list[Manifest]:
    found: list[Manifest] = []
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
            pod = doc["spec"]["template"]["spec"]
            found += pod.get("initContainers", []) + pod["containers"]
    return found


def kubectl_build(directory: Path) -> list[Manifest] | None:
    """`kubectl kustomize DIR` (no cluster involved), or None where kubectl is not installed."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    rendered = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60, check=False
    )
    assert rendered.returncode == 0, rendered.stderr
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
