"""LEADTOOLS protocol: every FileStatus and every HTTP status, with no network."""

from __future__ import annotations

import base64
import logging
import json

import pytest

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    InvalidInputError,
    PermanentError,
    TransientError,
)
from airflow_docstatus.engine.http import HttpResponse
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.status import State
from airflow_docstatus.protocols.leadtools import LeadtoolsProtocol

FILE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
REF = {"file_id": FILE_ID}
SECRET = "s3cr3t-canary-pw"


def protocol(**options) -> LeadtoolsProtocol:
    settings = ConnectionSettings(conn_id="lt_test", base_url="http://sim.test/leadtools/api/",
                                  login="app-id", password=SECRET)
    return LeadtoolsProtocol(settings, **options)


def answer(status: int = 200, body=None, headers=None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, headers=headers or {}, body=raw)


def test_status_request_is_query_with_basic_auth():
    request = protocol().status_request(REF)
    assert request.method == "GET"
    assert request.url == "http://sim.test/leadtools/api/Query"
    assert dict(request.params) == {"id": FILE_ID}
    expected = base64.b64encode(f"app-id:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert SECRET not in repr(request) and expected not in repr(request)


@pytest.mark.parametrize(
    ("file_status", "state"),
    [(100, State.WAITING), (122, State.WAITING), (123, State.WAITING), (200, State.SUCCEEDED),
     (500, State.FAILED), (501, State.FAILED), (502, State.FAILED), (600, State.FAILED)],
)
def test_every_documented_file_status(file_status, state):
    status = protocol().interpret(REF, answer(body={"FileStatus": file_status, "RequestData": []}))
    assert status.state is state
    assert status.vendor_status == str(file_status)
    assert status.vendor == "leadtools" and status.ref == REF
    assert status.message  # every documented status has its meaning spelled out


def test_done_carries_request_data_as_sent():
    data = [{"ServiceType": "Recognition", "RecognitionType": "Barcode", "data": [{"Value": "42"}]}]
    status = protocol().interpret(REF, answer(body={"FileStatus": 200, "RequestData": data}))
    assert status.payload == data


def test_not_run_waits_with_a_warning_or_fails_when_asked():
    waiting = protocol().interpret(REF, answer(body={"FileStatus": 122, "RequestData": []}))
    assert waiting.state is State.WAITING and "Run was never called" in waiting.warning
    assert "Run was never called" in waiting.describe() and waiting.log_level == logging.WARNING
    failing = protocol(fail_when_not_run=True).interpret(REF, answer(body={"FileStatus": 122}))
    assert failing.state is State.FAILED and failing.warning is None


def test_an_unknown_file_status_fails_and_is_named():
    status = protocol().interpret(REF, answer(body={"FileStatus": 777, "RequestData": []}))
    assert status.state is State.FAILED
    assert "777" in status.message and "unexpected" in status.message


@pytest.mark.parametrize(
    ("http_status", "error", "words"),
    [
        (400, PermanentError, "not a valid GUID"),
        (401, AuthenticationError, "does not own this file"),
        (403, AuthenticationError, "HTTP 403"),
        (404, PermanentError, "HTTP 404"),
        (429, TransientError, "HTTP 429"),
        (500, TransientError, "internal error"),
        (502, TransientError, "HTTP 502"),
        (503, TransientError, "HTTP 503"),
    ],
)
def test_every_http_status(http_status, error, words):
    with pytest.raises(error) as caught:
        protocol().interpret(REF, answer(http_status, body=b"nope", headers={"Retry-After": "7"}))
    text = str(caught.value)
    assert words in text and "'lt_test'" in text and FILE_ID in text
    assert caught.value.http_status == http_status
    if error is TransientError:
        assert caught.value.retry_after == 7.0


def test_a_garbled_body_is_transient():
    with pytest.raises(TransientError, match="not valid JSON"):
        protocol().interpret(REF, answer(body=b'{"FileStatus": 1'))


def test_a_body_without_file_status_is_refused():
    with pytest.raises(PermanentError, match="without a FileStatus"):
        protocol().interpret(REF, answer(body={"Other": 1}))


def test_a_secret_echoed_by_the_vendor_never_reaches_the_message():
    with pytest.raises(AuthenticationError) as caught:
        protocol().interpret(REF, answer(401, body=f"bad password {SECRET}".encode()))
    assert SECRET not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize("bad", ["", "  ", "not-a-guid", "1234", None, "0f8fad5b-d9cb-469f-a165-70867728950"])
def test_file_id_must_be_a_guid(bad):
    with pytest.raises(InvalidInputError, match="file_id"):
        LeadtoolsProtocol.validate_ref(file_id=bad)


def test_file_id_is_normalized():
    assert LeadtoolsProtocol.validate_ref(file_id=f"  {FILE_ID.upper()} ") == REF


def test_start_calls_and_their_answers():
    lt = protocol()
    request = lt.extract_text_request("https://example.com/a.pdf", 1, 3)
    assert request.url.endswith("/Recognition/ExtractText")
    assert dict(request.params) == {"fileurl": "https://example.com/a.pdf", "firstPage": "1", "lastPage": "3"}
    assert lt.parse_file_id({}, answer(body=b'"' + FILE_ID.encode() + b'"')) == FILE_ID
    assert lt.parse_file_id({}, answer(body=FILE_ID.encode() + b"\r\n")) == FILE_ID
    with pytest.raises(PermanentError, match="did not answer with a GUID"):
        lt.parse_file_id({}, answer(body=b"<html>oops</html>"))
    assert lt.run_request(FILE_ID).url.endswith("/Run")
    with pytest.raises(InvalidInputError):
        lt.run_request("nope")
