"""The operators' arguments: API.md's defaults, template fields, and bad input refused at DAG parse time."""

from __future__ import annotations

import logging

import pytest

from airflow_docstatus._compat import AirflowException
from airflow_docstatus.engine.operator import DocStatusOperator
from airflow_docstatus.operators.azure_translation import AzureDocumentTranslationOperator
from airflow_docstatus.operators.cora import CoraFileBatchOperator
from airflow_docstatus.operators.expertai import ExpertAiExtractLayoutOperator
from airflow_docstatus.operators.leadtools import LeadtoolsExtractTextOperator
from airflow_docstatus.operators.smartdocumentor import SmartDocumentorProcessTaskOperator
from tests._compat import TRIGGER_ON_KILL

FILE = {"Connection": "scans", "RelativeLocation": "in", "FileName": "a.tif"}
GOOD = {
    LeadtoolsExtractTextOperator: {"file_url": "https://files.example.com/a.pdf"},
    CoraFileBatchOperator: {"input_file": FILE, "output_file": FILE, "ocr_profile": "Invoices", "file_batch_timeout": 60},
    ExpertAiExtractLayoutOperator: {"document": b"%PDF-1.4"},
    SmartDocumentorProcessTaskOperator: {"task": {"externalId": "inv-1"}},
    AzureDocumentTranslationOperator: {
        "source_url": "https://s.blob.core.windows.net/src?sig=x", "target_url": "https://s.blob.core.windows.net/t?sig=x",
        "target_language": "fr",
    },
}
CONN_ARGS = {
    LeadtoolsExtractTextOperator: "leadtools_conn_id",
    CoraFileBatchOperator: "cora_conn_id",
    ExpertAiExtractLayoutOperator: "expertai_conn_id",
    SmartDocumentorProcessTaskOperator: "smartdocumentor_conn_id",
    AzureDocumentTranslationOperator: "azure_translation_conn_id",
}
BAD = [
    (LeadtoolsExtractTextOperator, {"file_url": "ftp://x/a.pdf"}, "http(s) URL"),
    (LeadtoolsExtractTextOperator, {"first_page": 0}, "first_page"),
    (LeadtoolsExtractTextOperator, {"first_page": 3, "last_page": 2}, "last_page"),
    (CoraFileBatchOperator, {"input_file": {"FileName": ""}}, "FileName required"),
    (CoraFileBatchOperator, {"ocr_profile": " "}, "ocr_profile"),
    (CoraFileBatchOperator, {"file_batch_timeout": 0}, "file_batch_timeout"),
    (CoraFileBatchOperator, {"activity_metadata": {"Nope": 1}}, "Nope"),
    (ExpertAiExtractLayoutOperator, {"document": b""}, "1 to"),
    (ExpertAiExtractLayoutOperator, {"document": 42}, "file path or bytes"),
    (SmartDocumentorProcessTaskOperator, {"task": ["x"]}, "must be a dict"),
    (SmartDocumentorProcessTaskOperator, {"task": {"externalId": ""}}, "externalId"),
    (AzureDocumentTranslationOperator, {"target_url": "not a url"}, "target_url"),
    (AzureDocumentTranslationOperator, {"target_language": ""}, "target_language"),
    (AzureDocumentTranslationOperator, {"storage_type": "Blob"}, "storage_type"),
]


def make(operator_class, **overrides):
    return operator_class(task_id="t", **{**GOOD[operator_class], **overrides})


@pytest.mark.parametrize("operator_class", list(GOOD))
def test_defaults_and_template_fields_follow_api_md(operator_class):
    operator = make(operator_class)
    assert isinstance(operator, DocStatusOperator)
    assert (operator.wait_for_completion, operator.poll_interval, operator.timeout) == (True, 10, 604800)
    assert (operator.max_consecutive_errors, operator.cancel_on_kill) == (10, True)
    assert CONN_ARGS[operator_class] in operator.template_fields
    assert set(operator.template_fields) - {CONN_ARGS[operator_class]} <= set(operator.start_args()) | {"activity_metadata"}
    assert operator._job_ref is None  # nothing started at parse time


@pytest.mark.parametrize(("operator_class", "overrides", "said"), BAD)
def test_bad_literal_arguments_fail_at_parse_time_with_a_clear_error(operator_class, overrides, said):
    with pytest.raises(ValueError, match="^t: ") as raised:
        make(operator_class, **overrides)
    assert said in str(raised.value)


def test_templated_and_xcom_arguments_are_checked_when_the_task_runs_not_at_parse_time():
    from airflow.sdk import DAG, task

    with DAG("d", schedule=None):
        @task
        def url() -> str:
            return "https://files.example.com/a.pdf"

        LeadtoolsExtractTextOperator(task_id="t1", file_url="{{ dag_run.conf['url'] }}")
        LeadtoolsExtractTextOperator(task_id="t2", file_url=url())


@pytest.mark.parametrize(("name", "value"), [("poke_interval", 5), ("mode", "reschedule")])
def test_sensor_only_arguments_are_refused_naming_the_operators_own(name, value):
    with pytest.raises(TypeError, match="takes `(poll_interval|deferrable)`"):
        make(LeadtoolsExtractTextOperator, **{name: value})


@pytest.mark.parametrize("name", ["wait_for_completion", "deferrable", "cancel_on_kill"])
def test_switches_must_be_booleans(name):
    with pytest.raises(TypeError, match=name):
        make(LeadtoolsExtractTextOperator, **{name: "yes"})


def test_bad_common_numbers_are_refused():
    with pytest.raises(ValueError, match="max_consecutive_errors"):
        make(LeadtoolsExtractTextOperator, max_consecutive_errors=0)
    # Airflow's sensor base refuses it: a ValueError from 3.2 on, an AirflowException in 3.1
    with pytest.raises((ValueError, AirflowException), match="poke_interval|poll_interval"):
        make(LeadtoolsExtractTextOperator, poll_interval=-1)


def test_the_trigger_gets_cancel_on_kill_and_never_a_secret():
    operator = make(AzureDocumentTranslationOperator)
    assert operator._extra_trigger_kwargs() == {"cancel_on_kill": True}
    assert make(AzureDocumentTranslationOperator, cancel_on_kill=False)._extra_trigger_kwargs() == {}


def test_dict_arguments_rendered_as_text_by_a_template_are_read_back():
    """Issue 12, item 12, for the operators: Cora's file references and SmartDocumentor's task body."""
    from airflow_docstatus.engine.errors import InvalidInputError
    from airflow_docstatus.operators.cora import CoraFileBatchOperator
    from airflow_docstatus.operators.smartdocumentor import SmartDocumentorProcessTaskOperator

    cora = CoraFileBatchOperator(
        task_id="ocr", input_file="{{ params.src }}", output_file="{{ params.dst }}", ocr_profile="Invoices",
        file_batch_timeout=600,
    )
    src = {"Connection": "scans", "RelativeLocation": "in", "FileName": "a.pdf"}
    dst = {"Connection": "scans", "RelativeLocation": "out", "FileName": "a.xml"}
    cora.render_template_fields({"params": {"src": src, "dst": dst}})
    assert isinstance(cora.input_file, str)
    cora._read_rendered_args()
    assert (cora.input_file, cora.output_file) == (src, dst)

    sd = SmartDocumentorProcessTaskOperator(task_id="process", task="{{ params.body }}")
    sd.render_template_fields({"params": {"body": {"externalId": "inv-1", "displayName": "x"}}})
    sd._read_rendered_args()
    assert sd.task == {"externalId": "inv-1", "displayName": "x"}

    bad = SmartDocumentorProcessTaskOperator(task_id="bad", task="{{ params.body }}")
    bad.render_template_fields({"params": {"body": "not a dict"}})
    with pytest.raises(InvalidInputError, match="`task` must be a dict"):
        bad._read_rendered_args()


def test_cancel_on_kill_says_where_this_airflow_cannot_cancel_a_deferred_job(caplog, capsys):
    """Before Airflow 3.3 the triggerer never calls a trigger's on_kill: the operator says so when it defers."""
    operator = make(AzureDocumentTranslationOperator)
    with caplog.at_level(logging.WARNING):
        assert operator._extra_trigger_kwargs() == {"cancel_on_kill": True}
    warned = "killing this task while it is deferred does not cancel the Azure Document Translation job"
    logged = caplog.text + capsys.readouterr().out  # the task logger goes through structlog to stdout
    assert (warned in logged) is (not TRIGGER_ON_KILL)
