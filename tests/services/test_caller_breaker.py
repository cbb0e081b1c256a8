"""One caller cannot trip a backend's circuit breaker for the others. Alice's prompts hang the model or ask
for answers longer than her budget; Bob, another authenticated caller, keeps asking ordinary questions.
On real services whose breaker opens after 3 failures in a row: every one of Bob's requests is answered,
and the breaker never opens. The control, Alice alone with the same flood, opens it: the flood is one
that trips it when nobody else is served."""

from __future__ import annotations

from pathlib import Path

from tests.harness.breaker_flood import flood


async def test_one_callers_hanging_and_long_calls_leave_the_breaker_closed_for_another(
    tmp_path: Path,
) -> None:
    seen = await flood(tmp_path, seconds=10, with_bob=True)
    assert seen.answered >= 4 and seen.failed == [] and seen.openings == 0


async def test_control_the_same_flood_alone_opens_it(tmp_path: Path) -> None:
    assert (await flood(tmp_path, seconds=5, with_bob=False)).openings >= 1
