"""CoraSequenceOcrHook over real sockets against the simulator: SOAP 1.1 and 1.2, every status, faults, auth, the WSDL."""

from __future__ import annotations

import sys
import uuid
import xml.etree.ElementTree as ET

import pytest

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    InvalidInputError,
    PermanentError,
    TransientError,
)
from airflow_docstatus.engine.status import State
from airflow_docstatus.hooks.cora import CoraSequenceOcrHook
from airflow_docstatus.protocols.soap import WSDL_CACHE

NS = "http://genpact.com/cora/orchestration/ocr/1.0.0/api/"
ENV = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}
VERSIONS = ["1.1", "1.2"]
FILES = {
    "input_file": {"Connection": "share", "RelativeLocation": "in", "FileName": "invoice-0042.pdf"},
    "output_file": {"Connection": "share", "RelativeLocation": "out", "FileName": "invoice-0042.xml"},
}


@pytest.fixture
def cora(connection, simulator):
    """A Cora connection to the simulator: ``cora("1.2", auth="basic", password=...)`` -> its conn id."""

    def define(version: str = "1.1", conn_id: str | None = None, **extra_and_fields) -> str:
        fields = {k: extra_and_fields.pop(k) for k in ("login", "password", "host") if k in extra_and_fields}
        extra = {"soap_version": version, **extra_and_fields}
        return connection(conn_id or f"cora_{version.replace('.', '')}_{uuid.uuid4().hex[:6]}", "cora_sequence",
                          extra=extra, **fields)

    return define


def last_request(simulator, doc_id) -> ET.Element:
    return ET.fromstring(simulator.document("cora", str(doc_id))["last_body"])


@pytest.mark.parametrize("version", VERSIONS)
def test_file_batch_then_get_status_until_completed(simulator, cora, version):
    hook = CoraSequenceOcrHook(cora(version))
    instance_id = hook.file_batch(**FILES, ocr_profile="Invoices", timeout=600, external_context="batch-7")
    assert isinstance(instance_id, int)
    assert simulator.document("cora", str(instance_id))["status"] == "Queued"
    first = hook.check_status(master_workflow_instance_id=instance_id)
    assert first.state is State.WAITING and first.vendor_status == "Queued"
    simulator.create("cora", [{"status": "Completed"}], doc_id=str(instance_id))  # skip ahead
    # (the replaced document keeps no ExternalContext of its own: the payload says so)
    done = hook.check_status(master_workflow_instance_id=instance_id)
    assert done.state is State.SUCCEEDED
    assert done.payload == {"Status": "Completed", "ErrorCode": "NoError", "ExternalContext": None}
    assert last_request(simulator, instance_id).tag == f"{{{ENV[version]}}}Envelope"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_status_over_the_wire(simulator, cora, version):
    hook = CoraSequenceOcrHook(cora(version))
    expected = {
        "Queued": State.WAITING, "ProcessingInput": State.WAITING, "WaitingForOutput": State.WAITING,
        "Completed": State.SUCCEEDED, "Aborted": State.FAILED, "Failed": State.FAILED, "Paused": State.FAILED,
    }
    for status, state in expected.items():
        code = "NoError" if state is not State.FAILED else "TimedOut"
        doc = simulator.create("cora", [{"status": status, "payload": {"ErrorCode": code, "ExternalContext": "c"}}])
        result = hook.check_status(master_workflow_instance_id=doc)
        assert (result.vendor_status, result.state) == (status, state)
        assert result.payload == {"Status": status, "ErrorCode": code, "ExternalContext": "c"}
        if state is State.FAILED:
            assert "ErrorCode TimedOut" in result.message
    missing = hook.check_status(master_workflow_instance_id=999_999_999)
    assert (missing.vendor_status, missing.state) == ("NotFound", State.FAILED)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_activity_metadata_header_on_the_wire(simulator, cora, version):
    doc = simulator.create("cora", [{"status": "Queued"}])
    metadata = {"WorkflowSpaceId": "0f8fad5b-d9cb-469f-a165-70867728950e", "WorkflowName": "Invoices",
                "ActivityInstanceId": 77, "CallerId": 5}
    CoraSequenceOcrHook(cora(version), activity_metadata=metadata).check_status(master_workflow_instance_id=doc)
    envelope = last_request(simulator, doc)
    header = envelope.find(f"{{{ENV[version]}}}Header/{{{NS}}}ActivityMetadata")
    assert [(child.tag.removeprefix(f"{{{NS}}}"), child.text) for child in header] == [
        ("WorkflowSpaceId", "0f8fad5b-d9cb-469f-a165-70867728950e"), ("WorkflowName", "Invoices"),
        ("ActivityInstanceId", "77"), ("CallerId", "5"), ("MasterWorkflowInstanceId", doc),
    ]
    body = envelope.find(f"{{{ENV[version]}}}Body")
    assert [child.tag for child in body] == [f"{{{NS}}}GetStatus"]
    headers = simulator.document("cora", doc)["last_headers"]
    if version == "1.1":
        assert headers["SOAPAction"] == f'"{NS}GetStatus"' and headers["Content-Type"].startswith("text/xml")
    else:
        assert headers["Content-Type"] == f'application/soap+xml; charset=utf-8; action="{NS}GetStatus"'
        assert "SOAPAction" not in headers


@pytest.mark.parametrize("version", VERSIONS)
def test_soap_faults_carry_their_faultstring(simulator, cora, version):
    hook = CoraSequenceOcrHook(cora(version))
    doc = simulator.create("cora", [{"fault": "soap_fault", "message": "Timeout expired (db)", "polls": 1},
                                    {"fault": "soap_client_fault", "message": "Profile 'X' is not valid"}])
    with pytest.raises(TransientError, match=r"SOAP Fault \(HTTP 500\): soap:(Server|Receiver): Timeout expired"):
        hook.check_status(master_workflow_instance_id=doc)
    with pytest.raises(PermanentError, match=r"soap:(Client|Sender): Profile 'X' is not valid") as caught:
        hook.check_status(master_workflow_instance_id=doc)
    assert not isinstance(caught.value, TransientError)


def test_a_plain_500_and_a_garbled_answer_are_transient(simulator, cora):
    hook = CoraSequenceOcrHook(cora())
    doc = simulator.create("cora", [{"fault": "http_500", "polls": 1}, {"status": "Queued", "fault": "garbled"}])
    with pytest.raises(TransientError, match="HTTP 500"):
        hook.check_status(master_workflow_instance_id=doc)
    with pytest.raises(TransientError, match="not SOAP"):
        hook.check_status(master_workflow_instance_id=doc)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_wrong_password_fails_naming_the_connection_never_the_password(simulator, cora, version):
    conn_id = cora(version, password="canary-hook-pw-5521")
    doc = simulator.create("cora", [{"status": "Queued"}])
    with pytest.raises(AuthenticationError) as caught:
        CoraSequenceOcrHook(conn_id).check_status(master_workflow_instance_id=doc)
    text = str(caught.value)
    assert f"connection {conn_id!r}" in text and "HTTP 401" in text and "canary-hook-pw-5521" not in text
    assert simulator.document("cora", doc)["status_calls"] == 0


def test_the_servers_own_wsdl_is_loaded_once_with_the_connections_auth(simulator, cora):
    url = f"{simulator.url}/cora/SequenceServices/coraOcrIntegration_v1.0.0.asmx?WSDL&case={uuid.uuid4().hex}"
    doc = simulator.create("cora", [{"status": "Queued"}])
    before = WSDL_CACHE.loads
    for version in VERSIONS:
        for _ in range(3):
            result = CoraSequenceOcrHook(cora(version, wsdl=url)).check_status(master_workflow_instance_id=doc)
            assert result.vendor_status == "Queued"
    assert WSDL_CACHE.loads == before + 1


def test_the_wsdl_with_a_wrong_password_is_an_authentication_error(simulator, cora):
    url = f"{simulator.url}/cora/SequenceServices/coraOcrIntegration_v1.0.0.asmx?WSDL&case={uuid.uuid4().hex}"
    conn_id = cora(wsdl=url, password="canary-wsdl-pw-311")
    with pytest.raises(AuthenticationError, match="loading the WSDL .* failed with HTTP 401") as caught:
        CoraSequenceOcrHook(conn_id).check_status(master_workflow_instance_id=1)
    assert conn_id in str(caught.value) and "canary-wsdl-pw-311" not in str(caught.value)


def test_no_server_at_the_wsdl_url_is_transient(cora):
    conn_id = cora(wsdl="http://127.0.0.1:9/nothing.asmx?WSDL")
    with pytest.raises(TransientError, match="loading the WSDL"):
        CoraSequenceOcrHook(conn_id).check_status(master_workflow_instance_id=1)


def test_ntlm_uses_an_ntlm_session_and_reports_a_refusal_as_an_auth_error(simulator, cora):
    from requests_ntlm import HttpNtlmAuth

    hook = CoraSequenceOcrHook(cora(auth="ntlm", login="DOMAIN\\svc"))
    doc = simulator.create("cora", [{"status": "Queued"}])
    with pytest.raises(AuthenticationError, match="HTTP 401"):  # the simulator offers Basic only
        hook.check_status(master_workflow_instance_id=doc)
    assert isinstance(hook._sync._session.auth, HttpNtlmAuth)
    assert "Authorization" not in hook.protocol.status_request({"master_workflow_instance_id": 1}).headers


def test_ntlm_without_requests_ntlm_is_a_clear_error(cora, monkeypatch):
    monkeypatch.setitem(sys.modules, "requests_ntlm", None)
    with pytest.raises(InvalidInputError, match=r"needs the requests-ntlm package: pip install .*\[ntlm\]"):
        CoraSequenceOcrHook(cora(auth="ntlm")).check_status(master_workflow_instance_id=1)


def test_anonymous_access_sends_no_credentials(simulator, cora):
    conn_id = cora(auth="none")
    doc = simulator.create("cora", [{"status": "Queued"}])
    with pytest.raises(AuthenticationError):  # the simulator's site requires Basic auth
        CoraSequenceOcrHook(conn_id).check_status(master_workflow_instance_id=doc)


def test_get_status_returns_the_three_fields(simulator, cora):
    doc = simulator.create("cora", [{"status": "Completed", "payload": {"ExternalContext": "out.xml"}}])
    assert CoraSequenceOcrHook(cora()).get_status(doc) == {
        "Status": "Completed", "ErrorCode": "NoError", "ExternalContext": "out.xml"}


@pytest.mark.parametrize("version", VERSIONS)
def test_an_element_the_wsdl_does_not_list_is_ignored(simulator, cora, version):
    doc = simulator.create("cora", [
        {"status": "Queued", "polls": 1, "payload": {"extra_elements": {"CompletedOn": ""}}},
        {"status": "Completed", "payload": {"ExternalContext": "out.xml",
                                            "extra_elements": {"CompletedOn": "2024-05-01T10:00:00", "Pages": "3"}}},
    ])
    hook = CoraSequenceOcrHook(cora(version))
    assert hook.check_status(master_workflow_instance_id=doc).state is State.WAITING
    done = hook.check_status(master_workflow_instance_id=doc)
    assert done.state is State.SUCCEEDED
    assert done.payload == {"Status": "Completed", "ErrorCode": "NoError", "ExternalContext": "out.xml"}
