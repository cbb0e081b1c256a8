"""How long the fuzz tests run. Bounded by default, so `make test` stays fast; `SMOA_FUZZ_EXAMPLES=N` runs
every pure fuzz test for N examples and the test over real servers for N // 10 (a longer hunt, by hand:
see benchmarks/results/fuzz-python-*.txt)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_LONG = int(os.environ.get("SMOA_FUZZ_EXAMPLES", "0") or 0)
# Replies near the size cap and deeply nested JSON are large and slow to generate on purpose.
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


def fuzz(examples: int = 200) -> settings:
    """Settings for a pure fuzz test (the loaded profile's, e.g. CI's derandomize, otherwise)."""
    return settings(max_examples=_LONG or examples, deadline=None, suppress_health_check=_SUPPRESSED)


def fuzz_wire(examples: int = 50) -> settings:
    """Settings for a fuzz test that sends each example over a real server."""
    return settings(
        max_examples=max(examples, _LONG // 10) if _LONG else examples,
        deadline=None,
        suppress_health_check=[*_SUPPRESSED, HealthCheck.function_scoped_fixture],
    )
