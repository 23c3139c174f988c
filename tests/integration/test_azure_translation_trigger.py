"""Azure Document Translation triggers: their async loop against the simulator, with a clock the test controls."""

from __future__ import annotations

import uuid

import pytest

from airflow_docstatus.engine.transport_async import SESSIONS
from airflow_docstatus.triggers.azure_translation import (
    AzureDocumentTranslationStatusTrigger,
    AzureTranslationBatchStatusTrigger,
)
from tests.support import FakeClock, events_of

VENDOR = "azure_translation"
CONN_TYPE = "azure_document_translation"
PATH = "https://simstorage.blob.core.windows.net/target/fr/contract.docx"
DONE = {"status": "Succeeded", "payload": {"path": PATH}}


def create_document(simulator, script) -> dict:
    batch_id, doc_id = simulator.create(VENDOR, script, f"{uuid.uuid4()}:{uuid.uuid4()}").split(":")
    return {"batch_id": batch_id, "document_id": doc_id}


def clocked(trigger, clock: FakeClock):
    trigger._now = clock.time
    trigger._sleep = clock.sleep
    return trigger


def document_trigger(ids: dict, clock: FakeClock, **kwargs) -> AzureDocumentTranslationStatusTrigger:
    return clocked(AzureDocumentTranslationStatusTrigger(**ids, **kwargs), clock)


def test_serialize_round_trips_for_both_triggers():
    batch_id, doc_id = str(uuid.uuid4()), str(uuid.uuid4())
    document = AzureDocumentTranslationStatusTrigger(
        batch_id=batch_id.upper(), document_id=doc_id, azure_translation_conn_id="azt_x", poll_interval=5, end_time=99.5
    )
    classpath, kwargs = document.serialize()
    assert classpath == "airflow_docstatus.triggers.azure_translation.AzureDocumentTranslationStatusTrigger"
    assert kwargs == {"batch_id": batch_id, "document_id": doc_id, "azure_translation_conn_id": "azt_x",
                      "poll_interval": 5.0, "end_time": 99.5, "max_consecutive_errors": 10, "poll_immediately": True}
    assert AzureDocumentTranslationStatusTrigger(**kwargs).serialize() == (classpath, kwargs)
    batch = AzureTranslationBatchStatusTrigger(batch_id=batch_id, fail_on_document_failures=False)
    classpath, kwargs = batch.serialize()
    assert classpath == "airflow_docstatus.triggers.azure_translation.AzureTranslationBatchStatusTrigger"
    assert kwargs["fail_on_document_failures"] is False and "document_id" not in kwargs
    assert kwargs["azure_translation_conn_id"] == "azure_document_translation_default"
    assert AzureTranslationBatchStatusTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_unknown_arguments_and_bad_ids_are_refused():
    with pytest.raises(TypeError, match="unexpected arguments"):
        AzureTranslationBatchStatusTrigger(batch_id=str(uuid.uuid4()), document_id=str(uuid.uuid4()))
    with pytest.raises(ValueError, match="GUID"):
        AzureDocumentTranslationStatusTrigger(batch_id="b", document_id=str(uuid.uuid4()))


@pytest.mark.asyncio
async def test_success_yields_one_event_with_the_path(sim_connections):
    ids = create_document(sim_connections, [{"status": "NotStarted", "polls": 1},
                                            {"status": "Running", "polls": 1, "payload": {"progress": 0.5}}, DONE])
    clock = FakeClock()
    events = await events_of(document_trigger(ids, clock, poll_interval=2))
    assert len(events) == 1 and events[0]["status"] == "success"
    assert events[0]["payload"] == PATH
    assert events[0]["docstatus"]["vendor_status"] == "Succeeded" and events[0]["docstatus"]["ref"] == ids
    assert clock.sleeps == [2.0, 2.0]
    assert SESSIONS.open_sessions() == 0


@pytest.mark.asyncio
async def test_retry_after_on_a_200_sets_the_next_poll(sim_connections):
    ids = create_document(sim_connections, [{"status": "Running", "polls": 1, "payload": {"retry_after": 7}}, DONE])
    clock = FakeClock()
    events = await events_of(document_trigger(ids, clock, poll_interval=2))
    assert events[0]["status"] == "success"
    assert clock.sleeps == [7.0]


@pytest.mark.asyncio
async def test_two_429s_then_success_waits_as_told_and_ends_with_the_path(sim_connections):
    ids = create_document(
        sim_connections,
        [{"status": "Running", "fault": "http_429", "retry_after": 3, "polls": 2}, {"status": "Running", "polls": 1},
         DONE],
    )
    clock = FakeClock()
    events = await events_of(document_trigger(ids, clock, poll_interval=1, max_consecutive_errors=3))
    assert events[0]["status"] == "success" and events[0]["payload"] == PATH
    assert clock.sleeps == [3.0, 3.0, 1.0]
    assert sim_connections.document(VENDOR, f"{ids['batch_id']}:{ids['document_id']}")["status_calls"] == 4


@pytest.mark.asyncio
async def test_a_429_retry_after_past_the_deadline_is_clamped_to_it(sim_connections):
    ids = create_document(sim_connections, [{"status": "Running", "fault": "http_429", "retry_after": 30, "polls": 1},
                                            {"status": "Running", "payload": {"retry_after": 60}}])
    clock = FakeClock()
    events = await events_of(document_trigger(ids, clock, poll_interval=2, end_time=clock.now + 10))
    assert [e["status"] for e in events] == ["timeout"]
    assert clock.sleeps == [10.0]
    assert events[0]["docstatus"]["vendor_status"] == "Running"


@pytest.mark.asyncio
async def test_a_503_is_retried_and_the_error_budget_applies(sim_connections):
    ids = create_document(sim_connections, [{"status": "Running", "fault": "http_503"}])
    events = await events_of(document_trigger(ids, FakeClock(), max_consecutive_errors=2))
    assert events[0]["status"] == "error" and events[0]["kind"] == "exhausted"
    assert "HTTP 503 (service unavailable): ServiceUnavailable" in events[0]["message"]


@pytest.mark.asyncio
async def test_a_failed_document_yields_a_failed_event_with_azures_error(sim_connections):
    error = {"code": "InvalidRequest", "message": "Bad file",
             "innerError": {"code": "InvalidDocumentFormat", "message": "Not a docx"}}
    ids = create_document(sim_connections, [{"status": "Running", "polls": 1},
                                            {"status": "failed", "payload": {"error": error}}])
    events = await events_of(document_trigger(ids, FakeClock()))
    assert events[0]["status"] == "failed"
    assert events[0]["docstatus"]["vendor_status"] == "failed"
    assert events[0]["docstatus"]["message"] == (
        "InvalidRequest: Bad file; inner error InvalidDocumentFormat: Not a docx"
    )


@pytest.mark.asyncio
async def test_cancelling_waits_until_cancelled(sim_connections):
    ids = create_document(sim_connections, [{"status": "Cancelling", "polls": 2}, {"status": "Cancelled"}])
    clock = FakeClock()
    events = await events_of(document_trigger(ids, clock, poll_interval=1))
    assert events[0]["status"] == "failed" and events[0]["docstatus"]["vendor_status"] == "Cancelled"
    assert len(clock.sleeps) == 2


@pytest.mark.asyncio
async def test_wrong_key_and_unknown_ids_end_at_once(connection, simulator):
    ids = create_document(simulator, [DONE])
    conn_id = connection("azt_canary", CONN_TYPE, password="canary-trigger-key-42")
    trigger = document_trigger(ids, FakeClock(), azure_translation_conn_id=conn_id)
    events = await events_of(trigger)
    assert events[0]["status"] == "error" and events[0]["kind"] == "auth"
    assert "'azt_canary'" in events[0]["message"]
    assert "canary-trigger-key-42" not in repr(events) + repr(trigger.serialize())
    connection("azure_document_translation_default", CONN_TYPE)
    missing = {"batch_id": ids["batch_id"], "document_id": str(uuid.uuid4())}
    events = await events_of(document_trigger(missing, FakeClock()))
    assert events[0]["status"] == "error" and events[0]["kind"] == "permanent"
    assert "HTTP 404" in events[0]["message"] and missing["document_id"] in events[0]["message"]


@pytest.mark.asyncio
async def test_an_unsupported_api_version_ends_as_invalid_before_any_call(connection, simulator):
    ids = create_document(simulator, [DONE])
    conn_id = connection("azt_bad_version", CONN_TYPE, extra={"api_version": "2019-01-01"})
    events = await events_of(document_trigger(ids, FakeClock(), azure_translation_conn_id=conn_id))
    assert events[0]["status"] == "error" and events[0]["kind"] == "invalid" and "api_version" in events[0]["message"]
    assert simulator.document(VENDOR, f"{ids['batch_id']}:{ids['document_id']}")["status_calls"] == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("api_version", ["v1.1", "2024-05-01"])
async def test_the_batch_trigger_fails_on_failed_documents_unless_told_not_to(connection, simulator, api_version):
    conn_id = connection(f"azt_batch_{api_version}", CONN_TYPE, extra={"api_version": api_version})
    batch_id = str(uuid.uuid4())
    simulator.create(VENDOR, [{"status": "Succeeded"}], f"{batch_id}:{uuid.uuid4()}")
    simulator.create(VENDOR, [{"status": "Failed"}], f"{batch_id}:{uuid.uuid4()}")
    strict = clocked(AzureTranslationBatchStatusTrigger(batch_id=batch_id, azure_translation_conn_id=conn_id),
                     FakeClock())
    events = await events_of(strict)
    assert events[0]["status"] == "failed" and events[0]["docstatus"]["vendor_status"] == "Succeeded"
    assert events[0]["docstatus"]["message"].startswith("1 of 2 document(s) failed")
    lenient = clocked(AzureTranslationBatchStatusTrigger(batch_id=batch_id, azure_translation_conn_id=conn_id,
                                                         fail_on_document_failures=False), FakeClock())
    events = await events_of(lenient)
    assert events[0]["status"] == "success"
    assert events[0]["payload"]["id"] == batch_id and events[0]["payload"]["summary"]["failed"] == 1
