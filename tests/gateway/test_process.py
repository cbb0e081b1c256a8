"""The gateway as operators run it: `python -m smoa_services.gateway`, then SIGTERM. It reports not ready
while still answering (so a load balancer stops sending work first), then exits 0."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_sigterm_reports_not_ready_with_the_port_open_then_exits() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "smoa_services.gateway", "--port", "0", "--drain-delay-seconds", "1.5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        port = None
        for line in process.stderr:
            found = re.search(r"running on https?://127\.0\.0\.1:(\d+)", line)
            if found:
                port = found.group(1)
                break
        assert port, "no address announced"
        url = f"http://127.0.0.1:{port}"
        assert status(f"{url}/healthz") == 200
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # Draining: alive, not ready.
        assert (status(f"{url}/healthz"), status(f"{url}/readyz")) == (200, 503)
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        process.wait()
