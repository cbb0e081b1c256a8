"""Generates the Python code of the smoa.v1 contract into clients/smoa/v1 (and checks it for drift).

    python protos/generate.py           # regenerate in place
    python protos/generate.py --check   # exit 1 if the committed code differs from a fresh generation

Messages and stubs come from grpc_tools.protoc; the .pyi files from mypy-protobuf's plugins, so the
generated stubs (including the grpc.aio ones) type-check under mypy --strict.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "clients"
PACKAGE = Path("smoa") / "v1"


def generate(out: Path) -> list[Path]:
    """Writes smoa/v1/*_pb2*.py[i] under `out`; returns the files written, relative to `out`."""
    import grpc_tools
    from grpc_tools import protoc

    sources = sorted(str(p.relative_to(PROTOS)) for p in (PROTOS / PACKAGE).glob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    scripts = Path(sysconfig.get_path("scripts"))
    args = [
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{well_known}",
        f"--plugin=protoc-gen-mypy={scripts / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={scripts / 'protoc-gen-mypy_grpc'}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    (out / PACKAGE / "__init__.py").write_text('"""Generated from protos/smoa/v1 by protos/generate.py."""\n')
    return sorted(p.relative_to(out) for p in (out / PACKAGE).iterdir() if p.is_file())


def drift() -> list[str]:
    """Files whose committed content differs from a fresh generation (or that are missing / extra)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        committed = sorted(p.relative_to(OUT) for p in (OUT / PACKAGE).glob("*.py*"))
        differ = [
            p for p in fresh if not (OUT / p).exists() or not filecmp.cmp(Path(tmp) / p, OUT / p, False)
        ]
        return [str(p) for p in differ + [p for p in committed if p not in fresh]]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    if parser.parse_args().check:
        stale = drift()
        for name in stale:
            print(f"stale: clients/{name}", file=sys.stderr)
        if stale:
            print("run: python protos/generate.py", file=sys.stderr)
        return 1 if stale else 0
    for old in (OUT / PACKAGE).glob("*_pb2*"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        for rel in generate(Path(tmp)):
            shutil.copyfile(Path(tmp) / rel, OUT / rel)
            print(f"wrote clients/{rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
