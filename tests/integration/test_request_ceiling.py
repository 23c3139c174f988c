"""The ``max_requests_per_second`` extra (issue 15): counted by the simulator over real loopback sockets.

The ceiling holds for every trigger of a connection in one event loop and for
every hook (sensor) of it in one process; a wait whose slot would come after
its deadline makes no call and times out, saying so.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from airflow_docstatus.engine.ceiling import RequestCeiling
from airflow_docstatus.engine.errors import NoRequestSlotError
from airflow_docstatus.hooks.leadtools import LeadtoolsHook
from airflow_docstatus.triggers.leadtools import LeadtoolsQueryTrigger
from tests.support import events_of

TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"Text": "hello"}]}]


def call_times(simulator, ids) -> list[float]:
    return sorted(call["t"] for doc in ids for call in simulator.document("leadtools", doc)["calls"])


def most_in_one_second(times: list[float], slack: float = 0.05) -> int:
    """The most calls the simulator saw in any window of (1 - slack) seconds (arrival jitter on loopback)."""
    return max(sum(1 for u in times if t <= u < t + 1.0 - slack) for t in times)


@pytest.mark.asyncio
async def test_fifty_triggers_of_one_connection_stay_under_the_ceiling(simulator, connection):
    conn_id = connection("lt_ceiling", "leadtools", extra={"max_requests_per_second": 10})
    ids = [simulator.create("leadtools", [{"status": 100, "polls": 1}, {"status": 200, "payload": TEXT}])
           for _ in range(50)]
    started = time.monotonic()
    results = await asyncio.gather(*(
        events_of(LeadtoolsQueryTrigger(file_id=i, leadtools_conn_id=conn_id, poll_interval=2)) for i in ids))
    elapsed = time.monotonic() - started
    assert all(r[0]["status"] == "success" for r in results)
    times = call_times(simulator, ids)
    assert len(times) == 100
    assert most_in_one_second(times) <= 10, times
    assert elapsed >= 9.5  # 100 calls at 10 per second; without the ceiling 50 would go at once, then 50


@pytest.mark.asyncio
async def test_without_the_extra_the_same_triggers_go_at_once(simulator, connection):
    conn_id = connection("lt_no_ceiling", "leadtools")
    ids = [simulator.create("leadtools", [{"status": 200, "payload": TEXT}]) for _ in range(50)]
    await asyncio.gather(*(events_of(LeadtoolsQueryTrigger(file_id=i, leadtools_conn_id=conn_id)) for i in ids))
    assert most_in_one_second(call_times(simulator, ids)) > 10  # the test above could fail


@pytest.mark.asyncio
async def test_a_wait_with_no_slot_before_its_deadline_makes_no_call_and_says_so(simulator, connection):
    conn_id = connection("lt_slots", "leadtools", extra={"max_requests_per_second": 2})
    ids = [simulator.create("leadtools", [{"status": 100}]) for _ in range(14)]
    deadline = time.time() + 0.5
    results = await asyncio.gather(*(
        events_of(LeadtoolsQueryTrigger(file_id=i, leadtools_conn_id=conn_id, poll_interval=2, end_time=deadline))
        for i in ids))
    assert all(r[0]["status"] == "timeout" for r in results)
    calls = {i: simulator.document("leadtools", i)["status_calls"] for i in ids}
    # slots 0.5 s apart; a call may wait up to the last look's grace (5 s) for its slot: 11 first looks
    never = [r[0]["message"] for i, r in zip(ids, results) if calls[i] == 0]
    assert len(never) == 3, calls
    assert all("max_requests_per_second=2 leaves no request slot" in m and "no last look was made" in m
               for m in never), never
    assert most_in_one_second(call_times(simulator, ids)) <= 2


def test_hooks_of_one_connection_in_threads_share_the_ceiling(simulator, connection):
    conn_id = connection("lt_sync_ceiling", "leadtools", extra={"max_requests_per_second": "10"})
    ids = [simulator.create("leadtools", [{"status": 100}]) for _ in range(25)]
    hooks = [LeadtoolsHook(conn_id) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: hooks[n % 4].check_status(file_id=ids[n]), range(25)))
    assert most_in_one_second(call_times(simulator, ids)) <= 10


def test_a_slot_past_the_callers_time_is_not_taken():
    ceiling = RequestCeiling(2.0)
    assert [ceiling.reserve(100.0, within=1.0) for _ in range(3)] == [0.0, 0.5, 1.0]
    with pytest.raises(NoRequestSlotError, match="max_requests_per_second=2 leaves no request slot for 1.5s") as err:
        ceiling.reserve(100.0, within=1.0)
    assert err.value.slot_in == 1.5
    assert ceiling.reserve(100.0) == 1.5  # the refused call took nothing: the next caller gets that slot


@pytest.mark.asyncio
async def test_a_queue_longer_than_call_timeout_still_calls_before_a_far_deadline(simulator, connection):
    # the slot's bound is the time left before the deadline, not call_timeout (2 s): the sixth slot is 5 s away
    conn_id = connection("lt_ceiling_ct", "leadtools", extra={"max_requests_per_second": 1, "call_timeout": 2})
    ids = [simulator.create("leadtools", [{"status": 200, "payload": TEXT}]) for _ in range(6)]
    deadline = time.time() + 12
    results = await asyncio.gather(*(
        events_of(LeadtoolsQueryTrigger(file_id=i, leadtools_conn_id=conn_id, poll_interval=1, end_time=deadline))
        for i in ids))
    assert [r[0]["status"] for r in results] == ["success"] * 6, [r[0].get("message") for r in results]
    times = call_times(simulator, ids)
    assert len(times) == 6 and most_in_one_second(times) <= 1, times


@pytest.mark.asyncio
async def test_a_trigger_cancelled_while_waiting_for_its_slot_gives_it_back(simulator, connection):
    conn_id = connection("lt_ceiling_cancel", "leadtools", extra={"max_requests_per_second": 1})
    ids = [simulator.create("leadtools", [{"status": 200, "payload": TEXT}]) for _ in range(4)]
    first = [asyncio.create_task(events_of(LeadtoolsQueryTrigger(file_id=i, leadtools_conn_id=conn_id)))
             for i in ids[:3]]  # slots at 0, 1 and 2 s
    await asyncio.sleep(0.4)
    waiting = [task for task, i in zip(first, ids) if not simulator.document("leadtools", i)["calls"]]
    assert len(waiting) == 2
    waiting[0].cancel()  # one of the slots at 1 s and 2 s is given back
    with pytest.raises(asyncio.CancelledError):
        await waiting[0]
    late = await events_of(LeadtoolsQueryTrigger(file_id=ids[3], leadtools_conn_id=conn_id))
    assert late[0]["status"] == "success"
    await asyncio.gather(*(task for task in first if task is not waiting[0]))
    times = call_times(simulator, ids)
    assert len(times) == 3, times  # the cancelled trigger made no call
    assert times[-1] - times[0] < 2.5, times  # the late one took the freed slot, not the one at 3 s
    assert most_in_one_second(times) <= 1, times


@pytest.mark.asyncio
async def test_an_edited_rate_changes_the_one_schedule_of_the_connection(simulator, connection):
    ids = [simulator.create("leadtools", [{"status": 200, "payload": TEXT}]) for _ in range(6)]
    conn_id = connection("lt_ceiling_edit", "leadtools", extra={"max_requests_per_second": 1})
    before = [asyncio.create_task(events_of(LeadtoolsQueryTrigger(file_id=i, leadtools_conn_id=conn_id)))
              for i in ids[:3]]  # slots at 0, 1 and 2 s
    await asyncio.sleep(0.3)
    connection("lt_ceiling_edit", "leadtools", extra={"max_requests_per_second": 2})  # edited while they wait
    after = await asyncio.gather(*(events_of(LeadtoolsQueryTrigger(file_id=i, leadtools_conn_id=conn_id))
                                   for i in ids[3:]))
    assert all(r[0]["status"] == "success" for r in after + await asyncio.gather(*before))
    times = call_times(simulator, ids)
    # one schedule, now 0.5 s apart after the slots already taken (3, 3.5, 4 s); not a second one beside the first
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.45, times
    assert times[-1] - times[0] >= 3.9, times


def test_a_slot_given_back_is_taken_by_the_next_caller_and_an_edited_rate_applies():
    ceiling = RequestCeiling(2.0)
    slots = [ceiling.take(100.0) for _ in range(4)]
    assert slots == [100.0, 100.5, 101.0, 101.5]
    ceiling.release(slots[1], now=100.2)
    ceiling.release(slots[0], now=100.2)  # gone by: dropped
    assert ceiling.take(100.3) == 100.5
    assert ceiling.take(100.3) == 102.0
    ceiling.release(102.0, now=100.3)  # the last one: the schedule steps back
    ceiling.set_rate(1.0)
    assert [ceiling.take(100.3) for _ in range(2)] == [102.0, 103.0]


def test_hooks_in_threads_wait_past_call_timeout_for_a_slot_before_the_deadline(simulator, connection):
    conn_id = connection("lt_sync_ceiling_ct", "leadtools", extra={"max_requests_per_second": 1, "call_timeout": 2})
    ids = [simulator.create("leadtools", [{"status": 100}]) for _ in range(5)]
    hook = LeadtoolsHook(conn_id)
    with ThreadPoolExecutor(5) as pool:  # the fifth slot is 4 s away: past call_timeout, well before the deadline
        answers = list(pool.map(lambda i: hook.check_status(remaining=12.0, file_id=i), ids))
    assert [a.vendor_status for a in answers] == ["100"] * 5
    times = call_times(simulator, ids)
    assert len(times) == 5 and most_in_one_second(times) <= 1, times
