"""Small tools the tests share: a clock the test controls, and a trigger's events."""

from __future__ import annotations

import asyncio


class FakeClock:
    """Wall-clock time that moves only when the trigger sleeps; records every sleep."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def with_clock(trigger, clock: FakeClock):
    """``trigger`` with its wall clock and its sleep replaced by ``clock``."""
    trigger._now = clock.time
    trigger._sleep = clock.sleep
    return trigger


async def events_of(trigger) -> list[dict]:
    """Every event a trigger yields, as payloads."""
    return [event.payload async for event in trigger.run()]
