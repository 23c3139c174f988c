"""The simulator's Cora .asmx endpoint over real sockets, spoken to with raw HTTP (no provider code)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests


AUTH = ("sim-cora-user", "sim-cora-secret")
NS = "http://genpact.com/cora/orchestration/ocr/1.0.0/api/"
ENV = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}



def create(sim, script, doc_id=None) -> str:
    body = {"vendor": "cora", "script": script, **({"id": doc_id} if doc_id else {})}
    answer = requests.post(f"{sim.url}/_sim/documents", json=body, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def envelope(version: str, body: str, header: str = "") -> str:
    head = f"<s:Header>{header}</s:Header>" if header else ""
    return f'<s:Envelope xmlns:s="{ENV[version]}">{head}<s:Body>{body}</s:Body></s:Envelope>'


def metadata(instance_id, **others) -> str:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in others.items())
    if instance_id is not None:
        fields += f"<MasterWorkflowInstanceId>{instance_id}</MasterWorkflowInstanceId>"
    return f'<ActivityMetadata xmlns="{NS}">{fields}</ActivityMetadata>'


def post(sim, version: str, body: str, action: str | None = "GetStatus", auth=AUTH, header: str = ""):
    if version == "1.1":
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        if action is not None:
            headers["SOAPAction"] = f'"{NS}{action}"'
    else:
        params = f'; action="{NS}{action}"' if action is not None else ""
        headers = {"Content-Type": f"application/soap+xml; charset=utf-8{params}"}
    return requests.post(sim.cora_endpoint, data=envelope(version, body, header).encode(), headers=headers,
                         auth=auth, timeout=10)


def get_status(sim, version: str, instance_id, **kwargs):
    return post(sim, version, f'<GetStatus xmlns="{NS}"/>', header=metadata(instance_id), **kwargs)


def result_of(answer) -> dict:
    root = ET.fromstring(answer.content)
    node = root.find(f".//{{{NS}}}GetStatusResult")
    return {child.tag.removeprefix(f"{{{NS}}}"): child.text for child in node}


def fault_of(answer, version: str) -> tuple[str, str]:
    root = ET.fromstring(answer.content)
    env = ENV[version]
    fault = root.find(f"{{{env}}}Body/{{{env}}}Fault")
    if version == "1.1":
        return fault.findtext("faultcode"), fault.findtext("faultstring")
    return fault.findtext(f"{{{env}}}Code/{{{env}}}Value"), fault.findtext(f"{{{env}}}Reason/{{{env}}}Text")


@pytest.mark.parametrize("version, content_type", [("1.1", "text/xml"), ("1.2", "application/soap+xml")])
def test_get_status_walks_the_script_in_both_versions(sim, version, content_type):
    doc = create(sim, [{"status": "Queued", "polls": 1},
                       {"status": "Completed", "payload": {"ExternalContext": "ctx-9"}}])
    first = get_status(sim, version, doc)
    assert first.status_code == 200 and first.headers["Content-Type"].startswith(content_type)
    assert result_of(first) == {"Status": "Queued", "ErrorCode": "NoError"}
    assert result_of(get_status(sim, version, doc)) == {"Status": "Completed", "ErrorCode": "NoError",
                                                          "ExternalContext": "ctx-9"}


def test_error_codes_come_from_the_step_payload(sim):
    doc = create(sim, [{"status": "Failed", "payload": {"ErrorCode": "FailedToPutOutputFile"}}])
    assert result_of(get_status(sim, "1.1", doc)) == {"Status": "Failed", "ErrorCode": "FailedToPutOutputFile"}


def test_extra_elements_go_right_after_status(sim):
    doc = create(sim, [{"status": "Completed", "payload": {"extra_elements": {"CompletedOn": "2024-05-01T10:00:00"}}}])
    answer = get_status(sim, "1.1", doc)
    result = ET.fromstring(answer.content).find(f".//{{{NS}}}GetStatusResult")
    assert [(child.tag.removeprefix(f"{{{NS}}}"), child.text) for child in result] == [
        ("Status", "Completed"), ("CompletedOn", "2024-05-01T10:00:00"), ("ErrorCode", "NoError")]


def test_an_unknown_id_is_not_found(sim):
    assert result_of(get_status(sim, "1.2", 987654321)) == {"Status": "NotFound", "ErrorCode": "NoError"}


@pytest.mark.parametrize("version, code", [("1.1", "soap:Client"), ("1.2", "soap:Sender")])
def test_a_missing_header_or_id_is_a_client_fault(sim, version, code):
    answer = post(sim, version, f'<GetStatus xmlns="{NS}"/>')
    assert answer.status_code == 500 and fault_of(answer, version) == (
        code, "SoapHeader ActivityMetadata with a MasterWorkflowInstanceId is required.")
    answer = post(sim, version, f'<GetStatus xmlns="{NS}"/>', header=metadata(None, WorkflowName="x"))
    assert fault_of(answer, version)[0] == code


@pytest.mark.parametrize("version, action", [("1.1", "FileBatch"), ("1.1", None), ("1.2", "Nope"), ("1.2", None)])
def test_a_wrong_or_missing_action_is_a_client_fault(sim, version, action):
    doc = create(sim, [{"status": "Queued"}])
    answer = get_status(sim, version, doc, action=action)
    code, text = fault_of(answer, version)
    assert answer.status_code == 500 and code in ("soap:Client", "soap:Sender")
    assert text.startswith("Server did not recognize the value of")


def test_an_envelope_of_the_other_version_is_refused(sim):
    answer = requests.post(sim.cora_endpoint, data=envelope("1.2", f'<GetStatus xmlns="{NS}"/>', metadata(1)),
                           headers={"Content-Type": "text/xml", "SOAPAction": f'"{NS}GetStatus"'}, auth=AUTH,
                           timeout=10)
    assert answer.status_code == 500 and "VersionMismatch" in fault_of(answer, "1.1")[1]
    answer = requests.post(sim.cora_endpoint, data=b"<x/>", headers={"Content-Type": "application/json"},
                           auth=AUTH, timeout=10)
    assert answer.status_code == 415


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_soap_faults_on_demand(sim, version):
    doc = create(sim, [{"fault": "soap_fault", "polls": 1},
                       {"fault": "soap_client_fault", "message": "profile <bad>", "polls": 1},
                       {"status": "Queued"}])
    server = get_status(sim, version, doc)
    assert server.status_code == 500
    assert fault_of(server, version) == ({"1.1": "soap:Server", "1.2": "soap:Receiver"}[version],
                                         "Server was unable to process request. ---> simulated server fault")
    client = get_status(sim, version, doc)
    assert fault_of(client, version) == ({"1.1": "soap:Client", "1.2": "soap:Sender"}[version], "profile <bad>")
    assert result_of(get_status(sim, version, doc))["Status"] == "Queued"


def test_http_faults_and_garbled_answers(sim):
    doc = create(sim, [{"fault": "http_500", "polls": 1}, {"status": "Queued", "fault": "garbled", "polls": 1},
                       {"status": "Queued"}])
    plain = get_status(sim, "1.1", doc)
    assert plain.status_code == 500 and plain.text == "simulated fault http_500"
    garbled = get_status(sim, "1.1", doc)
    assert garbled.status_code == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(garbled.content)


def test_basic_auth_is_required_everywhere(sim):
    doc = create(sim, [{"status": "Queued"}])
    for answer in (get_status(sim, "1.1", doc, auth=("sim-cora-user", "wrong")),
                   get_status(sim, "1.1", doc, auth=None),
                   requests.get(sim.cora_endpoint + "?WSDL", timeout=5)):
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Basic")
    view = requests.get(f"{sim.url}/_sim/documents/cora/{doc}", timeout=5).json()
    assert view["status_calls"] == 0
    assert requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["cora"]["auth_failures"] == 3


def test_the_wsdl_is_served_with_this_servers_address(sim):
    answer = requests.get(sim.cora_endpoint + "?wsdl", auth=AUTH, timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(answer.content)
    addresses = [node.get("location") for node in root.iter() if node.tag.endswith("}address")]
    assert addresses == [sim.cora_endpoint, sim.cora_endpoint]
    assert root.get("targetNamespace") == NS


def test_file_batch_creates_a_document_scripted_by_the_file_name(sim):
    body = (f'<FileBatch xmlns="{NS}"><TimeOut>60</TimeOut><ExternalContext>batch-1</ExternalContext>'
            "<InputFile><Connection>share</Connection><RelativeLocation>in</RelativeLocation>"
            "<FileName>failed.pdf</FileName></InputFile><OCRProfile>Invoices</OCRProfile>"
            "<OutPutFile><FileName>out.xml</FileName></OutPutFile><PutModel>false</PutModel></FileBatch>")
    answer = post(sim, "1.2", body, action="FileBatch")
    assert answer.status_code == 200
    instance_id = ET.fromstring(answer.content).findtext(f".//{{{NS}}}FileBatchResult")
    assert int(instance_id) > 0
    view = requests.get(f"{sim.url}/_sim/documents/cora/{instance_id}", timeout=5).json()
    assert view["status"] == "Queued" and view["current_step"]["seconds"] == 1
    assert requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["cora"]["start_calls"] == 1
    # The ExternalContext given to FileBatch comes back in GetStatus.
    assert result_of(get_status(sim, "1.1", instance_id))["ExternalContext"] == "batch-1"


def test_file_batch_without_an_input_file_is_a_client_fault(sim):
    answer = post(sim, "1.1", f'<FileBatch xmlns="{NS}"><TimeOut>60</TimeOut></FileBatch>', action="FileBatch")
    assert answer.status_code == 500 and "InputFile/FileName is required" in fault_of(answer, "1.1")[1]


def test_the_document_view_shows_the_last_request_xml(sim):
    doc = create(sim, [{"status": "Queued"}])
    post(sim, "1.1", f'<GetStatus xmlns="{NS}"/>')  # no header: a fault, not a recorded status call
    post(sim, "1.1", f'<GetStatus xmlns="{NS}"/>', header=metadata(doc, WorkflowName="wf"))
    view = requests.get(f"{sim.url}/_sim/documents/cora/{doc}", timeout=5).json()
    assert view["status_calls"] == 1
    header = ET.fromstring(view["last_body"]).find(f"{{{ENV['1.1']}}}Header/{{{NS}}}ActivityMetadata")
    assert {c.tag.removeprefix(f"{{{NS}}}"): c.text for c in header} == {
        "WorkflowName": "wf", "MasterWorkflowInstanceId": doc}
    assert view["last_headers"]["Authorization"] == "<redacted>"


def test_ids_and_statuses_are_checked(sim):
    bad_id = requests.post(f"{sim.url}/_sim/documents", json={"vendor": "cora", "id": "abc"}, timeout=5)
    assert bad_id.status_code == 400
    bad_status = requests.post(f"{sim.url}/_sim/documents", json={"vendor": "cora", "script": [{"status": 3}]},
                               timeout=5)
    assert bad_status.status_code == 400 and "Status string" in bad_status.json()["error"]
    assert create(sim, "default", doc_id="0042") == "42"


def test_unknown_paths_and_methods(sim):
    assert requests.get(f"{sim.url}/cora/SequenceServices/other.asmx", auth=AUTH, timeout=5).status_code == 404
    assert requests.put(sim.cora_endpoint, auth=AUTH, timeout=5).status_code == 405
    # IIS matches paths case-insensitively.
    lower = f"{sim.url}/cora/sequenceservices/CORAOCRINTEGRATION_V1.0.0.ASMX?WSDL"
    assert requests.get(lower, auth=AUTH, timeout=5).status_code == 200
