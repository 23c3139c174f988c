"""Test DAG: one Cora sensor per mode in one DAG, each on its own document and connection from ``dag_run.conf``.

``conf = {"ids": {"poke": ..., "reschedule": ..., "deferrable": ...}, "conns": {mode: conn_id}}``
(``conns`` optional: ``cora_sequence_default``). Each sensor's downstream task
reads ExternalContext out of the sensor's XCom, as a data engineer's task would.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_docstatus.sensors.cora import CoraOcrStatusSensor

MODES = {
    "poke": {"mode": "poke"},
    "reschedule": {"mode": "reschedule"},
    "deferrable": {"deferrable": True},
}

with DAG("cora_modes", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    for mode_name, mode_args in MODES.items():
        sensor = CoraOcrStatusSensor(
            task_id=f"wait_{mode_name}",
            master_workflow_instance_id="{{ dag_run.conf['ids']['%s'] }}" % mode_name,
            cora_conn_id="{{ dag_run.conf.get('conns', {}).get('%s', 'cora_sequence_default') }}" % mode_name,
            activity_metadata={"WorkflowName": "{{ dag.dag_id }}", "ActivityName": mode_name},
            poke_interval=2,
            timeout=60,
            max_consecutive_errors=3,
            **mode_args,
        )

        @task(task_id=f"use_{mode_name}")
        def use(result: dict) -> str:
            print(f"downstream got {result!r}")
            return result["ExternalContext"]

        use(sensor.output)
