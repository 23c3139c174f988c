"""Test DAGs for the token vendors: each DAG holds the vendor's sensor in all three modes.

``expertai_modes`` and ``smartdocumentor_modes`` run ``wait_poke``,
``wait_reschedule`` and ``wait_deferrable`` side by side, each on its own
document, the ids given in ``dag_run.conf["ids"][mode]``; ``conf["conn_id"]``
picks another connection. Each sensor feeds a downstream task that
measures the payload, as a data engineer's task would use it.
"""

from __future__ import annotations

import json
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_docstatus.sensors.expertai import ExpertAiExtractStatusSensor
from airflow_docstatus.sensors.smartdocumentor import SmartDocumentorTaskStatusSensor

MODES = {"poke": {"mode": "poke"}, "reschedule": {"mode": "reschedule"}, "deferrable": {"deferrable": True}}
VENDORS = {
    "expertai": (ExpertAiExtractStatusSensor, "extract_task_id", "expertai_conn_id", "expertai_extract_default"),
    "smartdocumentor": (
        SmartDocumentorTaskStatusSensor, "sd_task_id", "smartdocumentor_conn_id", "smartdocumentor_default"
    ),
}


@task
def use(payload) -> int:
    """The payload's size as JSON."""
    size = len(json.dumps(payload))
    print(f"downstream got a payload of {size} bytes")
    return size


for vendor, (sensor_class, id_arg, conn_arg, default_conn) in VENDORS.items():
    with DAG(f"{vendor}_modes", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
        for mode, mode_args in MODES.items():
            sensor = sensor_class(
                task_id=f"wait_{mode}",
                **{
                    id_arg: "{{ dag_run.conf['ids']['%s'] }}" % mode,
                    conn_arg: "{{ dag_run.conf.get('conn_id', '%s') }}" % default_conn,
                },
                poke_interval=1,
                timeout=90,
                max_consecutive_errors=3,
                **mode_args,
            )
            use.override(task_id=f"use_{mode}")(sensor.output)
