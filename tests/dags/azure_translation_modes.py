"""Test DAGs: the Azure sensors in poke, reschedule and deferrable mode, ids from ``dag_run.conf``.

``azt_success``: per mode, a document sensor (``doc_<mode>``: conf
``{"doc_<mode>": {"batch_id", "document_id"}}``) and a batch sensor
(``batch_<mode>``: conf ``{"batch_<mode>": batch_id}``), both handing their
result to a downstream task.

``azt_failures``: per mode, a failing document (``doc_failed_<mode>``), a
partly failed batch with the default (``batch_strict_<mode>``) and with
``fail_on_document_failures=False`` (``batch_lenient_<mode>``), both on conf
``batch_partial``, and a document polled with the connection named by conf
``bad_conn`` (``auth_<mode>``).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_docstatus.sensors.azure_translation import (
    AzureDocumentTranslationStatusSensor,
    AzureTranslationBatchStatusSensor,
)

MODES = {
    "poke": {"mode": "poke"},
    "reschedule": {"mode": "reschedule"},
    "deferrable": {"deferrable": True},
}
COMMON = {"poke_interval": 1, "timeout": 60, "max_consecutive_errors": 3}


def document_ids(key: str) -> dict[str, str]:
    return {
        "batch_id": "{{ dag_run.conf['%s']['batch_id'] }}" % key,
        "document_id": "{{ dag_run.conf['%s']['document_id'] }}" % key,
    }


@task
def downstream(path: str, batch: dict) -> str:
    print(f"translated document at {path}; batch {batch['id']} is {batch['status']}")
    return f"{path} ({batch['summary']['success']} of {batch['summary']['total']} documents)"


with DAG("azt_success", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    for mode_name, mode_args in MODES.items():
        document = AzureDocumentTranslationStatusSensor(
            task_id=f"doc_{mode_name}", **document_ids(f"doc_{mode_name}"), **COMMON, **mode_args
        )
        batch = AzureTranslationBatchStatusSensor(
            task_id=f"batch_{mode_name}", batch_id="{{ dag_run.conf['batch_%s'] }}" % mode_name,
            **COMMON, **mode_args,
        )
        downstream.override(task_id=f"use_{mode_name}")(document.output, batch.output)


with DAG("azt_failures", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    for mode_name, mode_args in MODES.items():
        AzureDocumentTranslationStatusSensor(
            task_id=f"doc_failed_{mode_name}", **document_ids(f"doc_failed_{mode_name}"), **COMMON, **mode_args
        )
        AzureTranslationBatchStatusSensor(
            task_id=f"batch_strict_{mode_name}", batch_id="{{ dag_run.conf['batch_partial'] }}", **COMMON, **mode_args
        )
        AzureTranslationBatchStatusSensor(
            task_id=f"batch_lenient_{mode_name}", batch_id="{{ dag_run.conf['batch_partial'] }}",
            fail_on_document_failures=False, **COMMON, **mode_args,
        )
        AzureDocumentTranslationStatusSensor(
            task_id=f"auth_{mode_name}", **document_ids("doc_auth"),
            azure_translation_conn_id="{{ dag_run.conf['bad_conn'] }}", **COMMON, **mode_args,
        )
