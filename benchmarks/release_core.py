"""Benchmarks time the release build of the core: a debug build is many times slower, and a figure from
one would say nothing about the service. `make build-release` (or `make bench`) installs it."""

from __future__ import annotations

import sys

import smoa_core_rs


def require_release_core() -> None:
    if smoa_core_rs.BUILD != "release":
        sys.exit(
            f"smoa_core_rs is the {smoa_core_rs.BUILD} build: run `make build-release` first, "
            "so the benchmark times what a deployment runs"
        )
