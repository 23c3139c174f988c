"""Test DAG: the operators with OpenLineage on, for the lineage each reports (tests/dagtest/test_lineage.py).

``docstatus_lineage`` runs LEADTOOLS, expert.ai and Azure waiting in the worker and
Cora deferred (its file references come back to the worker as rendered text after the
trigger); every source holds ``dag_run.conf["run"]``, and Azure's URLs carry a SAS token
that must not reach the event.
"""

from __future__ import annotations

import base64
from datetime import datetime

from airflow.sdk import DAG

from airflow_docstatus.operators.azure_translation import AzureDocumentTranslationOperator
from airflow_docstatus.operators.cora import CoraFileBatchOperator
from airflow_docstatus.operators.expertai import ExpertAiExtractLayoutOperator
from airflow_docstatus.operators.leadtools import LeadtoolsExtractTextOperator

RUN = "{{ dag_run.conf['run'] }}"
COMMON = {"poll_interval": 1, "timeout": 60, "max_consecutive_errors": 3}
PDF = base64.b64decode(b"JVBERi0xLjQKJcOkw7zDtsOfCg==")

with DAG("docstatus_lineage", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    LeadtoolsExtractTextOperator(
        task_id="lt", file_url=f"https://files.example.com/{RUN}/lt/barcode.pdf?sig=SECRETSIG", deferrable=False,
        **COMMON,
    )
    CoraFileBatchOperator(
        task_id="cora",
        input_file={"Connection": "scans", "RelativeLocation": f"{RUN}\\in", "FileName": f"{RUN}-cora/default.tif"},
        output_file={"Connection": "results", "RelativeLocation": "out", "FileName": f"{RUN}-cora.xml"},
        ocr_profile="Invoices",
        file_batch_timeout=600,
        deferrable=True,
        **COMMON,
    )
    ExpertAiExtractLayoutOperator(
        task_id="xai", document=PDF, document_name=f"{RUN}-xai/default.pdf", deferrable=False, **COMMON
    )
    AzureDocumentTranslationOperator(
        task_id="azt",
        source_url=f"https://simstorage.blob.core.windows.net/{RUN}-azt/default?sv=2024&sig=SECRETSIG",
        target_url="https://simstorage.blob.core.windows.net/target?sv=2024&sig=SECRETSIG",
        target_language="fr",
        deferrable=False,
        **COMMON,
    )
