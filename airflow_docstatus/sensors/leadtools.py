"""LEADTOOLS Cloud Services sensor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_docstatus.engine.sensor import DocStatusSensor
from airflow_docstatus.hooks.leadtools import LeadtoolsHook


class LeadtoolsQuerySensor(DocStatusSensor[LeadtoolsHook]):
    """Waits until a LEADTOOLS file finishes processing, and returns its ``RequestData``.

    FileStatus 100, 122 and 123 wait (122, "Run never called", with a warning
    in the task log); 200 succeeds; 500, 501, 502 and 600 fail, as does any
    FileStatus the vendor does not document. Polls are never less than 2 s apart.

    :param file_id: the GUID of the file (templated); anything else fails before any call.
    :param leadtools_conn_id: the ``leadtools`` connection (templated).
    :param fail_when_not_run: fail on FileStatus 122 instead of waiting.
    """

    template_fields: Sequence[str] = ("file_id", "leadtools_conn_id")
    hook_class = LeadtoolsHook
    trigger_class_path = "airflow_docstatus.triggers.leadtools.LeadtoolsQueryTrigger"

    def __init__(
        self,
        *,
        file_id: str,
        leadtools_conn_id: str = LeadtoolsHook.default_conn_name,
        fail_when_not_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            ids={"file_id": file_id},
            conn_id=leadtools_conn_id,
            options={"fail_when_not_run": fail_when_not_run},
            **kwargs,
        )
