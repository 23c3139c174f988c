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


async def run_all_watching_sessions(triggers) -> tuple[list[list[dict]], int]:
    """Run triggers together; return their events and the most aiohttp sessions open at once."""
    from airflow_docstatus.engine.transport_async import SESSIONS

    peak = 0

    async def watch():
        nonlocal peak
        while True:
            peak = max(peak, SESSIONS.open_sessions())
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(*(events_of(trigger) for trigger in triggers))
    finally:
        watcher.cancel()
    return results, peak
