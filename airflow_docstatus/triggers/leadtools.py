"""LEADTOOLS Cloud Services trigger."""

from __future__ import annotations

from airflow_docstatus.engine.trigger import DocStatusTrigger
from airflow_docstatus.hooks.leadtools import LeadtoolsHook


class LeadtoolsQueryTrigger(DocStatusTrigger[LeadtoolsHook]):
    """Polls LEADTOOLS ``Query`` in the triggerer until the file reaches a terminal FileStatus.

    ``LeadtoolsQueryTrigger(file_id=..., leadtools_conn_id="leadtools_default",
    poll_interval=5.0, end_time=time.time() + 3600)``; polls are never less
    than 2 s apart. Takes ``fail_when_not_run`` like the sensor.
    """

    hook_class = LeadtoolsHook
