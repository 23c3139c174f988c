"""Azure Document Translation sensors with no network: arguments, parse-time checks, trigger events, hand-off."""

from __future__ import annotations

import pytest

from airflow_docstatus._compat import AirflowFailException
from airflow_docstatus.engine import events
from airflow_docstatus.engine.status import DocStatus, State
from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook, AzureTranslationBatchHook
from airflow_docstatus.sensors.azure_translation import (
    AzureDocumentTranslationStatusSensor,
    AzureTranslationBatchStatusSensor,
)
from airflow_docstatus.triggers.azure_translation import (
    AzureDocumentTranslationStatusTrigger,
    AzureTranslationBatchStatusTrigger,
)
from tests._compat import TaskDeferred

BATCH = "727bf148-f327-47a0-9481-abae6362f11e"
DOC = "273622bd-835c-4946-9798-fd8f19f6bbf2"
PATH = "https://myblob.blob.core.windows.net/target/fr/mydoc.txt"


class FakeTaskInstance:
    def __init__(self):
        self.pushed = {}

    def xcom_push(self, key, value):
        self.pushed[key] = value


def test_document_sensor_arguments_and_template_fields():
    sensor = AzureDocumentTranslationStatusSensor(task_id="wait", batch_id=BATCH, document_id=DOC)
    assert sensor.template_fields == ("batch_id", "document_id", "azure_translation_conn_id")
    assert sensor.azure_translation_conn_id == "azure_document_translation_default"
    assert isinstance(sensor.hook, AzureDocumentTranslationHook)


def test_batch_sensor_passes_fail_on_document_failures_to_its_hook():
    sensor = AzureTranslationBatchStatusSensor(
        task_id="wait", batch_id=BATCH, azure_translation_conn_id="azt_prod", fail_on_document_failures=False
    )
    assert sensor.template_fields == ("batch_id", "azure_translation_conn_id")
    assert isinstance(sensor.hook, AzureTranslationBatchHook)
    assert sensor.hook.conn_id == "azt_prod"
    assert sensor.hook.protocol_options == {"fail_on_document_failures": False}


def test_literal_bad_ids_fail_the_dag_at_parse_time_and_templates_wait_for_rendering():
    with pytest.raises(ValueError, match="wait: Azure Document Translation: `document_id` must be a GUID"):
        AzureDocumentTranslationStatusSensor(task_id="wait", batch_id=BATCH, document_id="mydoc.txt")
    with pytest.raises(ValueError, match="`batch_id` must be a GUID"):
        AzureTranslationBatchStatusSensor(task_id="wait", batch_id="batch-1")
    templated = AzureDocumentTranslationStatusSensor(
        task_id="wait", batch_id="{{ ti.xcom_pull('start') }}", document_id=DOC
    )
    assert templated.batch_id.startswith("{{")


def test_execute_complete_returns_the_path_and_pushes_docstatus():
    done = DocStatus(vendor="azure_translation", ref={"batch_id": BATCH, "document_id": DOC},
                     state=State.SUCCEEDED, vendor_status="Succeeded", progress=1.0, payload=PATH)
    ti = FakeTaskInstance()
    sensor = AzureDocumentTranslationStatusSensor(task_id="wait", batch_id=BATCH, document_id=DOC)
    assert sensor.execute_complete({"ti": ti}, events.success_event(done)) == PATH
    assert ti.pushed["docstatus"]["ref"] == {"batch_id": BATCH, "document_id": DOC}


def test_a_failure_event_names_azures_error():
    failed = DocStatus(vendor="azure_translation", ref={"batch_id": BATCH}, state=State.FAILED,
                       vendor_status="Succeeded", message="1 of 2 document(s) failed")
    sensor = AzureTranslationBatchStatusSensor(task_id="wait", batch_id=BATCH)
    with pytest.raises(AirflowFailException, match=f"batch_id={BATCH}: status Succeeded: 1 of 2 document"):
        sensor.execute_complete({}, events.failed_event(failed))


@pytest.mark.parametrize(
    ("sensor", "trigger_class", "kwargs"),
    [
        (AzureDocumentTranslationStatusSensor(task_id="d", batch_id=BATCH, document_id=DOC, timeout=60,
                                              azure_translation_conn_id="azt_x"),
         AzureDocumentTranslationStatusTrigger, {"batch_id": BATCH, "document_id": DOC}),
        (AzureTranslationBatchStatusSensor(task_id="b", batch_id=BATCH, timeout=60, fail_on_document_failures=False,
                                           azure_translation_conn_id="azt_x"),
         AzureTranslationBatchStatusTrigger, {"batch_id": BATCH, "fail_on_document_failures": False}),
    ],
)
def test_each_sensor_defers_to_its_own_trigger(sensor, trigger_class, kwargs):
    with pytest.raises(TaskDeferred) as deferred:
        sensor._defer()
    trigger = deferred.value.trigger
    assert type(trigger) is trigger_class
    classpath, serialized = trigger.serialize()
    assert classpath == f"airflow_docstatus.triggers.azure_translation.{trigger_class.__name__}"
    assert {k: serialized[k] for k in kwargs} == kwargs
    assert serialized["azure_translation_conn_id"] == "azt_x" and serialized["poll_immediately"] is False
