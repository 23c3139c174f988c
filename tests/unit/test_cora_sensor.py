"""CoraOcrStatusSensor: arguments checked at parse time, template fields, and NTLM refused before deferring."""

from __future__ import annotations

import json

import pytest

from airflow_docstatus._compat import AirflowFailException
from airflow_docstatus.sensors.cora import CoraOcrStatusSensor


def test_template_fields_and_defaults():
    sensor = CoraOcrStatusSensor(task_id="wait", master_workflow_instance_id=42)
    assert set(sensor.template_fields) == {"master_workflow_instance_id", "activity_metadata", "cora_conn_id"}
    assert sensor.cora_conn_id == "cora_sequence_default" and sensor.activity_metadata is None


@pytest.mark.parametrize("value", ["abc", 4.5, -1, "12x"])
def test_a_literal_non_integer_id_fails_at_parse_time(value):
    with pytest.raises(ValueError, match="wait: Cora SeQuence OCR: `master_workflow_instance_id` must be a positive"):
        CoraOcrStatusSensor(task_id="wait", master_workflow_instance_id=value)


def test_templated_values_wait_for_rendering():
    sensor = CoraOcrStatusSensor(
        task_id="wait",
        master_workflow_instance_id="{{ ti.xcom_pull('start') }}",
        activity_metadata={"WorkflowName": "{{ dag.dag_id }}", "CallerId": "{{ params.caller }}"},
    )
    assert sensor.master_workflow_instance_id.startswith("{{")


def test_bad_literal_activity_metadata_fails_at_parse_time():
    with pytest.raises(ValueError, match="unknown `activity_metadata` field"):
        CoraOcrStatusSensor(task_id="wait", master_workflow_instance_id=1, activity_metadata={"Nope": 1})


def test_deferrable_mode_refuses_ntlm_before_any_call(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CORA_NTLM", json.dumps({
        "conn_type": "cora_sequence", "host": "http://127.0.0.1:9", "login": "D\\u", "password": "pw-unit-1",
        "extra": {"auth": "ntlm"},
    }))
    sensor = CoraOcrStatusSensor(task_id="wait", master_workflow_instance_id=7, cora_conn_id="cora_ntlm",
                                 deferrable=True)
    sent = []
    monkeypatch.setattr(type(sensor.hook), "send", lambda self, request: sent.append(request))
    with pytest.raises(AirflowFailException, match="NTLM authentication, which cannot be polled in deferrable mode"):
        sensor.execute({})
    assert sent == []
