"""CoraOcrStatusTrigger: its async loop against the simulator over real sockets, with a clock the test controls."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

from airflow_docstatus.engine.transport_async import SESSIONS
from airflow_docstatus.hooks.cora import CoraSequenceOcrHook
from airflow_docstatus.protocols.soap import WSDL_CACHE
from airflow_docstatus.triggers.cora import CoraOcrStatusTrigger
from tests.support import FakeClock, events_of, run_all_watching_sessions, with_clock

CLASSPATH = "airflow_docstatus.triggers.cora.CoraOcrStatusTrigger"
VERSIONS = ["1.1", "1.2"]


@pytest.fixture
def cora(connection, simulator):
    """A Cora connection to the simulator: ``cora("1.2", wsdl=...)`` -> its conn id."""

    def define(version: str = "1.1", **extra_and_fields) -> str:
        fields = {k: extra_and_fields.pop(k) for k in ("login", "password") if k in extra_and_fields}
        conn_id = f"cora_t{version.replace('.', '')}_{uuid.uuid4().hex[:6]}"
        return connection(conn_id, "cora_sequence", extra={"soap_version": version, **extra_and_fields}, **fields)

    return define


@pytest.fixture
def no_requests_in_the_trigger(monkeypatch):
    """Fail the test if anything sends a status call with requests (the sync path) while a trigger runs."""

    def refuse(self, request):
        raise AssertionError("the trigger used the sync (requests) transport")

    monkeypatch.setattr(CoraSequenceOcrHook, "send", refuse)


def make_trigger(instance_id, conn_id: str, clock: FakeClock | None = None, **kwargs) -> CoraOcrStatusTrigger:
    trigger = CoraOcrStatusTrigger(master_workflow_instance_id=instance_id, cora_conn_id=conn_id, **kwargs)
    return with_clock(trigger, clock) if clock else trigger


def test_serialize_round_trip_keeps_ids_options_and_no_secret():
    trigger = CoraOcrStatusTrigger(
        master_workflow_instance_id="42",
        activity_metadata={"WorkflowName": "Invoices", "CallerId": 3},
        cora_conn_id="cora_x",
        poll_interval=7,
        end_time=1234.5,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    assert kwargs == {
        "master_workflow_instance_id": 42,
        "activity_metadata": {"WorkflowName": "Invoices", "CallerId": 3},
        "cora_conn_id": "cora_x",
        "poll_interval": 7.0,
        "end_time": 1234.5,
        "max_consecutive_errors": 10,
        "poll_immediately": True,
    }
    assert CoraOcrStatusTrigger(**kwargs).serialize() == (classpath, kwargs)
    with pytest.raises(ValueError, match="positive integer"):
        CoraOcrStatusTrigger(master_workflow_instance_id="abc")


@pytest.mark.asyncio
@pytest.mark.parametrize("version", VERSIONS)
async def test_completed_yields_one_event_with_the_three_fields(simulator, cora, version, no_requests_in_the_trigger):
    doc = simulator.create("cora", [{"status": "Queued", "polls": 1}, {"status": "ProcessingInput", "polls": 1},
                                    {"status": "WaitingForOutput", "polls": 1},
                                    {"status": "Completed", "payload": {"ExternalContext": "out/invoice.xml"}}])
    clock = FakeClock()
    events = await events_of(make_trigger(doc, cora(version), clock, poll_interval=3))
    assert len(events) == 1 and events[0]["status"] == "success"
    assert events[0]["payload"] == {"Status": "Completed", "ErrorCode": "NoError", "ExternalContext": "out/invoice.xml"}
    assert events[0]["docstatus"]["vendor"] == "cora" and events[0]["docstatus"]["vendor_status"] == "Completed"
    assert clock.sleeps == [3.0, 3.0, 3.0]
    assert simulator.document("cora", doc)["status_calls"] == 4
    assert SESSIONS.open_sessions() == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("version", VERSIONS)
async def test_failed_yields_a_failed_event_with_the_error_code(simulator, cora, version):
    doc = simulator.create("cora", [{"status": "Queued", "polls": 1},
                                    {"status": "Failed", "payload": {"ErrorCode": "RobotProfileNotFound"}}])
    events = await events_of(make_trigger(doc, cora(version), FakeClock()))
    assert [e["status"] for e in events] == ["failed"]
    assert events[0]["docstatus"]["vendor_status"] == "Failed"
    assert "ErrorCode RobotProfileNotFound" in events[0]["docstatus"]["message"]


@pytest.mark.asyncio
async def test_an_element_the_wsdl_does_not_list_is_ignored(simulator, cora):
    doc = simulator.create("cora", [{"status": "Failed", "payload": {
        "ErrorCode": "TimedOut", "extra_elements": {"CompletedOn": "2024-05-01T10:00:00"}}}])
    events = await events_of(make_trigger(doc, cora("1.2"), FakeClock()))
    assert [e["status"] for e in events] == ["failed"]
    assert events[0]["docstatus"]["vendor_status"] == "Failed"
    assert "ErrorCode TimedOut" in events[0]["docstatus"]["message"]


@pytest.mark.asyncio
async def test_a_server_fault_is_retried_and_a_client_fault_ends_the_wait(simulator, cora):
    conn_id = cora("1.2")
    flaky = simulator.create("cora", "flaky")
    clock = FakeClock()
    events = await events_of(make_trigger(flaky, conn_id, clock, poll_interval=1))
    assert events[0]["status"] == "success"
    assert simulator.document("cora", flaky)["status_calls"] == 4  # Queued, the fault, ProcessingInput, Completed
    broken = simulator.create("cora", "client_fault")
    events = await events_of(make_trigger(broken, conn_id, FakeClock()))
    assert events[0]["status"] == "error" and events[0]["kind"] == "permanent"
    assert "soap:Sender: Server was unable to process request. ---> The robot profile is not valid" in events[0]["message"]


@pytest.mark.asyncio
async def test_wrong_password_yields_an_auth_error_without_the_secret(simulator, cora):
    conn_id = cora(password="canary-trigger-pw-77")
    doc = simulator.create("cora", [{"status": "Queued"}])
    trigger = make_trigger(doc, conn_id, FakeClock())
    events = await events_of(trigger)
    assert events[0]["status"] == "error" and events[0]["kind"] == "auth"
    assert repr(conn_id) in events[0]["message"]
    assert "canary-trigger-pw-77" not in repr(events) + repr(trigger.serialize())


@pytest.mark.asyncio
async def test_ntlm_is_refused_at_once_without_a_call(simulator, cora):
    conn_id = cora(auth="ntlm", login="DOMAIN\\svc")
    doc = simulator.create("cora", [{"status": "Queued"}])
    clock = FakeClock()
    started = time.monotonic()
    events = await asyncio.wait_for(events_of(make_trigger(doc, conn_id, clock)), timeout=10)
    assert time.monotonic() - started < 5
    assert events[0]["status"] == "error" and events[0]["kind"] == "invalid"
    assert "NTLM" in events[0]["message"] and "mode='reschedule'" in events[0]["message"]
    assert clock.sleeps == [] and simulator.document("cora", doc)["status_calls"] == 0


@pytest.mark.asyncio
async def test_many_triggers_load_the_wsdl_once_off_the_loop_and_share_one_session(simulator, cora, monkeypatch,
                                                                                     no_requests_in_the_trigger):
    url = f"{simulator.url}/cora/SequenceServices/coraOcrIntegration_v1.0.0.asmx?WSDL&case={uuid.uuid4().hex}"
    conn_id = cora("1.2", wsdl=url)
    loader_threads = []
    original = WSDL_CACHE._load

    def recording_load(*args, **kwargs):
        loader_threads.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(WSDL_CACHE, "_load", recording_load)
    ids = [simulator.create("cora", [{"status": "Queued", "polls": 2}, {"status": "Completed"}]) for _ in range(30)]
    clock = FakeClock()
    results, peak = await run_all_watching_sessions(make_trigger(i, conn_id, clock) for i in ids)
    assert all(r[0]["status"] == "success" for r in results)
    assert len(loader_threads) == 1 and loader_threads[0] != threading.get_ident()
    assert peak == 1 and SESSIONS.open_sessions() == 0
    assert sum(simulator.document("cora", i)["status_calls"] for i in ids) == 90


@pytest.mark.asyncio
async def test_the_deadline_yields_a_timeout_event(simulator, cora):
    doc = simulator.create("cora", [{"status": "WaitingForOutput"}])
    clock = FakeClock()
    events = await events_of(make_trigger(doc, cora(), clock, poll_interval=5, end_time=clock.now + 12))
    assert [e["status"] for e in events] == ["timeout"]
    assert "last seen: cora master_workflow_instance_id=" in events[0]["message"]
    assert clock.sleeps == [5.0, 5.0, 2.0]
