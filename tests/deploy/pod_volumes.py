"""What the kubelet mounts into a Deployment's container: each Secret and ConfigMap volume written out as
one file per key, into a folder of the test's, by the path it is mounted at."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.deploy.manifests import Manifest, container, one


def volume_files(docs: list[Manifest], volume: Manifest) -> dict[str, bytes] | None:
    """A Secret's or ConfigMap's data as file contents by key; None for other volumes (emptyDir)."""
    if "secret" in volume:
        data = one(docs, "Secret", volume["secret"]["secretName"]).get("data", {})
        return {key: base64.b64decode(value) for key, value in data.items()}
    if "configMap" in volume:
        data = one(docs, "ConfigMap", volume["configMap"]["name"]).get("data", {})
        return {key: value.encode() for key, value in data.items()}
    return None


def mounted(docs: list[Manifest], deployment: Manifest, root: Path) -> dict[str, Path]:
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    mounts: dict[str, Path] = {}
    for mount in container(deployment).get("volumeMounts", []):
        files = volume_files(docs, volumes[mount["name"]])
        if files is None:
            continue
        folder = root / deployment["metadata"]["name"] / mount["name"]
        folder.mkdir(parents=True)
        for key, content in files.items():
            (folder / key).write_bytes(content)
        mounts[mount["mountPath"]] = folder
    return mounts
