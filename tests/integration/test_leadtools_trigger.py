"""LeadtoolsQueryTrigger: its async loop against the simulator, with a clock the test controls."""

from __future__ import annotations

import math

import asyncio

import pytest

from airflow_docstatus.engine.transport_async import SESSIONS
from airflow_docstatus.engine.trigger import DocStatusTrigger
from airflow_docstatus.triggers.leadtools import LeadtoolsQueryTrigger
from tests.support import FakeClock, events_of, run_all_watching_sessions, with_clock

TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"Text": "hello"}]}]
FILE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
CLASSPATH = "airflow_docstatus.triggers.leadtools.LeadtoolsQueryTrigger"


def make_trigger(file_id: str, clock: FakeClock | None = None, **kwargs) -> LeadtoolsQueryTrigger:
    trigger = LeadtoolsQueryTrigger(file_id=file_id, **kwargs)
    return with_clock(trigger, clock) if clock else trigger


def test_serialize_round_trip_keeps_ids_and_the_deadline():
    trigger = LeadtoolsQueryTrigger(
        file_id="0F8FAD5B-D9CB-469F-A165-70867728950E",
        leadtools_conn_id="lt_x",
        poll_interval=7,
        end_time=1234.5,
        fail_when_not_run=True,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    assert kwargs == {
        "file_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "fail_when_not_run": True,
        "leadtools_conn_id": "lt_x",
        "poll_interval": 7.0,
        "end_time": 1234.5,
        "max_consecutive_errors": 10,
        "poll_immediately": True,
    }
    assert LeadtoolsQueryTrigger(**kwargs).serialize() == (classpath, kwargs)
    backoff = LeadtoolsQueryTrigger(file_id=FILE_ID, exponential_backoff=True, max_wait=60)
    assert LeadtoolsQueryTrigger(**backoff.serialize()[1]).serialize() == backoff.serialize()
    assert (backoff.serialize()[1]["exponential_backoff"], backoff.serialize()[1]["max_wait"]) == (True, 60.0)
    with pytest.raises(ValueError, match="max_wait must be a number of seconds >= 0"):
        LeadtoolsQueryTrigger(file_id=FILE_ID, max_wait=-1)


def test_triggers_of_a_class_share_one_logger_named_after_it():
    first, second = LeadtoolsQueryTrigger(file_id=FILE_ID), LeadtoolsQueryTrigger(file_id=FILE_ID)
    assert first.log is second.log is LeadtoolsQueryTrigger.logger()
    assert first.log is not DocStatusTrigger.logger()
    first.log.info("shared logger works")  # the triggerer tells triggers apart by context variables


def test_unknown_arguments_and_bad_ids_are_refused():
    with pytest.raises(TypeError, match="unexpected arguments"):
        LeadtoolsQueryTrigger(file_id="0f8fad5b-d9cb-469f-a165-70867728950e", fileid="x")
    with pytest.raises(ValueError, match="GUID"):
        LeadtoolsQueryTrigger(file_id="nope")


@pytest.mark.asyncio
async def test_success_yields_one_event_with_request_data(sim_connections):
    file_id = sim_connections.create(
        "leadtools", [{"status": 123, "polls": 1}, {"status": 100, "polls": 2}, {"status": 200, "payload": TEXT}]
    )
    clock = FakeClock()
    events = await events_of(make_trigger(file_id, clock, poll_interval=1))
    assert len(events) == 1
    assert events[0]["status"] == "success" and events[0]["payload"] == TEXT
    assert events[0]["docstatus"]["vendor_status"] == "200"
    assert clock.sleeps == [2.0, 2.0, 2.0]  # the 2 s vendor floor wins over poll_interval=1
    assert SESSIONS.open_sessions() == 0


@pytest.mark.asyncio
async def test_rejected_file_yields_a_failed_event(sim_connections):
    file_id = sim_connections.create("leadtools", [{"status": 123, "polls": 1}, {"status": 502}])
    events = await events_of(make_trigger(file_id, FakeClock()))
    assert [e["status"] for e in events] == ["failed"]
    assert events[0]["docstatus"]["vendor_status"] == "502"


@pytest.mark.asyncio
async def test_deadline_yields_a_timeout_event_after_one_last_look_at_the_deadline(sim_connections):
    file_id = sim_connections.create("leadtools", [{"status": 100}])
    clock = FakeClock()
    events = await events_of(make_trigger(file_id, clock, poll_interval=5, end_time=clock.now + 12))
    assert [e["status"] for e in events] == ["timeout"]
    assert "last seen: leadtools" in events[0]["message"] and events[0]["docstatus"]["vendor_status"] == "100"
    # Polls at 0, 5 and 10 s; with 2 s left (the vendor's floor) it takes one
    # last look at 12 s, the deadline, and only then times out.
    assert clock.sleeps == [5.0, 5.0, 2.0]
    assert sim_connections.document("leadtools", file_id)["status_calls"] == 4


@pytest.mark.asyncio
async def test_a_document_done_just_before_the_deadline_succeeds_rather_than_timing_out(sim_connections):
    """Issue 12, item 7: done after the poll at 10 s, deadline 12 s, polled every 5 s: the last look sees it done."""
    file_id = sim_connections.create("leadtools", [{"status": 100, "polls": 3}, {"status": 200, "payload": TEXT}])
    clock = FakeClock()
    events = await events_of(make_trigger(file_id, clock, poll_interval=5, end_time=clock.now + 12))
    assert [e["status"] for e in events] == ["success"]
    assert clock.sleeps == [5.0, 5.0, 2.0]


WAITING_THEN_429 = [{"status": 100, "polls": 2}, {"fault": "http_429", "retry_after": 1, "polls": 1},
                    {"fault": "http_500", "polls": 1}, {"status": 100}]


@pytest.mark.asyncio
@pytest.mark.parametrize("script", [[{"status": 100}], WAITING_THEN_429], ids=["waiting", "with-errors"])
@pytest.mark.parametrize("backoff", [False, True], ids=["fixed", "backoff"])
@pytest.mark.parametrize("deadline", [4.9, 5.0, 12.0, 17.5, 33.0, 100.0])
@pytest.mark.parametrize("poll_immediately", [True, False], ids=["trigger", "handoff"])
async def test_calls_per_document_never_exceed_elapsed_over_interval_plus_one(
    sim_connections, script, backoff, deadline, poll_immediately
):
    file_id = sim_connections.create("leadtools", script)
    clock = FakeClock()
    start = clock.now
    trigger = make_trigger(file_id, clock, poll_interval=5, end_time=start + deadline, exponential_backoff=backoff,
                           max_wait=20, poll_immediately=poll_immediately)
    events = await events_of(trigger)
    assert [e["status"] for e in events] == ["timeout"]
    elapsed = clock.now - start
    # it times out at the deadline, not before, after a last look no sooner than the vendor's 2 s floor
    assert deadline - 1e-6 <= elapsed <= deadline + 2.0
    calls = sim_connections.document("leadtools", file_id)["status_calls"]
    assert 1 <= calls <= math.ceil(elapsed / 5) + 1
    assert all(gap >= 5.0 for gap in clock.sleeps[:-1]) and clock.sleeps[-1] >= 2.0


@pytest.mark.asyncio
async def test_exponential_backoff_doubles_the_wait_up_to_max_wait(sim_connections):
    file_id = sim_connections.create("leadtools", [{"status": 100, "polls": 6}, {"status": 200, "payload": TEXT}])
    clock = FakeClock()
    events = await events_of(make_trigger(file_id, clock, poll_interval=5, exponential_backoff=True, max_wait=30))
    assert events[0]["status"] == "success"
    assert clock.sleeps == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0]
    assert sim_connections.document("leadtools", file_id)["status_calls"] == 7


@pytest.mark.asyncio
async def test_triggers_of_one_connection_load_it_once_and_forget_it_after_an_auth_failure(
    sim_connections, connection, monkeypatch
):
    from airflow_docstatus.engine import hook as hook_module

    loads = []
    real = hook_module._load_connection

    async def counting(conn_id):
        loads.append(conn_id)
        return await real(conn_id)

    monkeypatch.setattr(hook_module, "_load_connection", counting)
    ids = [sim_connections.create("leadtools", [{"status": 200, "payload": TEXT}]) for _ in range(20)]
    results = await asyncio.gather(*(events_of(make_trigger(i, FakeClock())) for i in ids))
    assert all(r[0]["status"] == "success" for r in results)
    assert loads == ["leadtools_default"]

    conn_id = connection("lt_rotated", "leadtools", password="old-password")
    first = await events_of(make_trigger(ids[0], FakeClock(), leadtools_conn_id=conn_id))
    assert first[0]["kind"] == "auth"
    connection("lt_rotated", "leadtools")  # the password is fixed in the connection
    again = await events_of(make_trigger(ids[0], FakeClock(), leadtools_conn_id=conn_id))
    assert again[0]["status"] == "success"
    assert loads == ["leadtools_default", "lt_rotated", "lt_rotated"]


@pytest.mark.asyncio
async def test_sensor_handoff_waits_before_the_first_poll(sim_connections):
    file_id = sim_connections.create("leadtools", [{"status": 200, "payload": TEXT}])
    clock = FakeClock()
    await events_of(make_trigger(file_id, clock, poll_immediately=False))
    assert clock.sleeps == [10.0]


@pytest.mark.asyncio
async def test_retry_after_is_honoured_but_not_past_the_deadline(sim_connections):
    file_id = sim_connections.create(
        "leadtools",
        [{"fault": "http_429", "retry_after": 30, "polls": 1}, {"fault": "http_429", "retry_after": 30, "polls": 1},
         {"status": 200, "payload": TEXT}],
    )
    clock = FakeClock()
    events = await events_of(make_trigger(file_id, clock, poll_interval=2, end_time=clock.now + 45))
    assert events[0]["status"] == "success"
    assert clock.sleeps == [30.0, 15.0]


@pytest.mark.asyncio
async def test_transient_errors_in_a_row_exhaust_the_budget(sim_connections):
    file_id = sim_connections.create("leadtools", [{"fault": "http_500"}])
    clock = FakeClock()
    events = await events_of(make_trigger(file_id, clock, max_consecutive_errors=3))
    assert events[0]["status"] == "error" and events[0]["kind"] == "exhausted"
    assert "3 transient errors in a row" in events[0]["message"] and "HTTP 500" in events[0]["message"]
    assert sim_connections.document("leadtools", file_id)["status_calls"] == 3


@pytest.mark.asyncio
async def test_bad_credentials_yield_an_auth_error_without_the_secret(connection, simulator):
    conn_id = connection("lt_canary", "leadtools", password="canary-trigger-pw-42")
    file_id = simulator.create("leadtools", [{"status": 100}])
    trigger = make_trigger(file_id, FakeClock(), leadtools_conn_id=conn_id)
    events = await events_of(trigger)
    assert events[0]["status"] == "error" and events[0]["kind"] == "auth"
    assert "'lt_canary'" in events[0]["message"]
    assert "canary-trigger-pw-42" not in repr(events) + repr(trigger.serialize())


@pytest.mark.asyncio
async def test_cancellation_propagates_and_releases_the_session(sim_connections):
    file_id = sim_connections.create("leadtools", [{"status": 100}])
    trigger = make_trigger(file_id, poll_interval=30)  # real sleeps: cancelled while waiting
    task = asyncio.create_task(events_of(trigger))
    for _ in range(100):
        await asyncio.sleep(0.02)
        if sim_connections.document("leadtools", file_id)["status_calls"] >= 1:
            break
    assert SESSIONS.open_sessions() == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert SESSIONS.open_sessions() == 0


@pytest.mark.asyncio
async def test_many_triggers_of_one_connection_share_one_session(sim_connections):
    ids = [sim_connections.create("leadtools", [{"status": 100, "polls": 2}, {"status": 200, "payload": TEXT}])
           for _ in range(50)]
    clock = FakeClock()
    results, peak = await run_all_watching_sessions(make_trigger(i, clock) for i in ids)
    assert all(r[0]["status"] == "success" for r in results)
    assert peak == 1 and SESSIONS.open_sessions() == 0


@pytest.mark.asyncio
async def test_a_large_result_stays_out_of_the_event_and_the_worker_fetches_it(sim_connections):
    from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

    big = [{"ServiceType": "Recognition", "RecognitionType": "Text",
            "data": [{"PageNumber": n, "Text": "lorem ipsum " * 100} for n in range(1, 101)]}]
    file_id = sim_connections.create("leadtools", [{"status": 200, "payload": big}])
    events = await events_of(make_trigger(file_id, FakeClock()))
    assert events[0]["status"] == "success" and events[0]["payload_omitted"] is True
    assert "payload" not in events[0] and len(repr(events[0])) < 2000

    class TaskInstance:
        pushed: dict = {}

        def xcom_push(self, key, value):
            self.pushed[key] = value

    sensor = LeadtoolsQuerySensor(task_id="wait", file_id=file_id)
    ti = TaskInstance()
    payload = await asyncio.to_thread(sensor.execute_complete, {"ti": ti}, events[0])
    assert payload == big
    assert ti.pushed["docstatus"]["vendor_status"] == "200"
    assert sim_connections.document("leadtools", file_id)["status_calls"] == 2


@pytest.mark.asyncio
async def test_a_burst_of_slow_polls_waits_for_pooled_connections_instead_of_opening_more(sim_connections):
    from airflow_docstatus.engine.transport_async import MAX_CONNECTIONS

    script = [{"fault": "slow", "delay": 0.3, "status": 100, "polls": 1}, {"status": 200, "payload": TEXT}]
    ids = [sim_connections.create("leadtools", script) for _ in range(MAX_CONNECTIONS + 30)]
    peak = 0

    async def watch():
        nonlocal peak
        while True:
            for lease in SESSIONS._leases.values():
                peak = max(peak, len(lease.session.connector._acquired))
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    results = await asyncio.gather(*(events_of(make_trigger(i, FakeClock())) for i in ids))
    watcher.cancel()
    assert all(r[0]["status"] == "success" for r in results)
    assert MAX_CONNECTIONS // 2 < peak <= MAX_CONNECTIONS


@pytest.mark.asyncio
async def test_the_error_count_goes_on_from_the_sensors_first_poke(sim_connections):
    """Issue 12, item 8: handed "2 of 3" by the sensor, the trigger gives up at its first error, not its third."""
    file_id = sim_connections.create("leadtools", [{"fault": "http_500"}])
    clock = FakeClock()
    trigger = make_trigger(file_id, clock, poll_interval=5, max_consecutive_errors=3, errors_in_row=2,
                           last_error="GET …/Query failed to connect (ConnectionError)")
    events = await events_of(trigger)
    assert [(e["status"], e.get("kind")) for e in events] == [("error", "exhausted")]
    assert "gave up after 3 transient errors in a row" in events[0]["message"]
    assert sim_connections.document("leadtools", file_id)["status_calls"] == 1


@pytest.mark.asyncio
async def test_a_timeout_after_errors_names_the_last_error(sim_connections):
    file_id = sim_connections.create("leadtools", [{"status": 100, "polls": 1}, {"fault": "http_503"}])
    clock = FakeClock()
    events = await events_of(make_trigger(file_id, clock, poll_interval=5, end_time=clock.now + 7,
                                          max_consecutive_errors=10))
    assert [e["status"] for e in events] == ["timeout"]
    assert "last seen: leadtools" in events[0]["message"]
    assert "; last error: " in events[0]["message"] and "HTTP 503" in events[0]["message"]
