"""What the triggerer writes to the task log when a trigger fires: a summary, never the payload."""

from __future__ import annotations

from airflow.triggers.base import TriggerEvent

from airflow_docstatus.engine.events import describe_event, error_event, success_event
from airflow_docstatus.engine.status import DocStatus, State
from airflow_docstatus.engine.trigger import DocStatusEvent

PAYLOAD = [{"ServiceType": "Recognition", "data": [{"Text": "INVOICE 2026-0042 ACME Corp, total due 1,234.56 EUR"}]}]


def status() -> DocStatus:
    return DocStatus(vendor="leadtools", ref={"file_id": "f1"}, state=State.SUCCEEDED, vendor_status="200",
                     payload=PAYLOAD)


def test_the_fired_event_repr_summarizes_the_payload():
    event = DocStatusEvent(success_event(status()))
    text = repr(event)
    assert text.startswith("DocStatusEvent<success, leadtools file_id=f1 status=200, payload: a list of 1 item(s), ")
    assert "INVOICE" not in text and "INVOICE" in repr(TriggerEvent(success_event(status())))
    assert isinstance(event, TriggerEvent) and event.payload["payload"] == PAYLOAD  # the event itself is unchanged


def test_error_and_omitted_payload_events_describe_themselves():
    assert describe_event(error_event("auth", "HTTP 401 for 'lt'")) == "error, kind=auth"
    event = success_event(status())
    del event["payload"]
    event["payload_omitted"] = True
    assert describe_event(event).endswith("payload left for the worker to fetch")
