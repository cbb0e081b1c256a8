"""The layout the README draws, held: smoa_services' packages in floors, each importing only from the
floors below it (so no cycles between packages), the SDK never importing the services, and neither of them
importing their test support."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "services" / "smoa_services"

# Top floor first. A package may import its own modules and any package on a lower floor.
FLOORS = [
    {"proposer", "judge", "moderator", "orchestrator", "gateway"},
    {"wire"},
    {"platform", "ensemble", "stack"},
    {"llm"},
    {"access", "telemetry"},
    {"config", "rpc", "timing"},
]
FLOOR = {package: len(FLOORS) - i for i, floor in enumerate(FLOORS) for package in floor}


def imported(path: Path) -> set[str]:
    """Every module a file names in an import, at any depth (TYPE_CHECKING and function bodies too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def package_of(path: Path) -> str:
    relative = path.relative_to(SERVICES)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


SOURCES = sorted(p for p in SERVICES.rglob("*.py") if package_of(p) != "__init__")


def test_every_package_has_a_floor() -> None:
    assert {package_of(p) for p in SOURCES} == set(FLOOR)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SERVICES)))
def test_a_module_imports_only_from_its_own_package_or_a_lower_floor(path: Path) -> None:
    home = package_of(path)
    upward = sorted(
        name
        for name in imported(path)
        if name.startswith("smoa_services.")
        and (other := name.split(".")[1]) in FLOOR
        and other != home
        and FLOOR[other] >= FLOOR[home]
    )
    assert not upward, f"{home} (floor {FLOOR[home]}) imports from its own floor or above: {upward}"


# `smoa serve` starts the local stack when the services are installed beside the SDK (an ImportError
# otherwise says to install them): the SDK's one use of the services, and an optional one.
SDK_MAY_IMPORT = {"clients/smoa/cli.py: smoa_services", "clients/smoa/cli.py: smoa_services.stack"}


@pytest.mark.parametrize(
    ("tree", "forbidden"),
    [
        (SERVICES, ("smoa_testing", "tests")),
        (ROOT / "clients" / "smoa", ("smoa_services", "smoa_testing", "tests")),
    ],
    ids=["services", "sdk"],
)
def test_what_is_served_never_imports_what_tests_it_nor_the_sdk_the_services(
    tree: Path, forbidden: tuple[str, ...]
) -> None:
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in tree.rglob("*.py")
        for name in imported(path)
        if name.split(".")[0] in forbidden
    }
    assert sorted(found - SDK_MAY_IMPORT) == []
