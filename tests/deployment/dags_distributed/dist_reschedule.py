"""A LEADTOOLS sensor in reschedule mode: each poke a worker process of its own, no worker held in between.

The distributed test SIGKILLs the Celery worker that ran a poke while the
sensor waits for its next one; the next poke runs on the other worker and
the wait goes on (same try, same deadline). The file id comes from
``dag_run.conf['file_id']``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

with DAG("dist_reschedule", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         default_args={"retries": 0}):
    LeadtoolsQuerySensor(
        task_id="wait",
        file_id="{{ dag_run.conf['file_id'] }}",
        mode="reschedule",
        poke_interval=8,  # well past the executor's report of the previous poke (see conftest.py on #66374)
        timeout=600,
    )
