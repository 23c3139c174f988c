"""Sensors started in the triggerer (``start_from_trigger=True``), next to a classic deferrable one.

``deploy_start_from_trigger``: every vendor's sensor (Azure's two) started in
the triggerer with ids from ``dag_run.conf`` (templates), a LEADTOOLS sensor
with a literal id, one with an id from an upstream task's XCom, and a classic
deferrable LEADTOOLS sensor for comparison. ``deploy_sft_failures``: a bad id
and a vendor failure, each of which must end the task failed.
``deploy_sft_bench_classic`` and ``deploy_sft_bench_trigger``: the same
``DOCSTATUS_SFT_BENCH_WAITS`` LEADTOOLS waits (10 unless set), the classic way
and started in the triggerer, for the figures in docs/benchmarks.md.

Every worker run of a task appends a line to ``<AIRFLOW_HOME>/worker-runs.log``
(``on_execute_callback`` runs on the worker for the first run and for each
resume), so the test can count the task processes each wait started.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, task

from airflow_docstatus.sensors.azure_translation import (
    AzureDocumentTranslationStatusSensor,
    AzureTranslationBatchStatusSensor,
)
from airflow_docstatus.sensors.cora import CoraOcrStatusSensor
from airflow_docstatus.sensors.expertai import ExpertAiExtractStatusSensor
from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor
from airflow_docstatus.sensors.smartdocumentor import SmartDocumentorTaskStatusSensor

LITERAL_FILE_ID = "5b0c3f6e-2f1d-4c8e-9a41-0d3c5e7f9a12"  # the test creates this document on the simulator
BENCH_WAITS = int(os.environ.get("DOCSTATUS_SFT_BENCH_WAITS", "10"))
WORKER_RUNS = Path(os.environ.get("AIRFLOW_HOME", Path(__file__).resolve().parents[1])) / "worker-runs.log"


def note_worker_run(context) -> None:
    """One line per task process a worker starts for a task: dag, run, task, try."""
    ti = context["ti"]
    with open(WORKER_RUNS, "a") as runs:
        runs.write(f"{ti.dag_id} {ti.run_id} {ti.task_id} {ti.try_number}\n")


DEFAULTS = {"on_execute_callback": note_worker_run, "retries": 0}
WAIT = {"poke_interval": 2, "timeout": 300}

with DAG("deploy_start_from_trigger", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         default_args=DEFAULTS, max_active_tasks=16):
    LeadtoolsQuerySensor(task_id="classic", file_id="{{ dag_run.conf['classic'] }}", deferrable=True, **WAIT)
    LeadtoolsQuerySensor(task_id="literal", file_id=LITERAL_FILE_ID, start_from_trigger=True, **WAIT)

    @task
    def pick(**context):
        return context["dag_run"].conf["from_xcom"]

    from_xcom = LeadtoolsQuerySensor(task_id="from_xcom", file_id=pick(), start_from_trigger=True, **WAIT)

    @task
    def downstream(request_data):
        return len(request_data)

    downstream(from_xcom.output)
    AzureDocumentTranslationStatusSensor(
        task_id="azure_document", batch_id="{{ dag_run.conf['azure_batch'] }}",
        document_id="{{ dag_run.conf['azure_document'] }}", start_from_trigger=True, **WAIT,
    )
    AzureTranslationBatchStatusSensor(
        task_id="azure_batch", batch_id="{{ dag_run.conf['azure_batch'] }}", start_from_trigger=True, **WAIT,
    )
    CoraOcrStatusSensor(
        task_id="cora", master_workflow_instance_id="{{ dag_run.conf['cora'] }}", start_from_trigger=True, **WAIT,
    )
    ExpertAiExtractStatusSensor(
        task_id="expertai", extract_task_id="{{ dag_run.conf['expertai'] }}", start_from_trigger=True, **WAIT,
    )
    SmartDocumentorTaskStatusSensor(
        task_id="smartdocumentor", sd_task_id="{{ dag_run.conf['smartdocumentor'] }}", start_from_trigger=True,
        **WAIT,
    )

with DAG("deploy_sft_failures", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         default_args=DEFAULTS):
    LeadtoolsQuerySensor(task_id="bad_id", file_id="{{ dag_run.conf['bad'] }}", start_from_trigger=True, **WAIT)
    LeadtoolsQuerySensor(task_id="rejected", file_id="{{ dag_run.conf['rejected'] }}", start_from_trigger=True,
                         **WAIT)

for name, mode in {"classic": {"deferrable": True}, "trigger": {"start_from_trigger": True}}.items():
    with DAG(f"deploy_sft_bench_{name}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
             default_args=DEFAULTS, max_active_tasks=max(BENCH_WAITS, 16)):
        for i in range(BENCH_WAITS):
            LeadtoolsQuerySensor(task_id=f"wait_{i}", file_id=f"{{{{ dag_run.conf['ids'][{i}] }}}}", **mode, **WAIT)
