"""Genpact Cora SeQuence OCR sensor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_docstatus.engine.errors import InvalidInputError
from airflow_docstatus.engine.sensor import DocStatusSensor
from airflow_docstatus.engine.values import is_literal
from airflow_docstatus.hooks.cora import CoraSequenceOcrHook
from airflow_docstatus.protocols.cora import parse_activity_metadata

class CoraOcrStatusSensor(DocStatusSensor):
    """Waits until a Cora SeQuence OCR FileBatch is done, and returns ``{"Status", "ErrorCode", "ExternalContext"}``.

    Queued, ProcessingInput and WaitingForOutput wait; Completed succeeds;
    Aborted, Failed and NotFound (and any status the vendor does not document)
    fail with the ErrorCode in the message. A SOAP Fault fails at once when it
    is a Client/Sender fault, and is retried as a transient error when it is a
    Server/Receiver fault; either way the error carries its faultstring.

    :param master_workflow_instance_id: the id FileBatch returned (templated); a value that is
        not a positive integer fails before any call.
    :param activity_metadata: optional dict of the other ActivityMetadata header fields
        (WorkflowSpaceId, WorkflowName, ActivityInstanceId, CallerId...) (templated).
    :param cora_conn_id: the ``cora_sequence`` connection (templated).

    Deferrable mode refuses an NTLM connection at once, before any call: use poke or reschedule mode there.
    """

    template_fields: Sequence[str] = ("master_workflow_instance_id", "activity_metadata", "cora_conn_id")
    hook_class = CoraSequenceOcrHook
    trigger_class_path = "airflow_docstatus.triggers.cora.CoraOcrStatusTrigger"

    def __init__(
        self,
        *,
        master_workflow_instance_id: int | str,
        activity_metadata: Mapping[str, Any] | str | None = None,
        cora_conn_id: str = CoraSequenceOcrHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            ids={"master_workflow_instance_id": master_workflow_instance_id},
            conn_id=cora_conn_id,
            options={"activity_metadata": activity_metadata},
            **kwargs,
        )
        literal = activity_metadata is None or (
            isinstance(activity_metadata, Mapping) and all(is_literal(v) for v in activity_metadata.values())
        )
        if literal:
            try:
                parse_activity_metadata(activity_metadata)  # a bad literal fails the DAG at parse time
            except InvalidInputError as exc:
                raise ValueError(f"{self.task_id}: {exc}") from None
