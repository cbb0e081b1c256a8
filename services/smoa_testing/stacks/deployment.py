"""The deployment the soak runs, as processes on loopback addresses: the fault-injecting LLM endpoint
(fake_llm/faulty_server.py), 3 proposer replicas, 2 judge replicas, the moderator and 2 orchestrators, each
on its own 127.0.0.x with one shared port. Every service runs with the same settings (`settings`), and
its output goes to a log of its own. A proposer replica may sit behind a StreamCounter, to see from
outside which calls reach it."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from smoa_testing.observe.stream_counter import StreamCounter
from smoa_testing.stacks.replica import Replica, free_port, service_environment

PROPOSER_HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
JUDGE_HOSTS = ["127.0.0.5", "127.0.0.6"]
MODERATOR_HOST = "127.0.0.7"
ORCHESTRATOR_HOSTS = ["127.0.0.8", "127.0.0.9"]
COUNTED_HOST = "127.0.0.10"

# What the soak's services run with, unless a scenario says otherwise. 16 LLM calls in flight per backend
# and process, as a hosted provider allows (the default, 4, suits the embedded model).
SETTINGS = {
    "llm_concurrency": "16",
    "llm_max_retries": "3",
    "peer_keepalive_seconds": "1",
    "drain_delay_seconds": "1",
    "grace_seconds": "20",
}


class FaultyLLM:
    """smoa_testing/fake_llm/faulty_server.py as a process."""

    def __init__(self, log: Path, slow_seconds: float = 0.5, latency_seconds: float = 0.0, **rates: float):
        command = [sys.executable, "-m", "smoa_testing.fake_llm.faulty_server", "--port", "0", "--seed", "1"]
        command += ["--slow-seconds", str(slow_seconds), "--latency-seconds", str(latency_seconds)]
        for kind, rate in rates.items():
            command += [f"--{kind.replace('_', '-')}-rate", str(rate)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log.open("ab"), text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"listening on ([\d.]+):(\d+)", line)
        if not match:
            self.process.kill()
            raise RuntimeError(f"faulty-llm did not start: {line!r}")
        self.url = f"http://{match.group(1)}:{match.group(2)}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=5) as reply:
            found: dict[str, int] = json.loads(reply.read())
        return found

    def set_faults(self, **rates: float) -> None:
        body = json.dumps(rates).encode()
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/faults", data=body), timeout=5).close()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


@dataclass
class Deployment:
    logs: Path
    llm: FaultyLLM
    settings: Mapping[str, str] = field(default_factory=lambda: dict(SETTINGS))
    # Put the last proposer replica behind a StreamCounter.
    count_last_proposer: bool = False
    # The last proposer replica's own LLM endpoint, if it is to differ from the others' (a slow one).
    last_proposer_llm: FaultyLLM | None = None
    proposers: list[Replica] = field(default_factory=list)
    judges: list[Replica] = field(default_factory=list)
    moderator: Replica | None = None
    orchestrators: list[Replica] = field(default_factory=list)
    counter: StreamCounter | None = None

    async def start(self) -> Deployment:
        hosts = [*PROPOSER_HOSTS, *JUDGE_HOSTS, MODERATOR_HOST, *ORCHESTRATOR_HOSTS]
        port = free_port(hosts)
        env = service_environment(self.llm.base_url, **self.settings)
        self.proposers = [Replica("proposer", h, port, self.logs, env) for h in PROPOSER_HOSTS]
        if self.last_proposer_llm is not None:
            self.proposers[-1].env.update(SMOA_LLM_BASE_URL=self.last_proposer_llm.base_url)
        self.judges = [Replica("judge", h, port, self.logs, env) for h in JUDGE_HOSTS]
        self.moderator = Replica("moderator", MODERATOR_HOST, port, self.logs, env)
        proposer_addresses = [r.address for r in self.proposers]
        if self.count_last_proposer:
            self.counter = await StreamCounter(COUNTED_HOST, (PROPOSER_HOSTS[-1], port)).start()
            proposer_addresses[-1] = f"{COUNTED_HOST}:{self.counter.port}"
        targets = {
            "SMOA_PROPOSER_TARGET": "ipv4:" + ",".join(proposer_addresses),
            "SMOA_JUDGE_TARGET": "ipv4:" + ",".join(r.address for r in self.judges),
            "SMOA_MODERATOR_TARGET": f"ipv4:{self.moderator.address}",
        }
        self.orchestrators = [
            Replica("orchestrator", h, port, self.logs, env | targets) for h in ORCHESTRATOR_HOSTS
        ]
        # All at once: each takes about a second of CPU to import and start.
        await asyncio.gather(*(asyncio.to_thread(r.start, 60.0) for r in self.replicas()))
        return self

    def replicas(self) -> list[Replica]:
        assert self.moderator is not None
        return [*self.proposers, *self.judges, self.moderator, *self.orchestrators]

    @property
    def target(self) -> str:
        """Both orchestrators, round robin: the SDK's way to a replicated front door."""
        return "ipv4:" + ",".join(r.address for r in self.orchestrators)

    async def stop(self) -> None:
        if self.counter is not None:
            await self.counter.stop()
        for replica in self.replicas():
            replica.stop()

    def log_of(self, replica: Replica) -> str:
        return replica.log.read_text(errors="replace")
