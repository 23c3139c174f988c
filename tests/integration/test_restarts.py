"""Restarts: a trigger rebuilt from its kwargs mid-wait resumes with the same deadline; nothing leaks across loops."""

from __future__ import annotations

import asyncio

import pytest

from airflow_docstatus.engine.transport_async import SESSIONS
from airflow_docstatus.triggers.expertai import ExpertAiExtractStatusTrigger
from airflow_docstatus.triggers.leadtools import LeadtoolsQueryTrigger
from tests.support import FakeClock, events_of, with_clock

RESULT = {"header": {}, "layout": [], "words": []}


class StopAfterSleeps(FakeClock):
    """A FakeClock whose trigger is "killed" (cancelled) at its n-th sleep, as by a triggerer restart."""

    def __init__(self, sleeps: int, start: float = 1_000_000.0) -> None:
        super().__init__(start)
        self.limit = sleeps

    async def sleep(self, seconds: float) -> None:
        if len(self.sleeps) >= self.limit:
            raise asyncio.CancelledError
        await super().sleep(seconds)


@pytest.mark.asyncio
async def test_a_trigger_rebuilt_from_its_kwargs_mid_wait_resumes_with_the_same_deadline(sim_connections):
    doc = sim_connections.create("expertai", [{"status": "PROGRESS", "polls": 4}, {"status": "SUCCESS", "payload": RESULT}])
    first_clock = StopAfterSleeps(2)
    end_time = first_clock.now + 60
    first = ExpertAiExtractStatusTrigger(extract_task_id=doc, poll_interval=5, end_time=end_time)
    with pytest.raises(asyncio.CancelledError):
        await events_of(with_clock(first, first_clock))
    classpath, kwargs = first.serialize()
    assert SESSIONS.open_sessions() == 0 and SESSIONS.cached_tokens() == 0  # the killed trigger let go

    # A new triggerer, 12 s later, rebuilds the trigger from the serialized kwargs alone.
    second_clock = FakeClock(start=first_clock.now + 12)
    module, name = classpath.rsplit(".", 1)
    assert (module, name) == ("airflow_docstatus.triggers.expertai", "ExpertAiExtractStatusTrigger")
    rebuilt = ExpertAiExtractStatusTrigger(**kwargs)
    assert rebuilt.end_time == end_time
    events = await events_of(with_clock(rebuilt, second_clock))
    assert events[0]["status"] == "success" and events[0]["payload"] == RESULT
    assert sim_connections.document("expertai", doc)["status_calls"] == 5


@pytest.mark.asyncio
async def test_a_rebuilt_trigger_past_its_deadline_times_out_at_once(sim_connections):
    doc = sim_connections.create("expertai", [{"status": "PENDING"}])
    clock = FakeClock()
    trigger = ExpertAiExtractStatusTrigger(extract_task_id=doc, poll_interval=5, end_time=clock.now - 1)
    events = await events_of(with_clock(ExpertAiExtractStatusTrigger(**trigger.serialize()[1]), clock))
    assert events[0]["status"] == "timeout" and clock.sleeps == []


def test_sessions_and_tokens_never_cross_event_loops(sim_connections):
    """Each triggerer loop gets its own session and token; both go when the loop's last trigger ends."""
    lt = sim_connections.create("leadtools", [{"status": 100, "polls": 1}, {"status": 200}])
    ex = sim_connections.create("expertai", [{"status": "PENDING", "polls": 1}, {"status": "SUCCESS"}])
    before = sim_connections.token_calls("expertai")

    async def both():
        triggers = [LeadtoolsQueryTrigger(file_id=lt, poll_interval=2), ExpertAiExtractStatusTrigger(extract_task_id=ex)]
        results = await asyncio.gather(*(events_of(with_clock(t, FakeClock())) for t in triggers))
        return [events[0]["status"] for events in results]

    for _ in range(2):  # two loops, one after the other, as two triggerer runs
        assert asyncio.run(both()) == ["success", "success"]
        assert SESSIONS.open_sessions() == 0 and SESSIONS.cached_tokens() == 0
    assert sim_connections.token_calls("expertai") - before == 2
