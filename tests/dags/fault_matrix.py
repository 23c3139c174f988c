"""The fault matrix DAG: one expert.ai sensor task per (fault, mode), each on its own scripted document.

Task ids are ``<fault>__<mode>``; ``dag_run.conf["ids"][task_id]`` is the
document and ``conf["conn_id"]`` the connection (short client timeouts, so
the ``slow`` fault times the read out, a 2 s ``call_timeout`` against ``drip`` and a 64 KiB
``max_body_bytes`` against ``oversized``). The rows come from
``tests/dagtest/test_fault_matrix.py``, which runs this DAG once and checks
every cell; docs/fault-matrix.md shows the same table.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_docstatus.sensors.expertai import ExpertAiExtractStatusSensor

MODES = {"poke": {"mode": "poke"}, "reschedule": {"mode": "reschedule"}, "deferrable": {"deferrable": True}}
FAULTS = (
    "http_500", "http_502", "http_503", "http_429", "reset", "slow", "html", "garbled", "five_in_a_row",
    "endless_500", "http_400", "http_403", "http_404", "http_405", "http_413", "unknown_status",
    "drip", "oversized", "echo_secret",
)

with DAG("fault_matrix", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, max_active_tasks=1):
    for fault in FAULTS:
        for mode, mode_args in MODES.items():
            ExpertAiExtractStatusSensor(
                task_id=f"{fault}__{mode}",
                extract_task_id="{{ dag_run.conf['ids']['%s__%s'] }}" % (fault, mode),
                expertai_conn_id="{{ dag_run.conf['conn_id'] }}",
                poke_interval=0.5,
                timeout=120,
                max_consecutive_errors=3 if fault == "endless_500" else 6,
                **mode_args,
            )
