"""Faults injected from outside the containers, the way an operator meets them: the engine's own kill,
pause and stop, and the network of one container changed from this machine (nsenter into its network
namespace: the container itself gets no capability for it). Each fault knows how to undo itself.

- kill        `docker kill`: the process dies at once (SIGKILL), its connections with it
- pause       `docker pause`: the cgroup freezer; connections stay open and nothing answers
- stop        `docker stop`: SIGTERM, the drain (NOT_SERVING with the port open, then the grace), exit;
              a watcher records when health said NOT_SERVING and when the port stopped answering
- slow link   every packet the container sends 200 ms late and 5% of them lost: `tc qdisc ... netem
              delay 200ms loss 5%`, which this machine's kernel lacks (no sch_netem), done with an NFQUEUE
              delay (link_delay.py) and iptables' random drop
- partition   every packet to and from the container dropped (iptables in its namespace)
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.deployment.engine import Engine

LINK_DELAY = Path(__file__).with_name("link_delay.py")


def container_pid(engine: Engine, container: str) -> int:
    state = engine.inspect(container)["State"]
    assert isinstance(state, dict)
    return int(state["Pid"])


def in_namespace(pid: int, *command: str) -> list[str]:
    return ["nsenter", f"--net=/proc/{pid}/ns/net", *command]


class Fault:
    name = ""
    # What the e2e expects of it, in the report's words.
    expected = ""

    def __init__(self, engine: Engine, container: str):
        self.engine = engine
        self.container = container

    def inject(self) -> None:
        raise NotImplementedError

    def heal(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name} {self.container}"


class Kill(Fault):
    name = "kill"
    expected = "in-flight calls to it retried on the others; its address leaves the rotation at once"

    def inject(self) -> None:
        self.engine.run("kill", self.container)

    def heal(self) -> None:
        # restart: unless-stopped counts a kill as a stop, so it stays down until started again.
        self.engine.run("start", self.container)


class Pause(Fault):
    name = "pause"
    expected = "its calls cut off as stragglers, then it is ejected and its connection dropped"

    def inject(self) -> None:
        self.engine.run("pause", self.container)

    def heal(self) -> None:
        self.engine.run("unpause", self.container)


@dataclass
class DrainSeen:
    """What a watcher saw of a replica's health on its own published port (seconds since the stop)."""

    not_serving_after: float | None = None
    closed_after: float | None = None
    exited_after: float | None = None
    statuses: list[tuple[float, str]] = field(default_factory=list)


class Stop(Fault):
    name = "stop"
    expected = "NOT_SERVING while its port still answers, new calls go to the other replica, then it exits"

    def __init__(self, engine: Engine, container: str, address: str):
        super().__init__(engine, container)
        self.address = address  # host:port of this replica alone
        self.seen = DrainSeen()
        self._threads: list[threading.Thread] = []
        self._done = threading.Event()

    def inject(self) -> None:
        started = time.monotonic()
        watcher = threading.Thread(target=self._watch, args=(started,), daemon=True)
        stopper = threading.Thread(target=self._stop, args=(started,), daemon=True)
        self._threads = [watcher, stopper]
        watcher.start()
        stopper.start()

    def _stop(self, started: float) -> None:
        self.engine.run("stop", self.container, timeout=400)
        self.seen.exited_after = time.monotonic() - started
        self._done.set()

    def _watch(self, started: float) -> None:
        with grpc.insecure_channel(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            last = ""
            while not self._done.is_set():
                try:
                    status = health_pb2.HealthCheckResponse.ServingStatus.Name(
                        health.Check(health_pb2.HealthCheckRequest(), timeout=0.5).status
                    )
                except grpc.RpcError as e:
                    status = e.code().name
                now = time.monotonic() - started
                if status != last:
                    self.seen.statuses.append((round(now, 3), status))
                    last = status
                if status == "NOT_SERVING" and self.seen.not_serving_after is None:
                    self.seen.not_serving_after = now
                if status not in {"SERVING", "NOT_SERVING"} and self.seen.closed_after is None:
                    self.seen.closed_after = now
                time.sleep(0.05)

    def heal(self) -> None:
        self._done.wait(timeout=400)
        for thread in self._threads:
            thread.join(timeout=5)
        self.engine.run("start", self.container)


class SlowLink(Fault):
    name = "slow link"
    expected = "slower answers from it, no failure; a replica that falls behind is cut off as a straggler"

    def __init__(self, engine: Engine, container: str, delay_ms: int = 200, loss: float = 0.05):
        super().__init__(engine, container)
        self.delay_ms, self.loss = delay_ms, loss
        self.delayer: subprocess.Popen[str] | None = None

    def _drop(self, action: str) -> list[str]:
        return [
            "iptables",
            action,
            "OUTPUT",
            "-m",
            "statistic",
            "--mode",
            "random",
            "--probability",
            str(self.loss),
            "-j",
            "DROP",
        ]

    def inject(self) -> None:
        pid = container_pid(self.engine, self.container)
        self.delayer = subprocess.Popen(
            in_namespace(pid, sys.executable, str(LINK_DELAY), "--delay-ms", str(self.delay_ms)),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.delayer.stdout is not None
        ready = self.delayer.stdout.readline()
        assert ready.startswith("link-delay:"), f"link_delay.py did not start: {ready!r}"
        subprocess.run(in_namespace(pid, *self._drop("-I")), check=True, timeout=30)

    def heal(self) -> None:
        pid = container_pid(self.engine, self.container)
        subprocess.run(in_namespace(pid, *self._drop("-D")), check=False, timeout=30)
        if self.delayer is not None:
            self.delayer.terminate()
            self.delayer.wait(timeout=30)

    def describe(self) -> str:
        return f"{self.name} {self.container} ({self.delay_ms} ms, {self.loss:.0%} loss)"


class Partition(Fault):
    name = "partition"
    expected = "calls to it time out within their budget, the other replica takes them; then it is ejected"

    def _rules(self, action: str) -> list[list[str]]:
        return [["iptables", action, chain, "-j", "DROP"] for chain in ("INPUT", "OUTPUT")]

    def inject(self) -> None:
        pid = container_pid(self.engine, self.container)
        for rule in self._rules("-I"):
            subprocess.run(in_namespace(pid, *rule), check=True, timeout=30)

    def heal(self) -> None:
        pid = container_pid(self.engine, self.container)
        for rule in self._rules("-D"):
            subprocess.run(in_namespace(pid, *rule), check=False, timeout=30)
