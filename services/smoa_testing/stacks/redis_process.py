"""Debian's redis-server as a process of the test's own, on a Unix socket in a temporary folder (no TCP
port to collide with: `--port 0`), nothing saved to disk; stopped, or killed mid-test, by the test."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from smoa_testing.eventually import wait_for

# As docker-compose.quotas.yml and deploy/k8s run it: nothing saved.
COMMAND = ("redis-server", "--save", "", "--appendonly", "no")


class RedisProcess:
    def __init__(self, folder: Path, command: Sequence[str] = COMMAND):
        """`command`: how a deployment runs it; its socket and folder are the test's."""
        self.socket = folder / "redis.sock"
        self.process = subprocess.Popen(
            [*command, "--port", "0", "--unixsocket", str(self.socket), "--dir", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for(self._answers, 10, unless=lambda: self.process.poll() is not None):
            self.stop()
            raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1)
                s.connect(str(self.socket))
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@contextmanager
def redis_process(folder: Path, command: Sequence[str] = COMMAND) -> Iterator[RedisProcess]:
    server = RedisProcess(folder, command)
    try:
        yield server
    finally:
        server.stop()
