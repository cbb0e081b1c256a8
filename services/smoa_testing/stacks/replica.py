"""A service as a real process on its own loopback address (127.0.0.0/8 is all on `lo` on Linux, so
127.0.0.2, .3, ... bind without configuration): started, signalled (killed, frozen, thawed, terminated)
and restarted on the same address and port, with its output in a log of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from smoa_testing.eventually import wait_for


def free_port(hosts: list[str]) -> int:
    """A port free on every one of `hosts` (picked on the first, checked on the others)."""
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind((hosts[0], 0))
            port = int(probe.getsockname()[1])
        try:
            for host in hosts[1:]:
                with socket.socket() as other:
                    other.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free on every address")


def service_environment(base_url: str, **settings: str) -> dict[str, str]:
    """Only what the test sets: no SMOA_* or OTEL_* from the caller's shell. `settings` are SMOA_* names
    without the prefix (grace_seconds="0")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOA_", "OTEL_"))}
    env.update(SMOA_LLM_BASE_URL=base_url, SMOA_LLM_MAX_RETRIES="0", SMOA_GRACE_SECONDS="0")
    env.update(SMOA_DRAIN_DELAY_SECONDS="0")
    env.update({f"SMOA_{name.upper()}": value for name, value in settings.items()})
    return env


class Replica:
    def __init__(self, service: str, host: str, port: int, logs: Path, env: Mapping[str, str]):
        self.service, self.host, self.port, self.env = service, host, port, dict(env)
        self.log = logs / f"{service}-{host}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        """Starts the process and returns once it listens."""
        command = [sys.executable, "-m", f"smoa_services.{self.service}", "--host", self.host]
        # A restart appends to the same log: look for its own line only.
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        listening = f"listening on {self.address}".encode()
        process = self.process
        if not wait_for(
            lambda: listening in self.log.read_bytes()[offset:],
            timeout,
            0.05,
            lambda: process.poll() is not None,
        ):
            raise RuntimeError(f"{self.service} on {self.address} did not start:\n{self.log.read_text()}")

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL: no drain, connections reset, as when a machine or container dies."""
        self.signal(signal.SIGKILL)
        self.wait(10)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
