"""The trigger event format, written and read in this one place.

An event is a small JSON dict:

- ``{"status": "success", "docstatus": record, "payload": ...}``; when the payload
  is larger than ``EVENT_PAYLOAD_LIMIT`` it is left out (``"payload_omitted": true``)
  and the worker fetches it again in ``execute_complete``;
- ``{"status": "failed", "docstatus": record}``: the vendor reported a terminal failure;
- ``{"status": "timeout", "message": ..., "docstatus": record or None}``: the deadline passed;
- ``{"status": "error", "kind": "auth" | "permanent" | "invalid" | "exhausted", "message": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_docstatus.engine.status import DocStatus, format_ref

EVENT_PAYLOAD_LIMIT = 64 * 1024
# The XCom key of the normalized status record, pushed by the sensor (or by the trigger that ends the task).
XCOM_DOCSTATUS_KEY = "docstatus"
EVENT_STATUSES = frozenset({"success", "failed", "timeout", "error"})
ERROR_KINDS = frozenset({"auth", "permanent", "invalid", "exhausted"})


def summarize_payload(payload: Any) -> str:
    """A short description of a payload for the task log, never the payload itself."""
    size = len(json.dumps(payload, default=str))
    if isinstance(payload, (list, tuple)):
        shape = f"a list of {len(payload)} item(s)"
    elif isinstance(payload, Mapping):
        keys = ", ".join(list(map(str, payload))[:6])
        shape = f"an object with keys [{keys}{', …' if len(payload) > 6 else ''}]"
    elif isinstance(payload, str):
        shape = f"a string of {len(payload)} character(s)"
    else:
        shape = type(payload).__name__
    return f"{shape}, {size} bytes as JSON"


def describe_event(event: Mapping[str, Any]) -> str:
    """An event in a few words for a log line: its status and ids, and a payload summary, never the payload."""
    record = event.get("docstatus") or {}
    parts = [str(event.get("status"))]
    if record:
        parts.append(f"{record.get('vendor')} {format_ref(record.get('ref') or {}, ' ')} status={record.get('vendor_status')}")
    if event.get("kind"):
        parts.append(f"kind={event['kind']}")
    if "payload" in event:
        parts.append(f"payload: {summarize_payload(event['payload'])}")
    elif event.get("payload_omitted"):
        parts.append("payload left for the worker to fetch")
    return ", ".join(parts)


_SIZER = json.JSONEncoder(default=str)  # json.dumps(payload, default=str), piece by piece


def json_size_exceeds(payload: Any, limit: int) -> bool:
    """Whether ``json.dumps(payload, default=str)`` is longer than ``limit`` characters.

    Encodes piece by piece and stops as soon as the limit is passed, so sizing
    an 8 MB result in the triggerer costs what encoding ``limit`` characters
    does, not a full ``json.dumps`` on the event loop.
    """
    size = 0
    for piece in _SIZER.iterencode(payload):
        size += len(piece)
        if size > limit:
            return True
    return False


def success_event(status: DocStatus) -> dict[str, Any]:
    event: dict[str, Any] = {"status": "success", "docstatus": status.to_record()}
    if not json_size_exceeds(status.payload, EVENT_PAYLOAD_LIMIT):
        event["payload"] = status.payload
    else:
        event["payload_omitted"] = True
    return event


def failed_event(status: DocStatus) -> dict[str, Any]:
    return {"status": "failed", "docstatus": status.to_record()}


def timeout_event(message: str, last: DocStatus | None) -> dict[str, Any]:
    return {"status": "timeout", "message": message, "docstatus": last.to_record() if last else None}


def timeout_message(deadline: float | None, last: DocStatus | None, last_error: str | None) -> str:
    """Why a wait timed out, the same in every mode: the deadline, the last status seen, the last error."""
    when = "" if deadline is None else " " + datetime.fromtimestamp(deadline, tz=timezone.utc).isoformat(timespec="seconds")
    message = f"Sensor has timed out: the deadline{when} passed"
    if last is not None:
        message += f"; last seen: {last.describe()}"
    if last_error:
        message += f"; last error: {last_error}"
    return message


def error_event(kind: str, message: str) -> dict[str, Any]:
    return {"status": "error", "kind": kind, "message": message}


@dataclass(frozen=True)
class Outcome:
    """A checked trigger event, as the sensor reads it back."""

    status: str
    docstatus: DocStatus | None
    payload: Any
    payload_omitted: bool
    kind: str | None
    message: str | None

    @classmethod
    def parse(cls, event: Any) -> Outcome:
        """Validate an event; raise ``ValueError`` naming what is wrong with it."""
        if not isinstance(event, Mapping):
            raise ValueError(f"trigger event must be a dict, got {type(event).__name__}")
        status = event.get("status")
        if status not in EVENT_STATUSES:
            raise ValueError(f"trigger event has an unknown status {status!r}")
        record = event.get("docstatus")
        if status in {"success", "failed"} and not isinstance(record, Mapping):
            raise ValueError(f"a {status!r} trigger event must carry a docstatus record")
        kind = event.get("kind")
        if status == "error" and kind not in ERROR_KINDS:
            raise ValueError(f"an 'error' trigger event has an unknown kind {kind!r}")
        try:
            docstatus = DocStatus.from_record(record, payload=event.get("payload")) if record else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"trigger event carries a malformed docstatus record: {exc}") from None
        return cls(
            status=status,
            docstatus=docstatus,
            payload=event.get("payload"),
            payload_omitted=bool(event.get("payload_omitted")),
            kind=kind,
            message=event.get("message"),
        )
