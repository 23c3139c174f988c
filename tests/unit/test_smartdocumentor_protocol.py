"""SmartDocumentor protocol: status texts, overrides, ids, the token and the start call, with no network."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from airflow_docstatus.engine.errors import AuthenticationError, InvalidInputError, PermanentError, TransientError
from airflow_docstatus.engine.http import HttpResponse
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.status import State
from airflow_docstatus.protocols.smartdocumentor import SmartDocumentorProtocol

SECRET = "canary-sd-secret-7731"
REF = {"sd_task_id": 44}


def protocol(extra=None, **options) -> SmartDocumentorProtocol:
    settings = ConnectionSettings(conn_id="sd_test", base_url="http://sim.test/smartdocumentor/",
                                  login="client-1", password=SECRET, extra=extra or {})
    return SmartDocumentorProtocol(settings, **options)


def answer(status: int = 200, body=None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, body=raw)


def task(text: str, integration: str | None = "Queued", **fields) -> dict:
    return {"taskId": 44, "externalId": "inv-1", "taskStatus": 4, "taskStatusText": text,
            "integrationStatusText": integration, "totalPages": 3, **fields}


def test_token_request_is_form_encoded_client_credentials():
    request = protocol().token_request()
    assert request.url == "http://sim.test/smartdocumentor/connect/token"
    form = parse_qs(request.body.decode())
    assert form == {"grant_type": ["client_credentials"], "scope": ["WebAPI"],
                    "client_id": ["client-1"], "client_secret": [SECRET]}
    assert SECRET not in repr(request)
    custom = protocol({"scope": "Other", "token_url": "http://idp.test/token"}).token_request()
    assert custom.url == "http://idp.test/token" and parse_qs(custom.body.decode())["scope"] == ["Other"]


def test_token_lives_expires_in_minus_a_margin():
    token = protocol().read_token(answer(200, {"access_token": "abc", "expires_in": 3600, "token_type": "Bearer"}), 0)
    assert token.value == "abc" and token.renew_at == 3540


def test_invalid_client_is_an_authentication_error_naming_the_connection():
    with pytest.raises(AuthenticationError) as info:
        protocol().read_token(answer(400, {"error": "invalid_client"}), 0)
    assert "'sd_test'" in str(info.value) and "invalid_client" in str(info.value)


@pytest.mark.parametrize("text", ["Processed", "ExportCompleted", "processed"])
def test_default_success(text):
    status = protocol().interpret(REF, answer(200, task(text, "Successful")))
    assert status.state is State.SUCCEEDED and status.payload["taskId"] == 44


@pytest.mark.parametrize("text", ["PreProcessingFailed", "PreProcessingDownloadFailed",
                                  "PreProcessingGetPagesFailed", "Deleting", "Deleted"])
def test_default_failure(text):
    assert protocol().interpret(REF, answer(200, task(text))).state is State.FAILED


def test_failed_integration_fails_the_task_and_says_so():
    status = protocol().interpret(REF, answer(200, task("InReview", "Failed")))
    assert status.state is State.FAILED and "integration status Failed" in status.message


@pytest.mark.parametrize("text", ["QueuedForPreProcessing", "PreProcessingInProgress", "PreProcessingSuccessful",
                                  "SomethingNew"])
def test_everything_else_waits(text):
    assert protocol().interpret(REF, answer(200, task(text))).state is State.WAITING


def test_to_review_waits_for_a_person():
    status = protocol().interpret(REF, answer(200, task("ToReview")))
    assert status.state is State.WAITING and "waits for a person" in status.describe()


def test_overrides_replace_the_default_sets():
    proto = protocol(success_statuses=["PreProcessingSuccessful"], failure_statuses=["ToReview"])
    assert proto.interpret(REF, answer(200, task("PreProcessingSuccessful"))).state is State.SUCCEEDED
    assert proto.interpret(REF, answer(200, task("ToReview"))).state is State.FAILED
    assert proto.interpret(REF, answer(200, task("Processed"))).state is State.WAITING
    assert proto.interpret(REF, answer(200, task("Deleted", "Failed"))).state is State.WAITING


def test_bad_overrides_are_refused():
    with pytest.raises(InvalidInputError):
        protocol(success_statuses=["A"], failure_statuses=["a"])
    with pytest.raises(InvalidInputError):
        protocol(success_statuses=[])


@pytest.mark.parametrize(
    ("ids", "ref"),
    [({"sd_task_id": "44"}, {"sd_task_id": 44}), ({"external_id": " inv-1 "}, {"external_id": "inv-1"}),
     ({"sd_task_id": 7, "external_id": "x"}, {"sd_task_id": 7, "external_id": "x"}),
     ({"sd_task_id": "", "external_id": "x"}, {"external_id": "x"})],
)
def test_ids(ids, ref):
    assert SmartDocumentorProtocol.validate_ref(**ids) == ref


@pytest.mark.parametrize("ids", [{}, {"sd_task_id": None, "external_id": "  "}, {"sd_task_id": "abc"},
                                 {"sd_task_id": -3}])
def test_bad_ids_are_refused_before_any_call(ids):
    with pytest.raises(InvalidInputError):
        SmartDocumentorProtocol.validate_ref(**ids)


def test_status_request_sends_the_ids_given():
    request = protocol().status_request({"sd_task_id": 44, "external_id": "inv-1"})
    assert request.url == "http://sim.test/smartdocumentor/api/v1.0/external/sdtask/status"
    assert dict(request.params) == {"taskId": "44", "externalId": "inv-1"}
    assert dict(protocol().status_request({"external_id": "e"}).params) == {"externalId": "e"}


@pytest.mark.parametrize(("code", "error", "reason"),
                         [(400, PermanentError, "neither taskId"), (404, PermanentError, "no such task"),
                          (401, AuthenticationError, "token"), (503, TransientError, "HTTP 503")])
def test_http_statuses(code, error, reason):
    with pytest.raises(error, match=reason):
        protocol().interpret(REF, answer(code, b""))


def test_body_without_status_text_is_permanent():
    with pytest.raises(PermanentError, match="taskStatusText"):
        protocol().interpret(REF, answer(200, {"taskId": 44}))


def test_process_request_and_answer():
    proto = protocol()
    request = proto.process_request({"externalId": "inv-1", "displayName": "Invoice"})
    assert request.url.endswith("/api/v1.0/external/sdtask/process")
    assert json.loads(request.body) == {"externalId": "inv-1", "displayName": "Invoice"}
    assert proto.parse_process({"externalId": "inv-1"}, answer(201, {"taskId": 45}))["taskId"] == 45
    with pytest.raises(PermanentError, match="HTTP 409"):
        proto.parse_process({"externalId": "inv-1"}, answer(409, b""))
