"""expert.ai Extract protocol: every state, every HTTP status, the token and the start call, with no network."""

from __future__ import annotations

import base64
import json

import pytest

from airflow_docstatus.engine.errors import AuthenticationError, InvalidInputError, PermanentError, TransientError
from airflow_docstatus.engine.http import HttpResponse
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.status import State
from airflow_docstatus.engine.tokens import Token
from airflow_docstatus.protocols.expertai import DEFAULT_AUTH_URL, MAX_DOCUMENT_BYTES, ExpertAiExtractProtocol
from tests.unit.test_tokens import jwt

SECRET = "canary-expertai-pw-5521"
REF = {"extract_task_id": "task-1"}
RESULT = {"header": {"totPages": 1}, "layout": [{"id": 0, "type": "page"}], "words": ["H4sI"]}


def protocol(**extra) -> ExpertAiExtractProtocol:
    settings = ConnectionSettings(conn_id="ex_test", base_url="http://sim.test/expertai/beta/",
                                  login="user@example.com", password=SECRET, extra=extra)
    return ExpertAiExtractProtocol(settings)


def answer(status: int = 200, body=None, headers=None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, headers=headers or {}, body=raw)


def test_token_request_posts_json_credentials_to_auth_url():
    request = protocol().token_request()
    assert (request.method, request.url) == ("POST", DEFAULT_AUTH_URL)
    assert json.loads(request.body) == {"username": "user@example.com", "password": SECRET}
    assert SECRET not in repr(request)
    assert protocol(auth_url="http://sim.test/oauth2/token").token_request().url == "http://sim.test/oauth2/token"


def test_token_is_the_bare_jwt_renewed_before_its_exp():
    token = protocol().read_token(HttpResponse(200, body=jwt({"exp": 5000}).encode()), now=1000)
    assert token.value.count(".") == 2 and token.renew_at == 5000 - 60


@pytest.mark.parametrize("code", [400, 401, 403])
def test_refused_credentials_are_an_authentication_error_without_the_password(code):
    proto = protocol()
    with pytest.raises(AuthenticationError) as info:
        proto.read_token(answer(code, {"error": f"bad password {SECRET}"}), now=0)
    assert "'ex_test'" in str(info.value) and SECRET not in str(info.value)


def test_token_endpoint_trouble_is_transient():
    with pytest.raises(TransientError):
        protocol().read_token(answer(503, b"busy", {"Retry-After": "3"}), now=0)
    with pytest.raises(TransientError):
        protocol().read_token(HttpResponse(200, body=b""), now=0)


def test_status_request_carries_the_bearer_token_once_authorized():
    proto = protocol()
    request = proto.status_request({"extract_task_id": "a/b"})
    assert request.url == "http://sim.test/expertai/beta/status/a%2Fb"
    authorized = proto.authorize(request, Token("tok-123"))
    assert authorized.headers["Authorization"] == "Bearer tok-123" and "tok-123" not in repr(authorized)


@pytest.mark.parametrize(
    ("state", "expected"),
    [("PENDING", State.WAITING), ("PROGRESS", State.WAITING), ("SUCCESS", State.SUCCEEDED),
     ("FAILURE", State.FAILED), ("ABORTED", State.FAILED), ("REVOKED", State.FAILED)],
)
def test_every_state(state, expected):
    status = protocol().interpret(REF, answer(200, {"current": 40, "message": "ocr", "state": state}))
    assert status.state is expected and status.vendor_status == state and status.progress == 0.4


def test_progress_and_phase_are_in_the_progress_line():
    status = protocol().interpret(REF, answer(200, {"current": 35, "message": "layout analysis", "state": "PROGRESS"}))
    assert "progress=35%" in status.describe() and "layout analysis" in status.describe()


def test_success_returns_the_result_object():
    status = protocol().interpret(REF, answer(200, {"current": 100, "message": "completed", "state": "SUCCESS",
                                                   "result": RESULT}))
    assert status.payload == RESULT


def test_failure_carries_the_vendor_message():
    status = protocol().interpret(REF, answer(200, {"current": 0, "message": "corrupt PDF", "state": "FAILURE"}))
    assert status.state is State.FAILED and status.message == "corrupt PDF"


def test_unknown_state_is_named():
    status = protocol().interpret(REF, answer(200, {"current": 0, "message": None, "state": "REVOKED"}))
    assert "unexpected state REVOKED" in status.message


@pytest.mark.parametrize(
    ("code", "error"),
    [(401, AuthenticationError), (403, AuthenticationError), (404, PermanentError), (405, PermanentError),
     (413, PermanentError), (400, PermanentError), (500, TransientError), (502, TransientError),
     (429, TransientError)],
)
def test_every_http_status(code, error):
    with pytest.raises(error) as info:
        protocol().interpret(REF, answer(code, b""))
    assert "extract_task_id=task-1" in str(info.value) and f"HTTP {code}" in str(info.value)


def test_unknown_task_says_so():
    with pytest.raises(PermanentError, match="no such task"):
        protocol().interpret(REF, answer(404, b""))


def test_garbled_body_is_transient_and_a_body_without_state_is_permanent():
    with pytest.raises(TransientError):
        protocol().interpret(REF, answer(200, b'{"state": "PROG'))
    with pytest.raises(PermanentError, match="without a state"):
        protocol().interpret(REF, answer(200, {"current": 3}))


def test_missing_task_id_is_refused_before_any_call():
    with pytest.raises(InvalidInputError, match="extract_task_id"):
        ExpertAiExtractProtocol.validate_ref(extract_task_id="  ")


def test_layout_request_sends_the_document_as_base64():
    request = protocol().layout_request("invoice.pdf", b"%PDF-1.7")
    assert request.url == "http://sim.test/expertai/beta/layout-document-async"
    document = json.loads(request.body)["document"]
    assert document["name"] == "invoice.pdf" and base64.b64decode(document["data"]) == b"%PDF-1.7"


def test_layout_request_refuses_empty_and_oversized_documents():
    with pytest.raises(InvalidInputError, match="empty"):
        protocol().layout_request("a.pdf", b"")
    with pytest.raises(InvalidInputError, match="limit"):
        protocol().layout_request("a.pdf", b"x" * (MAX_DOCUMENT_BYTES + 1))


def test_parse_task_id():
    assert protocol().parse_task_id("a.pdf", answer(202, {"taskId": "t-9"})) == "t-9"
    with pytest.raises(PermanentError, match="without a taskId"):
        protocol().parse_task_id("a.pdf", answer(202, {}))
    with pytest.raises(PermanentError, match="too large"):
        protocol().parse_task_id("a.pdf", answer(413, b""))
