"""LLM slots shared by callers: the least-served waiting caller gets the next free slot, a known caller
holds at most its share, and cancelled waiters leave nothing behind."""

from __future__ import annotations

import asyncio

from smoa_services.llm.fair_slots import FairSlots


async def hold(slots: FairSlots, caller: str, release: asyncio.Event, order: list[str]) -> None:
    async with slots.slot(caller):
        order.append(caller)
        await release.wait()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_known_caller_holds_at_most_its_share_and_another_finds_slots_free() -> None:
    slots, release = FairSlots(capacity=4, share=2), asyncio.Event()
    order: list[str] = []
    hogs = [asyncio.create_task(hold(slots, "alice", release, order)) for _ in range(8)]
    await settle()
    assert slots.held["alice"] == 2 and slots.waiting() == 6
    bob = [asyncio.create_task(hold(slots, "bob", release, order)) for _ in range(2)]
    await settle()
    assert order == ["alice", "alice", "bob", "bob"]  # bob waited for none of alice's calls
    release.set()
    await asyncio.gather(*hogs, *bob)
    assert slots.in_use == 0 and not slots.held and slots.waiting() == 0


async def test_a_freed_slot_goes_to_the_waiting_caller_holding_the_fewest() -> None:
    slots = FairSlots(capacity=2, share=2)
    order: list[str] = []
    first, later = asyncio.Event(), asyncio.Event()
    held = [asyncio.create_task(hold(slots, "alice", first, order)) for _ in range(2)]
    queued = [asyncio.create_task(hold(slots, "alice", later, order)) for _ in range(3)]
    await settle()
    bob = asyncio.create_task(hold(slots, "bob", later, order))
    await settle()
    assert order == ["alice", "alice"]
    first.set()  # both of alice's first calls end: bob's one waiter is served before her queue
    await settle()
    assert order[2] == "bob"
    later.set()
    await asyncio.gather(*held, *queued, bob)
    assert order.count("alice") == 5 and slots.in_use == 0


async def test_work_for_no_known_caller_has_no_share_only_the_capacity() -> None:
    slots, release = FairSlots(capacity=3, share=1), asyncio.Event()
    order: list[str] = []
    tasks = [asyncio.create_task(hold(slots, "", release, order)) for _ in range(5)]
    await settle()
    assert slots.in_use == 3 and slots.waiting() == 2
    release.set()
    await asyncio.gather(*tasks)
    assert slots.in_use == 0


async def test_cancelled_waiters_leave_no_slot_taken() -> None:
    slots, release = FairSlots(capacity=1, share=1), asyncio.Event()
    order: list[str] = []
    holder = asyncio.create_task(hold(slots, "alice", release, order))
    waiters = [asyncio.create_task(hold(slots, c, release, order)) for c in ("bob", "carol", "bob")]
    await settle()
    waiters[1].cancel()
    release.set()
    # bob's waiter is granted the slot as alice's call ends, and cancelled before it could resume.
    await asyncio.sleep(0)
    waiters[0].cancel()
    results = await asyncio.gather(holder, *waiters, return_exceptions=True)
    assert [type(r).__name__ for r in results[1:]].count("CancelledError") >= 2
    assert slots.in_use == 0 and not slots.held and slots.waiting() == 0
