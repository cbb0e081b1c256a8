"""`smoa load` and the Locust file as operators run them (subprocesses), against the real services in
this process answered by an instant fake LLM."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
import time
from pathlib import Path

import smoa.load
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from tests.load.billed import billed_range
from tests.load.local_stack import local_stack

LOCUSTFILE = Path(smoa.load.__file__).parent / "locustfile.py"


async def run(*argv: str, timeout: float = 60) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_smoa_load_open_loop_reports_json_plot_and_samples(tmp_path: Path) -> None:
    started = time.time()
    with FakeOpenAI(instant_reply) as fake:
        async with local_stack(fake.base_url) as port:
            code, out, err = await run(
                sys.executable, "-m", "smoa.cli", "--target", f"127.0.0.1:{port}", "load",
                "--rate", "20", "--duration", "2s", "--warmup", "5", "-n", "3", "-k", "2", "--layers", "2",
                "--slo-latency-ms", "5000", "--json", str(tmp_path / "run.json"),
                "--plot", str(tmp_path / "run.png"), "--samples", str(tmp_path / "run.jsonl"),
            )  # fmt: skip
    assert code == 0, err
    assert "Summary:" in out and "[OK]" in out and "Goodput (latency <= 5000 ms)" in out
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["count"] >= 20 and data["statuses"] == {"OK": data["count"]}
    assert data["goodput"]["share"] == 1.0
    assert (tmp_path / "run.png").read_bytes().startswith(b"\x89PNG")
    # Every request, the warmup's too, one JSON line each, due times on the wall clock in order.
    samples = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    # 3 proposers x 2 layers, 2 judges (fused with the moderator), 1 aggregator: 9 calls a request.
    least, most = billed_range(fake, len(samples), calls_per_request=9)
    assert least <= sum(s["input_tokens"] for s in samples) <= most
    assert data["tokens"]["input"] == sum(s["input_tokens"] for s in samples if not s["warmup"])
    assert len(samples) == data["count"] + 5 and sum(s["warmup"] for s in samples) == 5
    assert {s["status"] for s in samples} == {"OK"} and all(s["done"] > s["scheduled"] for s in samples)
    due = sorted(s["due_epoch"] for s in samples)
    assert started < due[0] and due[-1] < time.time() and due[-1] - due[0] > 1.0


async def test_smoa_load_closed_loop_streams_measure_ttft() -> None:
    with FakeOpenAI(instant_reply) as fake:
        async with local_stack(fake.base_url) as port:
            code, out, err = await run(
                sys.executable, "-m", "smoa.cli", "--target", f"dns:///127.0.0.1:{port}", "load",
                "--concurrency", "3", "--requests", "15", "--stream", "--mode", "moa", "-n", "2",
                "--layers", "1",
            )  # fmt: skip
    assert code == 0, err
    assert "Count:\t15" in out and "Time to first token:" in out and "[OK]\t15 responses" in out


async def test_smoa_load_exits_1_when_requests_fail() -> None:
    # Nothing listens there: every request fails, and the summary says how.
    code, out, err = await run(
        sys.executable, "-m", "smoa.cli", "--target", "127.0.0.1:1", "load", "--requests", "3",
        "--timeout", "2",
    )  # fmt: skip
    assert code == 1, err
    assert "[UNAVAILABLE]\t3 responses" in out


async def test_locust_headless_reports_requests(tmp_path: Path) -> None:
    with FakeOpenAI(instant_reply) as fake:
        async with local_stack(fake.base_url) as port:
            code, _out, err = await run(
                sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", "2", "-r", "2",
                "-t", "4s", "--host", f"127.0.0.1:{port}", "--csv", str(tmp_path / "locust"),
                "--smoa-n", "2", "--smoa-layers", "1", "--smoa-stream", "--only-summary",
            )  # fmt: skip
    assert code == 0, err
    with (tmp_path / "locust_stats.csv").open() as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    streams, ttft = rows["GenerateStream smoa"], rows["GenerateStream smoa TTFT"]
    assert int(streams["Request Count"]) > 0 and int(streams["Failure Count"]) == 0
    # One TTFT per stream; a user stopped by the time limit mid-stream may leave one without its end.
    assert 0 <= int(ttft["Request Count"]) - int(streams["Request Count"]) <= 2
