"""CoraProtocol with no network: ids, connection settings, the envelopes zeep builds, and reading every reply."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from lxml import etree

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    InvalidInputError,
    PermanentError,
    TransientError,
)
from airflow_docstatus.engine.http import HttpResponse
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.status import State
from airflow_docstatus.protocols import soap
from airflow_docstatus.protocols.cora import (
    NAMESPACE,
    CoraProtocol,
    FileReference,
    parse_activity_metadata,
    shipped_wsdl_path,
)

NS = NAMESPACE
ENV = {"1.1": soap.SOAP_ENV_11, "1.2": soap.SOAP_ENV_12}
SECRET = "canary-unit-pw-913"
REF = {"master_workflow_instance_id": 42}


def conn(**fields) -> SimpleNamespace:
    values = {"conn_id": "cora_x", "conn_type": "cora_sequence", "host": "https://cora.example.com",
              "schema": None, "port": None, "login": "svc", "password": SECRET, "extra": {}}
    values.update(fields)
    extra = values.pop("extra")
    return SimpleNamespace(**values, extra_dejson=extra)


def settings(**fields) -> ConnectionSettings:
    return ConnectionSettings.from_connection(conn(**fields), default_host="", expected_type="cora_sequence")


def load(location: str, version: str) -> soap.SoapService:
    return soap.WSDL_CACHE.get(soap.WsdlSource(location, settings(), "test"), version, operation="GetStatus")


def protocol(version: str = "1.1", activity_metadata=None, **fields) -> CoraProtocol:
    extra = {"soap_version": version, **fields.pop("extra", {})}
    proto = CoraProtocol(settings(extra=extra, **fields), activity_metadata=activity_metadata)
    proto.bind(load(proto.wsdl_location, proto.soap_version))
    return proto


def reply(version: str, inner: str, status: int = 200) -> HttpResponse:
    body = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ENV[version]}">'
            f"<soap:Body>{inner}</soap:Body></soap:Envelope>")
    content_type = "text/xml" if version == "1.1" else "application/soap+xml"
    return HttpResponse(status, {"Content-Type": f"{content_type}; charset=utf-8"}, body.encode())


def status_reply(version: str, status: str, error_code: str | None = "NoError", context: str | None = None,
                 wrapper: bool = True) -> HttpResponse:
    fields = f"<Status>{status}</Status>"
    fields += f"<ErrorCode>{error_code}</ErrorCode>" if error_code is not None else ""
    fields += f"<ExternalContext>{context}</ExternalContext>" if context is not None else ""
    inner = f"<GetStatusResult>{fields}</GetStatusResult>" if wrapper else fields
    return reply(version, f'<GetStatusResponse xmlns="{NS}">{inner}</GetStatusResponse>')


def fault_reply(version: str, code: str, text: str) -> HttpResponse:
    if version == "1.1":
        inner = f"<soap:Fault><faultcode>soap:{code}</faultcode><faultstring>{text}</faultstring></soap:Fault>"
    else:
        inner = (f"<soap:Fault><soap:Code><soap:Value>soap:{code}</soap:Value></soap:Code>"
                 f"<soap:Reason><soap:Text xml:lang='en'>{text}</soap:Text></soap:Reason></soap:Fault>")
    return reply(version, inner, status=500)


# -- ids and settings ------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [(42, 42), ("42", 42), (" 7 ", 7), (2**63 - 1, 2**63 - 1)])
def test_master_workflow_instance_id_takes_integers_and_integer_text(value, expected):
    assert CoraProtocol.validate_ref(master_workflow_instance_id=value) == {"master_workflow_instance_id": expected}


@pytest.mark.parametrize("value", ["abc", "4.2", 4.2, True, 0, -3, "", None, 2**63, "{{ ti }}"])
def test_a_non_integer_master_workflow_instance_id_is_refused(value):
    with pytest.raises(InvalidInputError, match="master_workflow_instance_id"):
        CoraProtocol.validate_ref(master_workflow_instance_id=value)


def test_activity_metadata_is_checked_normalized_and_put_in_schema_order():
    fields = parse_activity_metadata(
        {"CallerId": "3", "WorkflowId": "0F8FAD5B-D9CB-469F-A165-70867728950E", "WorkflowName": "Invoices",
         "ActivityName": None}
    )
    assert list(fields) == ["WorkflowId", "WorkflowName", "CallerId"]
    assert fields == {"WorkflowId": "0f8fad5b-d9cb-469f-a165-70867728950e", "WorkflowName": "Invoices", "CallerId": 3}
    assert parse_activity_metadata('{"WorkflowInstanceId": 9}') == {"WorkflowInstanceId": 9}
    assert parse_activity_metadata(None) == {}


@pytest.mark.parametrize(
    "value, match",
    [
        ({"MasterWorkflowInstanceId": 1}, "master_workflow_instance_id"),
        ({"workflowname": "x"}, "unknown `activity_metadata` field"),
        ({"WorkflowId": "not-a-guid"}, "must be a GUID"),
        ({"CallerId": 2**31}, "between 1 and"),
        ({"ActivityInstanceId": "x"}, "must be an integer"),
        ("not json", "dict, or its JSON or Python-literal text"),
        (["WorkflowName"], "must be a dict"),
    ],
)
def test_bad_activity_metadata_is_refused(value, match):
    with pytest.raises(InvalidInputError, match=match):
        parse_activity_metadata(value)


def test_connection_defaults_basic_with_a_login_none_without():
    assert CoraProtocol(settings()).auth == "basic"
    assert CoraProtocol(settings(login=None, password=None)).auth == "none"
    proto = CoraProtocol(settings(extra={"auth": "NTLM"}))
    assert proto.auth == "ntlm" and proto.soap_version == "1.1"
    assert proto.wsdl_location == shipped_wsdl_path()


@pytest.mark.parametrize(
    "fields, match",
    [
        ({"host": None}, "host is required"),
        ({"extra": {"auth": "kerberos"}}, "'auth' must be one of"),
        ({"extra": {"auth": "ntlm"}, "login": None}, "needs a login"),
        ({"extra": {"soap_version": "2.0"}}, "1.1 or 1.2"),
    ],
)
def test_bad_connection_settings_are_refused_naming_the_connection(fields, match):
    with pytest.raises(InvalidInputError, match=match) as caught:
        CoraProtocol(settings(**fields))
    assert "'cora_x'" in str(caught.value) and SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "host, endpoint",
    [
        ("https://cora.example.com", "https://cora.example.com/SequenceServices/coraOcrIntegration_v1.0.0.asmx"),
        ("https://h/cora/", "https://h/cora/SequenceServices/coraOcrIntegration_v1.0.0.asmx"),
        ("https://h/Seq/coraOcrIntegration_v1.0.0.asmx", "https://h/Seq/coraOcrIntegration_v1.0.0.asmx"),
    ],
)
def test_the_asmx_path_is_appended_to_the_host(host, endpoint):
    assert CoraProtocol(settings(host=host)).endpoint == endpoint


@pytest.mark.parametrize("raw, version", [("1.2", "1.2"), (1.2, "1.2"), ("soap12", "1.2"), ("1.1", "1.1"), (None, "1.1")])
def test_soap_version_spellings(raw, version):
    assert CoraProtocol(settings(extra={"soap_version": raw})).soap_version == version


# -- requests ----------------------------------------------------------------------------


def header_fields(request) -> dict[str, str]:
    root = etree.fromstring(request.body)
    header = root.find(f"{{{ENV_OF(root)}}}Header/{{{NS}}}ActivityMetadata")
    return {etree.QName(child).localname: child.text for child in header}


def ENV_OF(root) -> str:  # noqa: N802
    return etree.QName(root).namespace


def test_soap11_get_status_request_carries_soapaction_and_the_header():
    proto = protocol("1.1", activity_metadata={"WorkflowName": "Invoices", "CallerId": 7})
    request = proto.status_request(REF)
    assert request.method == "POST"
    assert request.url == "https://cora.example.com/SequenceServices/coraOcrIntegration_v1.0.0.asmx"
    assert request.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert request.headers["SOAPAction"] == f'"{NS}GetStatus"'
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"svc:{SECRET}".encode()).decode()
    root = etree.fromstring(request.body)
    assert ENV_OF(root) == soap.SOAP_ENV_11
    assert header_fields(request) == {"WorkflowName": "Invoices", "CallerId": "7", "MasterWorkflowInstanceId": "42"}
    body = root.find(f"{{{soap.SOAP_ENV_11}}}Body")
    assert [child.tag for child in body] == [f"{{{NS}}}GetStatus"] and len(body[0]) == 0
    assert SECRET not in repr(request)


def test_soap12_get_status_request_carries_the_action_in_the_content_type():
    request = protocol("1.2").status_request(REF)
    assert request.headers["Content-Type"] == f'application/soap+xml; charset=utf-8; action="{NS}GetStatus"'
    assert "SOAPAction" not in request.headers
    assert ENV_OF(etree.fromstring(request.body)) == soap.SOAP_ENV_12
    assert header_fields(request) == {"MasterWorkflowInstanceId": "42"}


def test_no_auth_header_without_basic_auth():
    assert "Authorization" not in protocol(login=None, password=None).status_request(REF).headers
    assert "Authorization" not in protocol(extra={"auth": "ntlm"}).status_request(REF).headers


def test_file_batch_request_carries_every_field():
    proto = protocol("1.1")
    request = proto.file_batch_request(
        input_file={"Connection": "share", "RelativeLocation": "in", "FileName": "a.pdf"},
        output_file=FileReference("share", "out", "a.xml"),
        ocr_profile="Invoices",
        timeout=600,
        external_context="batch-7",
        put_model=True,
    )
    assert request.headers["SOAPAction"] == f'"{NS}FileBatch"'
    root = etree.fromstring(request.body)
    batch = root.find(f"{{{soap.SOAP_ENV_11}}}Body/{{{NS}}}FileBatch")
    values = {etree.QName(c).localname: (c.text if len(c) == 0 else [g.text for g in c]) for c in batch}
    assert values == {
        "TimeOut": "600", "ExternalContext": "batch-7", "InputFile": ["share", "in", "a.pdf"],
        "OCRProfile": "Invoices", "OutPutFile": ["share", "out", "a.xml"], "PutModel": "true",
    }
    assert root.find(f"{{{soap.SOAP_ENV_11}}}Header") is None  # no activity_metadata: no header


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_file": {"FileName": ""}}, "FileName required"),
        ({"input_file": "a.pdf"}, "must be a FileReference"),
        ({"ocr_profile": " "}, "ocr_profile"),
        ({"timeout": "soon"}, "timeout"),
    ],
)
def test_bad_file_batch_arguments_are_refused_before_any_call(kwargs, match):
    arguments = {"input_file": {"FileName": "a.pdf"}, "output_file": {"FileName": "a.xml"},
                 "ocr_profile": "P", "timeout": 60, **kwargs}
    with pytest.raises(InvalidInputError, match=match):
        protocol().file_batch_request(**arguments)


def test_a_request_needs_a_bound_wsdl():
    with pytest.raises(RuntimeError, match="bind"):
        CoraProtocol(settings()).status_request(REF)


# -- replies -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("status", ["Queued", "ProcessingInput", "WaitingForOutput"])
def test_waiting_statuses(version, status):
    result = protocol(version).interpret(REF, status_reply(version, status))
    assert result.state is State.WAITING and result.vendor_status == status and result.message is None


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_completed_returns_the_three_fields_as_sent(version):
    result = protocol(version).interpret(REF, status_reply(version, "Completed", "NoError", "batch-7 &amp; more"))
    assert result.state is State.SUCCEEDED
    assert result.payload == {"Status": "Completed", "ErrorCode": "NoError", "ExternalContext": "batch-7 & more"}
    assert type(result.payload) is dict


def test_completed_without_external_context_keeps_the_key():
    result = protocol().interpret(REF, status_reply("1.1", "Completed"))
    assert result.payload == {"Status": "Completed", "ErrorCode": "NoError", "ExternalContext": None}


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize(
    "status, code, words",
    [
        ("Aborted", "TimedOut", "the OCR robot timed out"),
        ("Failed", "InputFileNotFound", "the input file was not found"),
        ("NotFound", "NoError", "knows no OCR workflow"),
    ],
)
def test_failure_statuses_carry_the_error_code(version, status, code, words):
    result = protocol(version).interpret(REF, status_reply(version, status, code, "ctx-1"))
    assert result.state is State.FAILED and result.vendor_status == status
    assert f"ErrorCode {code}" in result.message and words in result.message and "'ctx-1'" in result.message


def test_an_undocumented_status_fails_and_says_so():
    result = protocol().interpret(REF, status_reply("1.1", "Paused"))
    assert result.state is State.FAILED
    assert "unexpected Status Paused" in result.message


def test_an_error_code_on_a_waiting_status_is_shown():
    result = protocol().interpret(REF, status_reply("1.1", "Queued", "InternalError"))
    assert result.state is State.WAITING and result.message == "ErrorCode InternalError (internal error)"


def test_a_reply_the_wsdl_does_not_describe_is_permanent_and_says_so():
    # Status straight in GetStatusResponse, without the GetStatusResult wrapper: nothing the WSDL lists
    with pytest.raises(PermanentError, match="without a Status.*; the answer: .*GetStatusResponse"):
        protocol().interpret(REF, status_reply("1.1", "Completed", context="x", wrapper=False))


def test_results_shaped_by_another_wsdl_are_read_with_or_without_a_wrapper():
    proto = protocol()
    flat = {"Status": "Completed", "ErrorCode": "NoError", "ExternalContext": "x"}
    assert proto.status_of(REF, flat).payload == flat
    assert proto.status_of(REF, {"GetStatusResult": flat}).payload == flat


@pytest.mark.parametrize("version, code", [("1.1", "Client"), ("1.2", "Sender")])
def test_a_client_fault_is_permanent_with_its_faultstring(version, code):
    with pytest.raises(PermanentError) as caught:
        protocol(version).interpret(REF, fault_reply(version, code, "The robot profile is not valid."))
    text = str(caught.value)
    assert f"soap:{code}: The robot profile is not valid." in text
    assert "connection 'cora_x'" in text and "master_workflow_instance_id=42" in text


@pytest.mark.parametrize("version, code", [("1.1", "Server"), ("1.2", "Receiver")])
def test_a_server_fault_is_transient_with_its_faultstring(version, code):
    with pytest.raises(TransientError, match=f"soap:{code}: Server was unable to process request") as caught:
        protocol(version).interpret(REF, fault_reply(version, code, "Server was unable to process request."))
    assert caught.value.http_status == 500


def test_a_fault_in_a_200_is_still_a_fault():
    fault = fault_reply("1.1", "Client", "nope")
    with pytest.raises(PermanentError, match="nope"):
        protocol().interpret(REF, HttpResponse(200, fault.headers, fault.body))


def test_a_long_faultstring_is_cut_and_the_password_never_shown():
    fault = fault_reply("1.1", "Server", f"boom {SECRET} " + "at Stack.Frame() " * 200)
    with pytest.raises(TransientError) as caught:
        protocol().interpret(REF, fault)
    assert SECRET not in str(caught.value) and len(str(caught.value)) < 800


def test_a_500_without_a_soap_body_is_transient():
    with pytest.raises(TransientError, match="HTTP 500"):
        protocol().interpret(REF, HttpResponse(500, {"Content-Type": "text/html"}, b"<html><body>Oops</body></html>"))


def test_401_is_an_authentication_error_naming_the_connection():
    with pytest.raises(AuthenticationError, match="HTTP 401") as caught:
        protocol().interpret(REF, HttpResponse(401, {}, b"401 - Unauthorized: Access is denied"))
    assert "'cora_x'" in str(caught.value)


@pytest.mark.parametrize("body", [b"<soap:Envelope", b"", b"not xml at all"])
def test_a_garbled_200_is_transient(body):
    with pytest.raises(TransientError, match="not SOAP"):
        protocol().interpret(REF, HttpResponse(200, {}, body))


def test_xml_that_is_not_the_reply_is_permanent():
    with pytest.raises(PermanentError):
        protocol().interpret(REF, HttpResponse(200, {}, b"<html><body>hello</body></html>"))
    with pytest.raises(PermanentError, match="without a Status"):
        protocol().interpret(REF, reply("1.1", f'<GetStatusResponse xmlns="{NS}"/>'))


def test_a_doctype_is_refused():
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'
    with pytest.raises(TransientError, match="not SOAP"):
        protocol().interpret(REF, HttpResponse(200, {}, body))


def test_file_batch_reply_is_the_master_workflow_instance_id():
    answer = reply("1.2", f'<FileBatchResponse xmlns="{NS}"><FileBatchResult>100042</FileBatchResult></FileBatchResponse>')
    assert protocol("1.2").parse_file_batch({"FileName": "a.pdf"}, answer) == 100042


# -- the WSDL ----------------------------------------------------------------------------------


def test_the_shipped_wsdl_has_both_bindings_and_both_operations():
    for version in ("1.1", "1.2"):
        service = load(shipped_wsdl_path(), version)
        assert service.version == version
        assert service.operation_names() == ["FileBatch", "GetStatus"]


def test_the_wsdl_is_loaded_once_per_location_for_both_versions(tmp_path):
    copy = tmp_path / "cora.wsdl"
    copy.write_text(open(shipped_wsdl_path()).read())
    before = soap.WSDL_CACHE.loads
    first = load(str(copy), "1.1")
    assert load(str(copy), "1.1") is first
    load(str(copy), "1.2")
    protocol(extra={"wsdl": str(copy)})
    protocol("1.2", extra={"wsdl": str(copy)})
    assert soap.WSDL_CACHE.loads == before + 1


def test_a_missing_wsdl_file_and_a_wsdl_without_the_version_are_clear_errors(tmp_path):
    with pytest.raises(InvalidInputError, match="cannot read the WSDL"):
        load(str(tmp_path / "missing.wsdl"), "1.1")
    only11 = tmp_path / "only11.wsdl"
    text = open(shipped_wsdl_path()).read()
    start = text.index('<wsdl:binding name="coraOcrIntegrationSoap12"')
    end = text.index("</wsdl:binding>", start) + len("</wsdl:binding>")
    text = text[:start] + text[end:]
    text = text.replace(text[text.index('<wsdl:port name="coraOcrIntegrationSoap12"'):
                             text.index("</wsdl:service>")], "")
    only11.write_text(text)
    assert load(str(only11), "1.1").version == "1.1"
    with pytest.raises(PermanentError, match="no SOAP 1.2 binding with the GetStatus operation"):
        load(str(only11), "1.2")


def test_fault_codes_permanent_or_not():
    assert soap.SoapFault("1.1", "soap:Client.Authentication", "x").permanent
    assert soap.SoapFault("1.2", "env:MustUnderstand", "x").permanent
    assert not soap.SoapFault("1.1", "soap:Server", "x").permanent
    assert not soap.SoapFault("1.2", "Receiver", "x").permanent


@pytest.mark.parametrize(
    "rendered",
    [
        "{'WorkflowName': 'invoices', 'CallerId': 7}",  # a dict rendered by Jinja: Python-literal text
        '{"WorkflowName": "invoices", "CallerId": 7}',  # rendered with tojson
    ],
)
def test_activity_metadata_rendered_as_text_by_a_template_is_read_back(rendered):
    """Issue 12, item 12: `activity_metadata="{{ dag_run.conf['meta'] }}"` renders Python-literal text."""
    assert parse_activity_metadata(rendered) == {"WorkflowName": "invoices", "CallerId": 7}


@pytest.mark.parametrize("rendered", ["__import__('os').getcwd()", "[1, 2]", "{'WorkflowName': 'x'"])
def test_activity_metadata_text_that_is_no_dict_literal_is_refused(rendered):
    with pytest.raises(InvalidInputError, match="activity_metadata"):
        parse_activity_metadata(rendered)


def test_a_templated_activity_metadata_renders_into_a_working_sensor():
    from airflow_docstatus.sensors.cora import CoraOcrStatusSensor

    sensor = CoraOcrStatusSensor(
        task_id="wait", master_workflow_instance_id=42, activity_metadata="{{ params.meta }}"
    )
    sensor.render_template_fields({"params": {"meta": {"WorkflowName": "invoices", "CallerId": 7}}})
    assert isinstance(sensor.activity_metadata, str)  # Jinja renders the dict as text...
    assert parse_activity_metadata(sensor.activity_metadata) == {"WorkflowName": "invoices", "CallerId": 7}  # ...read back


def test_the_wsdl_extras_are_checked_before_any_call():
    with pytest.raises(InvalidInputError, match="extra 'wsdl' must be an http\\(s\\) URL, a file: URL or a file path"):
        CoraProtocol(settings(extra={"wsdl": "ftp://cora.example.com/x.wsdl"}))
    with pytest.raises(InvalidInputError, match="'wsdl_allowed_origins' takes http\\(s\\) URLs"):
        CoraProtocol(settings(extra={"wsdl_allowed_origins": ["file:///etc"]}))
    proto = CoraProtocol(settings(extra={"wsdl": "https://cora.example.com/x.asmx?WSDL",
                                         "wsdl_allowed_origins": "https://a.example.com/x, http://b.example.com:8080"}))
    assert proto.wsdl_allowed_origins == (("https", "a.example.com", 443), ("http", "b.example.com", 8080))
