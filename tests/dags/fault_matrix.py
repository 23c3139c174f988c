"""The fault matrix DAG: one expert.ai sensor task per (fault, mode), each on its own scripted document.

Task ids are ``<fault>__<mode>``; ``dag_run.conf["ids"][task_id]`` is the
document and ``conf["conn_id"]`` the connection (short client timeouts, so
the ``slow`` fault times the read out, a 2 s ``call_timeout`` against ``drip`` and a 64 KiB
``max_body_bytes`` against ``oversized``). The rows come from
``tests/dagtest/test_fault_matrix.py``, which runs this DAG once and checks
every cell; docs/fault-matrix.md shows the same table.

The reschedule-mode cells run first, the poke and deferrable ones after
them. ``airflow dags test`` runs every task that is ready, in no set order,
before it looks at a rescheduled one again: with all 57 cells ready at once a
reschedule-mode cell waited a whole round of the others between two pokes
(85 s on Airflow 3.3, 200 s on 3.2, whose ``dags test`` builds its in-process
execution API anew for every task), and a cell that ran early in the round
could time out before its next poke. With the reschedule cells alone, a round
is theirs only (18 to 80 s, by the machine's load). ``TIMEOUT`` is a cap, not a
measure: no cell waits for it.
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

TIMEOUT = 900  # seconds

with DAG("fault_matrix", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, max_active_tasks=1):
    first, then = [], []
    for fault in FAULTS:
        for mode, mode_args in MODES.items():
            cell = ExpertAiExtractStatusSensor(
                task_id=f"{fault}__{mode}",
                extract_task_id="{{ dag_run.conf['ids']['%s__%s'] }}" % (fault, mode),
                expertai_conn_id="{{ dag_run.conf['conn_id'] }}",
                poke_interval=0.5,
                timeout=TIMEOUT,
                max_consecutive_errors=3 if fault == "endless_500" else 6,
                # a cell runs whatever the cells before it did
                trigger_rule="all_done",
                **mode_args,
            )
            (first if mode == "reschedule" else then).append(cell)
    for cell in then:
        cell.set_upstream(first)
