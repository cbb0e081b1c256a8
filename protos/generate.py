"""Generates the Python code of the smoa.v1 contract into clients/smoa/v1, and the SDK's keyword overrides
(clients/smoa/overrides.py) from GenerateOptions, and checks both for drift.

    python protos/generate.py           # regenerate in place
    python protos/generate.py --check   # exit 1 if the committed code differs from a fresh generation

Messages and stubs come from grpc_tools.protoc; the .pyi files from mypy-protobuf's plugins, so the
generated stubs (including the grpc.aio ones) type-check under mypy --strict. GenerateOverrides is
GenerateOptions' fields as a TypedDict, read from options.py's source (not imported, so a stale or missing
overrides.py cannot stop its own regeneration): an option is declared once, in GenerateOptions.
"""

from __future__ import annotations

import argparse
import ast
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
OPTIONS = Path("smoa") / "options.py"
OVERRIDES = Path("smoa") / "overrides.py"


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
    (out / OVERRIDES).write_text(overrides((OUT / OPTIONS).read_text()))
    return sorted(p.relative_to(out) for p in [*(out / PACKAGE).iterdir(), out / OVERRIDES] if p.is_file())


def overrides(options_source: str) -> str:
    """The source of overrides.py: GenerateOptions' annotations as a total=False TypedDict, with the
    imports of options.py its annotations use, in options.py's (sorted) order."""
    module = ast.parse(options_source)
    declared = next(n for n in module.body if isinstance(n, ast.ClassDef) and n.name == "GenerateOptions")
    fields = [
        (n.target.id, ast.unparse(n.annotation))
        for n in declared.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    ]
    used = {n.id for _, a in fields for n in ast.walk(ast.parse(a)) if isinstance(n, ast.Name)}
    standard, own = ["from typing import TypedDict"], list[str]()
    for n in module.body:
        if (
            isinstance(n, ast.ImportFrom)
            and n.module
            and (names := [a.name for a in n.names if a.name in used])
        ):
            group = own if n.module.split(".")[0] == "smoa" else standard
            group.append(f"from {n.module} import {', '.join(sorted(names))}")
    imports = ["from __future__ import annotations", "", *sorted(standard), "", *own]
    lines = [
        '"""Generated from GenerateOptions (smoa/options.py) by protos/generate.py: do not edit.',
        "",
        "GenerateOverrides: GenerateOptions' fields as keyword arguments of generate() and stream(), each",
        'overriding the GenerateOptions given, so that they type-check as keywords too."""',
        "",
        *imports,
        "",
        "",
        "class GenerateOverrides(TypedDict, total=False):",
        *(f"    {name}: {annotation}" for name, annotation in fields),
    ]
    return "\n".join(lines) + "\n"


def drift() -> list[str]:
    """Files whose committed content differs from a fresh generation (or that are missing / extra)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        committed = sorted(p.relative_to(OUT) for p in [*(OUT / PACKAGE).glob("*.py*"), OUT / OVERRIDES])
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
