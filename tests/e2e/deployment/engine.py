"""A Docker engine to run the deployment on: the one already running (a laptop's, a CI runner's), or one
started here from Debian's packages in a network namespace of its own.

Our own engine lives in the namespace `smoa-e2e`, joined to this machine by a veth pair (10.231.0.1 here,
10.231.0.2 inside), so the ports the deployment publishes are reached at 10.231.0.2 and every address
the test sends traffic to is on this machine. dockerd is started with `nsenter --net=`, not `ip netns
exec`, which remounts /sys and leaves dockerd without its cgroups. Its data root stays between runs (the
base image and BuildKit's cache make a second run fast); everything running is stopped, and the
namespace removed, by `stop()`, by name and by process id.

Starting one needs root and network namespaces; without them `EngineUnavailable` says why, and the e2e
skips with that reason as its last line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

NAMESPACE = "smoa-e2e"
HOST_LINK, INNER_LINK = "smoa-e2e-h", "smoa-e2e-n"
HOST_ADDRESS, INNER_ADDRESS = "10.231.0.1", "10.231.0.2"
STATE = Path("/run/smoa-e2e")
SOCKET = STATE / "docker.sock"
PIDFILE = STATE / "docker.pid"
DATA_ROOT = Path("/var/lib/smoa-e2e/docker")
# Debian's client: it speaks BuildKit to its own 20.10 engine without the buildx plugin, which a newer
# client (found first on PATH) would insist on.
DEBIAN_DOCKER = "/usr/bin/docker"
PACKAGES = ["docker.io", "docker-compose", "iptables", "debootstrap", "libnetfilter-queue1"]
BINARIES = ["dockerd", "docker-compose", "iptables", "debootstrap", "nsenter"]
# link_delay.py's, for the network delay fault
NFQUEUE_LIBRARY = "/usr/lib/x86_64-linux-gnu/libnetfilter_queue.so.1"

Log = Callable[[str], None]


class EngineUnavailable(Exception):
    """No engine runs here, and none can be started: the reason is the message."""


@dataclass
class Engine:
    docker: list[str]  # the docker command line, with -H for our own engine
    compose: list[str]  # docker compose (v2 plugin) or docker-compose (1.29)
    env: dict[str, str]  # for both: DOCKER_HOST, DOCKER_BUILDKIT
    address: str  # where this machine reaches the published ports
    own: bool = False
    dockerd: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.docker, *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def inspect(self, container: str) -> dict[str, object]:
        found: list[dict[str, object]] = json.loads(self.run("inspect", container).stdout)
        return found[0]

    def stop(self, log: Log) -> None:
        if self.own:
            stop_own_engine(log, self.dockerd)


def _works(docker: list[str], env: dict[str, str]) -> bool:
    try:
        probed = subprocess.run(
            [*docker, "version", "--format", "{{.Server.Version}}"],
            env={**os.environ, **env},
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probed.returncode == 0


def _compose_of(docker: list[str], env: dict[str, str]) -> list[str] | None:
    plugin = subprocess.run(
        [*docker, "compose", "version"], env={**os.environ, **env}, capture_output=True, check=False
    )
    if plugin.returncode == 0:
        return [*docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def find_or_start(log: Log) -> Engine:
    """The engine already running, else our own. Raises EngineUnavailable with the reason."""
    docker = shutil.which("docker")
    if docker and _works([docker], {}) and os.environ.get("SMOA_E2E_OWN_ENGINE") != "1":
        compose = _compose_of([docker], {})
        if compose is None:
            raise EngineUnavailable(
                "a Docker engine runs, but neither `docker compose` nor docker-compose is here"
            )
        log(f"engine: the one already running ({docker})")
        return Engine([docker], compose, {"DOCKER_BUILDKIT": "1"}, "127.0.0.1")
    return start_own_engine(log)


def _can_start(log: Log) -> None:
    if os.geteuid() != 0:
        raise EngineUnavailable("no Docker engine is running, and starting one needs root (run as root)")
    if not Path("/proc/self/ns/net").exists() or shutil.which("ip") is None:
        raise EngineUnavailable("no Docker engine is running, and this machine has no network namespaces")
    needed = [Path(DEBIAN_DOCKER), Path(NFQUEUE_LIBRARY)]
    if any(shutil.which(b) is None for b in BINARIES) or not all(p.exists() for p in needed):
        log(f"engine: installing Debian's packages as root: {' '.join(PACKAGES)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
            if done.returncode != 0:
                raise EngineUnavailable(f"`{' '.join(command)}` failed: {done.stderr.strip()[-300:]}")


def _ip(*args: str, inside: bool = False, check: bool = True) -> subprocess.CompletedProcess[str]:
    prefix = ["nsenter", f"--net=/run/netns/{NAMESPACE}"] if inside else []
    return subprocess.run([*prefix, "ip", *args], capture_output=True, text=True, timeout=30, check=check)


def start_own_engine(log: Log) -> Engine:
    _can_start(log)
    stop_own_engine(log, None)  # what an interrupted run left behind
    made = _ip("netns", "add", NAMESPACE, check=False)
    if made.returncode != 0:
        raise EngineUnavailable(f"cannot make a network namespace: {made.stderr.strip()}")
    _ip("link", "add", HOST_LINK, "type", "veth", "peer", "name", INNER_LINK)
    _ip("link", "set", INNER_LINK, "netns", NAMESPACE)
    _ip("addr", "add", f"{HOST_ADDRESS}/30", "dev", HOST_LINK)
    _ip("link", "set", HOST_LINK, "up")
    _ip("addr", "add", f"{INNER_ADDRESS}/30", "dev", INNER_LINK, inside=True)
    _ip("link", "set", INNER_LINK, "up", inside=True)
    _ip("link", "set", "lo", "up", inside=True)
    _ip("route", "add", "default", "via", HOST_ADDRESS, inside=True)
    STATE.mkdir(parents=True, exist_ok=True)
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    dockerd = subprocess.Popen(
        [
            "nsenter",
            f"--net=/run/netns/{NAMESPACE}",
            "dockerd",
            "--host",
            f"unix://{SOCKET}",
            "--data-root",
            str(DATA_ROOT),
            "--exec-root",
            str(STATE / "exec"),
            "--pidfile",
            str(PIDFILE),
        ],
        stdout=(STATE / "dockerd.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    docker = [DEBIAN_DOCKER, "--host", f"unix://{SOCKET}"]
    env = {"DOCKER_HOST": f"unix://{SOCKET}", "DOCKER_BUILDKIT": "1"}
    while not _works(docker, env):
        if dockerd.poll() is not None or time.monotonic() - started > 60:
            tail = (STATE / "dockerd.log").read_text(errors="replace")[-600:]
            stop_own_engine(log, dockerd)
            raise EngineUnavailable(f"dockerd did not start: {tail}")
        time.sleep(0.5)
    log(
        f"engine: dockerd (pid {dockerd.pid}) in the network namespace {NAMESPACE}, "
        f"up in {time.monotonic() - started:.1f} s; published ports at {INNER_ADDRESS}"
    )
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose was just installed"
    return Engine(docker, [compose], env, INNER_ADDRESS, own=True, dockerd=dockerd)


def stop_own_engine(log: Log, dockerd: subprocess.Popen[bytes] | None) -> None:
    """dockerd (by our Popen, else by its pidfile) and then the namespace, by name. Safe to call when
    nothing is running."""
    pid = dockerd.pid if dockerd is not None else _pid_from_file()
    if pid is not None:
        log(f"engine: stopping dockerd (pid {pid})")
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _alive(pid, dockerd) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid, dockerd):
            _signal(pid, signal.SIGKILL)
    if _ip("netns", "pids", NAMESPACE, check=False).stdout.split():
        for leftover in _ip("netns", "pids", NAMESPACE, check=False).stdout.split():
            _signal(int(leftover), signal.SIGKILL)
    _ip("link", "del", HOST_LINK, check=False)  # deletes both ends
    if _ip("netns", "del", NAMESPACE, check=False).returncode == 0:
        log(f"engine: network namespace {NAMESPACE} removed")
    PIDFILE.unlink(missing_ok=True)


def _pid_from_file() -> int | None:
    try:
        return int(PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return None


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _alive(pid: int, dockerd: subprocess.Popen[bytes] | None) -> bool:
    if dockerd is not None:
        return dockerd.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
