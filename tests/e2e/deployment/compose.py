"""The compose project the e2e starts on an engine: up, healthy, its containers by service, down."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from smoa_testing.eventually import wait_for
from tests.e2e.deployment.engine import Engine, Log

ROOT = Path(__file__).resolve().parents[3]
E2E_FILE = Path(__file__).with_name("docker-compose.e2e.yml")


@dataclass
class ComposeProject:
    engine: Engine
    files: list[Path]
    name: str = "smoa-e2e"
    env: dict[str, str] = field(default_factory=dict)

    def compose(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [*self.engine.compose, "--project-name", self.name]
        for file in self.files:
            command += ["--file", str(file)]
        done = subprocess.run(
            [*command, *args],
            cwd=ROOT,
            env={**os.environ, **self.engine.env, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"compose {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def up(self, log: Log, timeout: float = 240) -> float:
        """Starts everything and waits until every container is healthy; the seconds that took."""
        started = time.monotonic()
        self.compose("up", "--detach", "--no-build", timeout=timeout)
        self.wait_healthy(timeout - (time.monotonic() - started))
        took = time.monotonic() - started
        log(f"compose: {len(self.containers())} containers of {self.name} healthy in {took:.0f} s")
        return took

    def containers(self, service: str | None = None) -> list[str]:
        """Container names, in replica order (orchestrator_1, orchestrator_2, ...)."""
        listed = self.compose("ps", "--quiet", *([service] if service else [])).stdout.split()
        names = [self.engine.inspect(c)["Name"] for c in listed]
        return sorted(str(n).lstrip("/") for n in names)

    def health(self) -> dict[str, str]:
        """Every container's health (its state where it has no health check)."""
        found: dict[str, str] = {}
        for name in self.containers():
            state = self.engine.inspect(name)["State"]
            assert isinstance(state, dict)
            health = state.get("Health")
            found[name] = str(health["Status"]) if isinstance(health, dict) else str(state["Status"])
        return found

    def wait_healthy(self, timeout: float) -> None:
        def healthy() -> bool:
            return all(status in {"healthy", "running"} for status in self.health().values())

        if not wait_for(healthy, timeout, every=1):
            raise RuntimeError(f"not healthy after {timeout:.0f} s: {json.dumps(self.health())}")

    def published(self, container: str, port: int) -> int:
        """The host port a container's port is published on."""
        mapped = self.engine.run("port", container, str(port)).stdout.split()[0]
        return int(mapped.rpartition(":")[2])

    def logs(self, container: str, tail: int = 50) -> str:
        done = self.engine.run("logs", "--tail", str(tail), container, check=False)
        return done.stdout + done.stderr

    def down(self, log: Log) -> None:
        # Nothing is in flight by now; the drain would otherwise wait out stop_grace_period.
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "20", timeout=300, check=False)
        log(f"compose: {self.name} down")
