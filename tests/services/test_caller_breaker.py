"""One caller cannot trip a backend's circuit breaker for the others. Alice's prompts hang the model or ask
for answers longer than her budget; Bob, another authenticated caller, keeps asking ordinary questions.
On real services whose breaker opens after 3 failures in a row: every one of Bob's requests is answered,
and the breaker never opens. The control, Alice alone with the same flood, opens it: the flood is one
that trips it when nobody else is served. A backend down for everyone still opens it: with other callers
served until then, once each of them has failed too."""

from __future__ import annotations

from pathlib import Path

from smoa_testing.load.breaker_flood import dead_backend, flood


async def test_one_callers_hanging_and_long_calls_leave_the_breaker_closed_for_another(
    tmp_path: Path,
) -> None:
    seen = await flood(tmp_path, seconds=10, with_bob=True)
    assert seen.answered >= 4 and seen.failed == [] and seen.openings == 0


async def test_control_the_same_flood_alone_opens_it(tmp_path: Path) -> None:
    assert (await flood(tmp_path, seconds=5, with_bob=False)).openings >= 1


async def test_a_backend_down_for_everyone_still_opens_it(tmp_path: Path) -> None:
    (tmp_path / "alone").mkdir()
    alone = await dead_backend(tmp_path / "alone", callers=1)
    (tmp_path / "three").mkdir()
    three = await dead_backend(tmp_path / "three", callers=3)
    # Opens after 3 failures in a row: alone, within the first failed request; with three callers served
    # until then, within the third (Alice's failures do not count while Bob and Carol were last served).
    assert alone.requests == 1 and alone.failed_calls >= 3
    assert three.requests == 3 and three.failed_calls > alone.failed_calls
