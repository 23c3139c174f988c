"""Test DAGs: one LEADTOOLS sensor per mode, its file id from ``dag_run.conf``.

``lt_<mode>`` waits with a 60 s timeout; ``lt_<mode>_timeout`` gives up after
5 s; ``lt_<mode>_softfail`` does the same with ``soft_fail=True``. A
downstream task echoes the sensor's XCom, as a data engineer's task would.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

MODES = {
    "poke": {"mode": "poke"},
    "reschedule": {"mode": "reschedule"},
    "deferrable": {"deferrable": True},
    # Started in the triggerer by a scheduler; ``airflow dags test`` runs it on its in-process worker instead.
    "start_from_trigger": {"start_from_trigger": True},
}
VARIANTS = {"": {"timeout": 60}, "_timeout": {"timeout": 5}, "_softfail": {"timeout": 5, "soft_fail": True}}

for mode_name, mode_args in MODES.items():
    for suffix, variant_args in VARIANTS.items():
        with DAG(f"lt_{mode_name}{suffix}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
            sensor = LeadtoolsQuerySensor(
                task_id="wait",
                file_id="{{ dag_run.conf['file_id'] }}",
                leadtools_conn_id="{{ dag_run.conf.get('conn_id', 'leadtools_default') }}",
                poke_interval=2,
                max_consecutive_errors=3,
                **mode_args,
                **variant_args,
            )

            @task
            def downstream(request_data):
                print(f"downstream got {request_data!r}")
                return len(request_data)

            downstream(sensor.output)
