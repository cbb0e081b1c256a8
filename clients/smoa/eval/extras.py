"""The eval extra's packages (openai, rich, matplotlib) are imported on first use, so `import smoa` and
the base SDK stay grpcio + protobuf only; a missing one says how to install it."""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL = "pip install 'smoa[eval]'"


class MissingExtra(ImportError):
    """An optional dependency of `smoa eval` is not installed."""


def require(module: str, purpose: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtra(f"{purpose} needs {module.split('.')[0]}: {INSTALL}") from e
