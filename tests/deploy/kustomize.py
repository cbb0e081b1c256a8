"""Just enough of kustomize to check our manifests without the binary: `resources` (files and directories,
recursively), `namespace`, `labels`, `images`, `configMapGenerator` and `secretGenerator` (literals, files,
behavior merge), and `patches` given by `path` (strategic merge, the target named by the patch itself).
Generated ConfigMaps and Secrets keep their plain name (kustomize appends a content hash and rewrites
references; the tests that render with `kubectl kustomize`, where kubectl is installed, cover that)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
# The lists a strategic merge patch merges item by item, by this key (Kubernetes' patchMergeKey in a pod
# template; a Service's ports would merge by port); every other list is replaced whole.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}


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
        _generate(directory, "ConfigMap", generator, docs)
    for generator in spec.get("secretGenerator", []):
        _generate(directory, "Secret", generator, docs)
    for patch in spec.get("patches", []):
        _patch(directory, patch, docs)
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


def _generated_data(directory: Path, generator: Manifest) -> dict[str, str]:
    """A generator's data as text: `literals` (KEY=VALUE) and `files` (KEY=PATH, or PATH keyed by its
    name), relative to the kustomization."""
    data: dict[str, str] = {}
    for literal in generator.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    for entry in generator.get("files", []):
        key, _, file = entry.rpartition("=") if "=" in entry else (Path(entry).name, "", entry)
        data[key] = (directory / file).read_text()
    return data


def _generate(directory: Path, kind: str, generator: Manifest, docs: list[Manifest]) -> None:
    data = _generated_data(directory, generator)
    if kind == "Secret":
        data = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    name = generator["name"]
    if generator.get("behavior", "create") == "merge":
        existing = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
        assert len(existing) == 1, f"{kind} generator {name}: merge needs exactly one {kind} to merge into"
        existing[0].setdefault("data", {}).update(data)
        return
    generated: Manifest = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "data": data}
    if kind == "Secret":
        generated["type"] = generator.get("type", "Opaque")
    docs.append(generated)


def _patch(directory: Path, patch: Manifest, docs: list[Manifest]) -> None:
    assert set(patch) == {"path"}, f"only patches given by path are supported: {patch}"
    for change in load_documents(directory / patch["path"]):
        assert isinstance(change, dict), f"{patch['path']}: a JSON 6902 patch is not supported"
        kind, name = change["kind"], change["metadata"]["name"]
        targets = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
        assert len(targets) == 1, f"{patch['path']}: no single {kind} {name} to patch"
        strategic_merge(targets[0], change)


def strategic_merge(target: Manifest, patch: Manifest) -> None:
    """Kubernetes' strategic merge, as far as our patches go: maps merge key by key, a null deletes the key,
    the lists of MERGE_KEYS merge item by item, other values are replaced. No `$patch` directives."""
    for key, value in patch.items():
        assert not key.startswith("$"), f"strategic merge directive {key} is not supported"
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            strategic_merge(target[key], value)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(target.get(key), list):
            _merge_list(target[key], value, MERGE_KEYS[key])
        else:
            target[key] = value


def _merge_list(target: list[Manifest], patch: list[Manifest], merge_key: str) -> None:
    for item in patch:
        same = [t for t in target if t.get(merge_key) == item[merge_key]]
        if same:
            strategic_merge(same[0], item)
        else:
            target.append(item)


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
