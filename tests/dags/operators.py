"""Test DAG: every vendor's operator in its three ways, plus retries, lost starts and a kill.

``docstatus_operators`` holds, per vendor (``lt``, ``cora``, ``xai``, ``sd``, ``azt``):

- ``<v>_start_only`` (``wait_for_completion=False``), ``<v>_worker`` (waits in the worker)
  and ``<v>_deferred`` (waits in the triggerer), each with a downstream ``use_<v>_<way>``;

and the retry cases, each on a job of its own (worker mode, ``retries=1``):

- ``lt_retry_done``: the try is killed by ``execution_timeout`` while the job runs; the retry
  comes after the job finished (``retry_delay=4s``): it returns the result without a start;
- ``xai_retry_failed``: the job fails after the first try was killed: the retry starts afresh;
- ``sd_lost_start``: the start's answer is lost (the test queues a slow answer past the
  connection's 1-s read timeout); the retry finds the task by its ``externalId``;
- ``azt_lost_start``: the same without an idempotent start and with no retries: the try fails
  saying the job may have started.

Every source (file URL, file name, externalId) holds ``dag_run.conf["run"]`` so the test can
count the starts of each task on the simulator. ``docstatus_operator_kill`` holds one Azure
operator waiting in the worker on a long batch, for the kill test, and ``lt_retry_running``:
its first try is killed by ``execution_timeout`` while a 22-s job runs, and the retry
reconnects to the running job. (``airflow dags test`` runs one task at a time, so a retry
comes only after the other tasks of the round; in the big DAG the job would be done by then.)
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_docstatus.operators.azure_translation import AzureDocumentTranslationOperator
from airflow_docstatus.operators.cora import CoraFileBatchOperator
from airflow_docstatus.operators.expertai import ExpertAiExtractLayoutOperator
from airflow_docstatus.operators.leadtools import LeadtoolsExtractTextOperator
from airflow_docstatus.operators.smartdocumentor import SmartDocumentorProcessTaskOperator

RUN = "{{ dag_run.conf['run'] }}"
WAYS = {
    "start_only": {"wait_for_completion": False},
    "worker": {"deferrable": False},
    "deferred": {"deferrable": True},
}
COMMON = {"poll_interval": 1, "timeout": 60, "max_consecutive_errors": 3}
PDF = base64.b64decode(b"JVBERi0xLjQKJcOkw7zDtsOfCg==")  # a few bytes that start like a PDF


def leadtools(task_id: str, script: str = "barcode", **kwargs) -> LeadtoolsExtractTextOperator:
    return LeadtoolsExtractTextOperator(
        task_id=task_id, file_url=f"https://files.example.com/{RUN}/{task_id}/{script}.pdf", **kwargs
    )


def cora(task_id: str, **kwargs) -> CoraFileBatchOperator:
    return CoraFileBatchOperator(
        task_id=task_id,
        input_file={"Connection": "scans", "RelativeLocation": f"{RUN}/{task_id}", "FileName": f"{RUN}-{task_id}/default.tif"},
        output_file={"Connection": "results", "RelativeLocation": "out", "FileName": f"{task_id}.xml"},
        ocr_profile="Invoices",
        file_batch_timeout=600,
        external_context=f"{task_id}",
        **kwargs,
    )


def expertai(task_id: str, script: str = "default", **kwargs) -> ExpertAiExtractLayoutOperator:
    return ExpertAiExtractLayoutOperator(
        task_id=task_id, document=PDF, document_name=f"{RUN}-{task_id}/{script}.pdf", **kwargs
    )


def smartdocumentor(task_id: str, **kwargs) -> SmartDocumentorProcessTaskOperator:
    body = {
        "externalId": f"{RUN}-{task_id}",
        "displayName": task_id,
        "document": {"name": "exported.pdf", "data": base64.b64encode(PDF).decode()},
    }
    return SmartDocumentorProcessTaskOperator(task_id=task_id, task=body, **kwargs)


def azure(task_id: str, script: str = "default", **kwargs) -> AzureDocumentTranslationOperator:
    return AzureDocumentTranslationOperator(
        task_id=task_id,
        source_url=f"https://simstorage.blob.core.windows.net/{RUN}-{task_id}/{script}?sv=2024&sig=SECRETSIG",
        target_url="https://simstorage.blob.core.windows.net/target?sv=2024&sig=SECRETSIG",
        target_language="fr",
        **kwargs,
    )


VENDORS = {"lt": leadtools, "cora": cora, "xai": expertai, "sd": smartdocumentor, "azt": azure}


def first_try_only_is_killed(context) -> None:
    """Let ``execution_timeout`` kill the first try only, as a worker lost mid-wait would end it."""
    if context["ti"].try_number > 1:
        context["task"].execution_timeout = None


@task
def use(result) -> str:
    """What a data engineer's next task does: look at the result."""
    print(f"downstream got {type(result).__name__}")
    return type(result).__name__


with DAG("docstatus_operators", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    for vendor, make in VENDORS.items():
        for way, way_args in WAYS.items():
            operator = make(f"{vendor}_{way}", **COMMON, **way_args)
            use.override(task_id=f"use_{vendor}_{way}")(operator.output)

    killed_try = {"retries": 1, "execution_timeout": timedelta(seconds=1.5), "deferrable": False}
    leadtools("lt_retry_done", "barcode", retry_delay=timedelta(seconds=4), **COMMON, **killed_try)
    expertai("xai_retry_failed", "failed", retry_delay=timedelta(seconds=4), **COMMON,
             **{**killed_try, "execution_timeout": timedelta(seconds=1.2)})
    smartdocumentor("sd_lost_start", smartdocumentor_conn_id="sd_short_read", retries=1,
                    retry_delay=timedelta(0), deferrable=True, **COMMON)
    azure("azt_lost_start", azure_translation_conn_id="azt_short_read", retries=0, deferrable=False, **COMMON)


with DAG("docstatus_operator_kill", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    azure("azt_killed", "slow", deferrable=False, **COMMON)
    # A job (LEADTOOLS "slow", 22 s) that outlasts the other task of this DAG, so the retry finds it running.
    leadtools("lt_retry_running", "slow", retries=1, retry_delay=timedelta(0), execution_timeout=timedelta(seconds=1.5),
              pre_execute=first_try_only_is_killed, deferrable=False, **COMMON)
