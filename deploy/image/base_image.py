"""A base image for the smoa image made from Debian's packages, for machines that reach no container
registry (the Dockerfile's default base, python:3.11-slim-bookworm, comes from Docker Hub):

    sudo python deploy/image/base_image.py smoa-base:bookworm [--docker docker]

debootstrap (minbase) of bookworm with its Python 3.11 (the same minor version as the default base, so the
wheels fit either), venv, CA certificates and llama.cpp's OpenMP runtime, imported into the engine as one
layer. Needs root and debootstrap (`apt-get install debootstrap`); about 2 minutes, and nothing when the
engine has the image already (--rebuild to make it again).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RELEASE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# What the runtime stage needs of its base: python3 and venv (the image installs into /opt/smoa),
# libgomp1 (llama.cpp), passwd (useradd), CA certificates (an LLM provider over HTTPS).
PACKAGES = ["python3", "python3-venv", "ca-certificates", "libgomp1", "passwd"]
# Left out of the image: documentation, the package lists (apt-get update brings them back) and caches.
PRUNED = ["usr/share/doc", "usr/share/man", "usr/share/info", "var/lib/apt/lists", "var/cache/apt"]


def exists(docker: list[str], image: str) -> bool:
    inspected = subprocess.run([*docker, "image", "inspect", image], capture_output=True, check=False)
    return inspected.returncode == 0


def build(docker: list[str], image: str, workdir: Path) -> None:
    rootfs = workdir / "rootfs"
    include = ",".join(PACKAGES)
    subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={include}", RELEASE, str(rootfs), MIRROR], check=True
    )
    for path in PRUNED:
        target = rootfs / path
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True, exist_ok=True)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(
        [*docker, "import", "--change", 'CMD ["python3"]', "--message", f"debootstrap {RELEASE}", "-", image],
        stdin=tar.stdout,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if tar.wait() != 0:
        raise SystemExit("tar of the root filesystem failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("image", nargs="?", default=f"smoa-base:{RELEASE}")
    parser.add_argument("--docker", default="docker", help="the docker command (a path, or with -H HOST)")
    parser.add_argument("--rebuild", action="store_true", help="make it again though the engine has it")
    args = parser.parse_args(argv)
    docker = args.docker.split()
    if exists(docker, args.image) and not args.rebuild:
        print(f"base image: {args.image} is there already")
        return 0
    if shutil.which("debootstrap") is None:
        raise SystemExit("debootstrap is not installed: apt-get install debootstrap (as root)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="smoa-base-", dir="/var/tmp") as workdir:
        build(docker, args.image, Path(workdir))
    print(f"base image: {args.image} from debootstrap {RELEASE} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
