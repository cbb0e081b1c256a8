"""Hostile sizes that once aborted the interpreter: each call must answer, or raise ValueError or
MemoryError, within bounded memory.

Every case runs in a child process under an address-space limit (RLIMIT_AS), so a regression to an n²
allocation fails here (the child dies of SIGABRT, or runs out of room where a limit should have answered)
instead of waking the OOM killer.
"""

import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import smoa_core_rs as core

# The limit under which a judge call over 20,000 distinct short candidates aborted the process.
ADDRESS_SPACE = 2_500_000_000
# What the child may use in all (the interpreter is ~15 MB): linear work fits, n² of 20,000 would not.
MAX_RSS_MB = 256
REPO = Path(__file__).resolve().parents[2]


def distinct(n: int) -> list[str]:
    return [f"candidate answer {i}" for i in range(n)]


def square(n: int) -> list[list[float]]:
    # One row referenced n times: cheap in Python, n² floats if the core copied it.
    row = [0.5] * n
    return [row] * n


def clusters(result: core.Clusters) -> str:
    return f"{len(result)} clusters"


def one_pair() -> list[core.Ballot]:
    return [core.Ballot(ranking=[0, 1])]


def near_duplicates(n: int) -> list[str]:
    return [f"the answer is 42 because six sevens {i}" for i in range(n)]


TOO_MANY_TEXTS = "ValueError: texts: at most"
N_RANGE = "ValueError: n: must be in [1, 1024]"

# name -> (call, how its outcome line must start)
CASES: dict[str, tuple[Callable[[], object], str]] = {
    "similarity_matrix 20k": (lambda: core.similarity_matrix(distinct(20_000)), TOO_MANY_TEXTS),
    "similarity_matrix 100k": (lambda: core.similarity_matrix(distinct(100_000)), TOO_MANY_TEXTS),
    "similarity_matrix at the limit": (
        lambda: len(core.similarity_matrix(distinct(core.MAX_CANDIDATES))),
        f"ok {core.MAX_CANDIDATES}",
    ),
    "dedup_near 20k distinct": (lambda: clusters(core.dedup_near(distinct(20_000))), "ok 20000 clusters"),
    "dedup_near 100k distinct": (lambda: clusters(core.dedup_near(distinct(100_000))), "ok 100000 clusters"),
    "dedup_near 100k copies": (lambda: clusters(core.dedup_near(["same answer"] * 100_000)), "ok 1 clusters"),
    "dedup_near 100k copies exact": (
        lambda: clusters(core.dedup_near(["same answer"] * 100_000, method="exact")),
        "ok 1 clusters",
    ),
    "dedup_near 20k near-duplicates": (
        lambda: clusters(core.dedup_near(near_duplicates(20_000), threshold=0.7)),
        "ok 1 clusters",
    ),
    "dedup_near 20k with_matrix": (
        lambda: core.dedup_near(distinct(20_000), with_matrix=True),
        TOO_MANY_TEXTS,
    ),
    # Linear in texts x num_perm, so not a limit: 200k texts x 2048 bands of keys is 3.3 GB, refused.
    "dedup_near minhash keys past the address space": (
        lambda: core.dedup_near(distinct(200_000), method="minhash", threshold=0.05, num_perm=4096),
        "MemoryError: texts: could not allocate",
    ),
    "dedup_exact 100k": (lambda: clusters(core.dedup_exact(distinct(100_000))), "ok 100000 clusters"),
    "centrality 20k": (lambda: core.centrality(square(20_000)), "ValueError: similarity: at most"),
    "centrality 100k": (lambda: core.centrality(square(100_000)), "ValueError: similarity: at most"),
    "centrality of similarity_matrix 20k": (
        lambda: core.centrality(core.similarity_matrix(distinct(20_000))),
        TOO_MANY_TEXTS,
    ),
    "mmr_top_k 20k": (
        lambda: core.mmr_top_k([1.0] * 20_000, square(20_000), 3),
        "ValueError: scores: at most",
    ),
    "aggregate n=100_000": (lambda: core.aggregate(one_pair(), 100_000), N_RANGE),
    "aggregate n=10**12": (lambda: core.aggregate(one_pair(), 10**12), N_RANGE),
    "aggregate n=2**62": (lambda: core.aggregate(one_pair(), 2**62), N_RANGE),
    "aggregate n=2**62 bradley_terry": (
        lambda: core.aggregate(one_pair(), 2**62, method="bradley_terry"),
        N_RANGE,
    ),
    "kendall_w n=10**12": (lambda: core.kendall_w(one_pair(), 10**12), N_RANGE),
    # The ballots are shared with the core, not copied: a list repeating one is one ballot in memory.
    "aggregate one ballot 100k times": (
        lambda: core.aggregate([core.Ballot(ranking=list(range(8)))] * 100_000, 8).ranking[:3],
        "ok [0, 1, 2]",
    ),
    "Ballot of 100k ranked": (
        lambda: core.Ballot(ranking=list(range(100_000))),
        "ValueError: ranking: at most 1024",
    ),
    "Ballot of 100k scored": (
        lambda: core.Ballot(scores={i: 1.0 for i in range(100_000)}),
        "ValueError: scores: at most 1024",
    ),
    "answer_key of 200k unclosed boxes": (
        lambda: core.answer_key(("\\boxed{" * 30_000)[:200_000]),
        "ok None",
    ),
}


def run_case(name: str) -> None:
    """In the child: run one case under the limit and print its outcome and peak RSS."""
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    call, _ = CASES[name]
    try:
        outcome = f"ok {call()}"
    except (ValueError, MemoryError) as e:
        outcome = f"{type(e).__name__}: {e}"
    print(outcome)
    # The peak of this process's own memory: getrusage's ru_maxrss is carried over from the parent across
    # fork and exec, so a child of a big pytest process would report the parent's peak.
    peak_kb = next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
                   if line.startswith("VmHWM:"))  # fmt: skip
    print(int(peak_kb) // 1024)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and ru_maxrss in KB are Linux's")
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_size_answers_or_raises_within_bounded_memory(name: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", f"import tests.core.test_limits as t; t.run_case({name!r})"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == 0, f"child exited {child.returncode} (-6 is SIGABRT):\n{child.stderr[-2000:]}"
    outcome, rss_mb = child.stdout.splitlines()[-2:]
    assert outcome.startswith(CASES[name][1]), outcome
    assert int(rss_mb) <= MAX_RSS_MB, f"peak RSS {rss_mb} MB"
