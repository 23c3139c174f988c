"""A deferrable LEADTOOLS sensor that waits long enough for the test to kill the triggerer under it.

The file id comes from ``dag_run.conf['file_id']``; the downstream task uses
the payload, as a data engineer's task would.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

with DAG("deploy_triggerer_restart", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    wait = LeadtoolsQuerySensor(
        task_id="wait",
        file_id="{{ dag_run.conf['file_id'] }}",
        deferrable=True,
        poke_interval=2,
        timeout=600,
    )

    @task
    def downstream(request_data):
        return len(request_data)

    downstream(wait.output)
