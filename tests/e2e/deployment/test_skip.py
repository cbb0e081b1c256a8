"""Where the e2e cannot run it says why, as the last line of its output, and exits 0: it never skips
silently and never fails a machine for lacking root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.deployment.compose import ROOT

NOBODY = 65534


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop it")
def test_without_root_it_skips_saying_why_as_its_last_line(tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    done = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
         sys.executable, "-m", "tests.e2e.deployment", "--results", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("make e2e: skipped: ") and "root" in last, done.stdout
