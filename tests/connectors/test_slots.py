"""The requester's in-flight slots: bounded, FIFO within a lane, the pacing budget's lane
first, and a cancelled waiter neither loses a slot nor keeps one."""

from __future__ import annotations

import asyncio

import pytest

from connectors.http.slots import PrioritySlots

pytestmark = pytest.mark.anyio


async def _hold(slots: PrioritySlots, name: str, urgent: bool, order: list[str]) -> None:
    await slots.acquire(urgent)
    order.append(name)


async def test_urgent_waiters_take_freed_slots_before_earlier_ordinary_ones() -> None:
    slots = PrioritySlots(1)
    await slots.acquire()
    order: list[str] = []
    tasks = [
        asyncio.create_task(_hold(slots, "a", False, order)),
        asyncio.create_task(_hold(slots, "b", False, order)),
        asyncio.create_task(_hold(slots, "gdap", True, order)),
    ]
    await asyncio.sleep(0)
    for _ in range(3):
        slots.release()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == ["gdap", "a", "b"]


async def test_never_more_holders_than_slots() -> None:
    slots = PrioritySlots(3)
    holding = peak = 0

    async def work(urgent: bool) -> None:
        nonlocal holding, peak
        await slots.acquire(urgent)
        holding += 1
        peak = max(peak, holding)
        await asyncio.sleep(0)
        holding -= 1
        slots.release()

    await asyncio.gather(*(work(i % 4 == 0) for i in range(40)))
    assert peak == 3
    assert slots.free == 3


async def test_an_ordinary_request_does_not_overtake_a_waiting_urgent_one() -> None:
    slots = PrioritySlots(1)
    await slots.acquire()
    order: list[str] = []
    urgent = asyncio.create_task(_hold(slots, "urgent", True, order))
    await asyncio.sleep(0)
    slots.release()  # handed straight to the urgent waiter
    late = asyncio.create_task(_hold(slots, "late", False, order))
    await asyncio.sleep(0)
    assert order == ["urgent"]
    slots.release()
    await asyncio.gather(urgent, late)
    assert order == ["urgent", "late"]


async def test_a_cancelled_waiter_leaves_the_slot_to_the_next() -> None:
    slots = PrioritySlots(1)
    await slots.acquire()
    order: list[str] = []
    gone = asyncio.create_task(_hold(slots, "gone", True, order))
    kept = asyncio.create_task(_hold(slots, "kept", False, order))
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    slots.release()
    await kept
    assert order == ["kept"]
    slots.release()
    assert slots.free == 1


async def test_a_waiter_cancelled_as_the_slot_reaches_it_passes_the_slot_on() -> None:
    slots = PrioritySlots(1)
    await slots.acquire()
    order: list[str] = []
    first = asyncio.create_task(_hold(slots, "first", False, order))
    second = asyncio.create_task(_hold(slots, "second", False, order))
    await asyncio.sleep(0)
    slots.release()  # the slot is handed to "first"...
    first.cancel()  # ...which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await first
    await second
    assert order == ["second"]
    slots.release()
    assert slots.free == 1


@pytest.mark.parametrize("size", [0, -1])
def test_at_least_one_slot(size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        PrioritySlots(size)
