"""The request that used to kill the judge: 20,000 distinct short candidates (about 360 KB, under every
size limit) made the Rust core abort the process under a 2.5 GB memory limit. The judge now runs as
operators run it, under that limit, and answers INVALID_ARGUMENT naming `candidates`, then serves the
next call; and raised as far as the core allows (MAX_CANDIDATES), the cap still keeps it alive."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import smoa_core_rs
from smoa.v1 import common_pb2, judge_pb2, judge_pb2_grpc
from smoa_services.rpc.failure import violations_of

ADDRESS_SPACE = int(2.5 * 1024**3)


# The judge's own process sets the limit, then runs as `python -m smoa_services.judge` would. Not a
# preexec_fn: that runs in the forked copy of this pytest process, whose address space (threads, arenas)
# can already exceed the limit after a long run, so the child died before it could exec.
LIMITED_JUDGE = (
    "import resource, runpy; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE})); "
    "runpy.run_module('smoa_services.judge', run_name='__main__', alter_sys=True)"
)


@pytest.fixture(params=[256, smoa_core_rs.MAX_CANDIDATES], ids=["default cap", "cap at the core's limit"])
def judge(request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", LIMITED_JUDGE, "--port", "0", "--max-candidates", str(request.param)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", process.stdout.readline())
        assert match
        yield process, f"127.0.0.1:{match.group(1)}"
    finally:
        process.kill()
        process.wait()


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is Linux's")
def test_the_judge_survives_twenty_thousand_candidates(judge: tuple[subprocess.Popen[str], str]) -> None:
    process, address = judge
    question = common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="What is 6 x 7?")
    candidates = [
        common_pb2.Candidate(id=f"c{i}", text=f"the answer is {i * 7919 % 100_003}") for i in range(20_000)
    ]
    request = judge_pb2.JudgeRequest(messages=[question], candidates=candidates, k=2)
    assert 300_000 < request.ByteSize() < 4 * 1024 * 1024
    with grpc.insecure_channel(address) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            judge_pb2_grpc.JudgeServiceStub(channel).Judge(request, timeout=30)
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "candidates" in {v.field for v in violations_of(refused.value)}  # type: ignore[arg-type]
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert process.poll() is None
