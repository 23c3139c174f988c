"""The distributed profile's load: every vendor's sensor and operator, mapped, all deferrable.

Two DAGs of one shape: ``dist_waits`` (16 sensors and 16 operators per vendor:
160 waits) and ``dist_waits_failover`` (4 and 4: 40 waits). The mapped lists
are literal, so a run's task instances exist as soon as it is created, with
no upstream task to wait for. Each sensor's document ids come from
``dag_run.conf`` (``{"<vendor>": ["<id>", ...]}``, by map index, through a
template); each operator's start arguments name the DAG and its index, so
every operator's job has a source of its own at the simulator. No retries: a
failure shows as one.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_docstatus.operators.azure_translation import AzureDocumentTranslationOperator
from airflow_docstatus.operators.cora import CoraFileBatchOperator
from airflow_docstatus.operators.expertai import ExpertAiExtractLayoutOperator
from airflow_docstatus.operators.leadtools import LeadtoolsExtractTextOperator
from airflow_docstatus.operators.smartdocumentor import SmartDocumentorProcessTaskOperator
from airflow_docstatus.sensors.azure_translation import AzureDocumentTranslationStatusSensor
from airflow_docstatus.sensors.cora import CoraOcrStatusSensor
from airflow_docstatus.sensors.expertai import ExpertAiExtractStatusSensor
from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor
from airflow_docstatus.sensors.smartdocumentor import SmartDocumentorTaskStatusSensor

WAIT = {"deferrable": True, "timeout": 900, "retries": 0}
DOCUMENT = b"%PDF-1.7\n% distributed test\n"


def doc_id(vendor: str, index: int, part: str = "") -> str:
    """The template of the ``index``-th document id of ``vendor`` in dag_run.conf (Azure: its batch or document)."""
    value = f"dag_run.conf['{vendor}'][{index}]"
    if part:
        value += f".split(':')[{0 if part == 'batch' else 1}]"
    return "{{ " + value + " }}"


def waits(dag_id: str, per_vendor: int) -> DAG:
    indexes = range(per_vendor)
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, max_active_tasks=512,
             default_args={"retries": 0}) as dag:
        sensed = {"poke_interval": 2, **WAIT}
        LeadtoolsQuerySensor.partial(task_id="leadtools_sensor", **sensed).expand(
            file_id=[doc_id("leadtools", i) for i in indexes])
        ExpertAiExtractStatusSensor.partial(task_id="expertai_sensor", **sensed).expand(
            extract_task_id=[doc_id("expertai", i) for i in indexes])
        SmartDocumentorTaskStatusSensor.partial(task_id="smartdocumentor_sensor", **sensed).expand(
            sd_task_id=[doc_id("smartdocumentor", i) for i in indexes])
        AzureDocumentTranslationStatusSensor.partial(task_id="azure_translation_sensor", **sensed).expand_kwargs(
            [{"batch_id": doc_id("azure_translation", i, "batch"),
              "document_id": doc_id("azure_translation", i, "document")} for i in indexes])
        CoraOcrStatusSensor.partial(task_id="cora_sensor", **sensed).expand(
            master_workflow_instance_id=[doc_id("cora", i) for i in indexes])

        operated = {"poll_interval": 2, **WAIT}
        names = [f"{dag_id}-scan-{i}" for i in indexes]
        LeadtoolsExtractTextOperator.partial(task_id="leadtools_operator", **operated).expand(
            file_url=[f"https://example.com/{dag_id}/{name}.pdf" for name in names])
        ExpertAiExtractLayoutOperator.partial(task_id="expertai_operator", document=DOCUMENT, **operated).expand(
            document_name=[f"{name}.pdf" for name in names])
        SmartDocumentorProcessTaskOperator.partial(task_id="smartdocumentor_operator", **operated).expand(
            task=[{"externalId": name, "displayName": name} for name in names])
        AzureDocumentTranslationOperator.partial(
            task_id="azure_translation_operator", target_language="fr", **operated
        ).expand_kwargs([{"source_url": f"https://mystorage.blob.core.windows.net/{name}",
                          "target_url": f"https://mystorage.blob.core.windows.net/{name}-fr"} for name in names])
        CoraFileBatchOperator.partial(
            task_id="cora_operator", ocr_profile="Invoices", file_batch_timeout=600, **operated
        ).expand_kwargs([{"input_file": {"Connection": "scans", "RelativeLocation": "inbox", "FileName": f"{name}.pdf"},
                          "output_file": {"Connection": "scans", "RelativeLocation": "ocr", "FileName": f"{name}.xml"}}
                         for name in names])
    return dag


waits("dist_waits", 16)
waits("dist_waits_failover", 4)
