"""Azure Document Translation protocols: both API shapes, every status, errors and rate limits, with no network."""

from __future__ import annotations

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
from airflow_docstatus.protocols.azure_translation import (
    AzureBatchStatusProtocol,
    AzureDocumentStatusProtocol,
    describe_error,
)

BATCH = "727bf148-f327-47a0-9481-abae6362f11e"
DOC = "273622bd-835c-4946-9798-fd8f19f6bbf2"
DOC_REF = {"batch_id": BATCH, "document_id": DOC}
BATCH_REF = {"batch_id": BATCH}
KEY = "canary-subscription-key-0451"
ENDPOINT = "https://myres.cognitiveservices.azure.com/"
PATH = "https://myblob.blob.core.windows.net/destinationContainer/fr/mydoc.txt"
INNER_ERROR = {
    "code": "InvalidRequest",
    "message": "The document could not be translated.",
    "target": "Document",
    "innerError": {"code": "NoTranslatableText", "message": "No translatable text found in the input document."},
}


def settings(api_version=None, host=ENDPOINT, password=KEY) -> ConnectionSettings:
    extra = {} if api_version is None else {"api_version": api_version}
    return ConnectionSettings(conn_id="azt_test", base_url=host, password=password, extra=extra)


def document(api_version=None) -> AzureDocumentStatusProtocol:
    return AzureDocumentStatusProtocol(settings(api_version))


def batch(api_version=None, **options) -> AzureBatchStatusProtocol:
    return AzureBatchStatusProtocol(settings(api_version), **options)


def answer(status: int = 200, body=None, headers=None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, headers=headers or {}, body=raw)


def doc_body(status: str, **fields) -> dict:
    """The seed's example document status, with another status."""
    return {
        "path": PATH,
        "sourcePath": "https://myblob.blob.core.windows.net/sourceContainer/fr/mydoc.txt",
        "createdDateTimeUtc": "2020-03-26T00:00:00Z",
        "lastActionDateTimeUtc": "2020-03-26T01:00:00Z",
        "status": status,
        "to": "fr",
        "progress": 0.1,
        "id": DOC,
        "characterCharged": 0,
        **fields,
    }


def batch_body(status: str, **summary) -> dict:
    counts = {"total": 2, "failed": 0, "success": 0, "inProgress": 0, "notYetStarted": 0, "cancelled": 0,
              "totalCharacterCharged": 0, **summary}
    return {"id": BATCH, "createdDateTimeUtc": "2026-03-26T00:00:00Z",
            "lastActionDateTimeUtc": "2026-03-26T01:00:00Z", "status": status, "summary": counts}


# -- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "url", "params"),
    [
        (None, f"{ENDPOINT}translator/text/batch/v1.1/batches/{BATCH}/documents/{DOC}", {}),
        ("v1.1", f"{ENDPOINT}translator/text/batch/v1.1/batches/{BATCH}/documents/{DOC}", {}),
        ("2024-05-01", f"{ENDPOINT}translator/document/batches/{BATCH}/documents/{DOC}",
         {"api-version": "2024-05-01"}),
        ("2026-03-01", f"{ENDPOINT}translator/document/batches/{BATCH}/documents/{DOC}",
         {"api-version": "2026-03-01"}),
    ],
)
def test_document_status_request_in_both_api_shapes(api_version, url, params):
    request = document(api_version).status_request(DOC_REF)
    assert (request.method, request.url, dict(request.params)) == ("GET", url, params)
    assert request.headers == {"Ocp-Apim-Subscription-Key": KEY}
    assert KEY not in repr(request)


@pytest.mark.parametrize(
    ("api_version", "url", "params"),
    [
        ("v1.1", f"{ENDPOINT}translator/text/batch/v1.1/batches/{BATCH}", {}),
        ("2024-05-01", f"{ENDPOINT}translator/document/batches/{BATCH}", {"api-version": "2024-05-01"}),
    ],
)
def test_batch_status_request_in_both_api_shapes(api_version, url, params):
    request = batch(api_version).status_request(BATCH_REF)
    assert (request.method, request.url, dict(request.params)) == ("GET", url, params)
    assert request.headers["Ocp-Apim-Subscription-Key"] == KEY


@pytest.mark.parametrize("bad", ["v2", "1.1", "2023-11-01", "2024-13-01", "2024-05-01-preview", "latest", 3])
def test_an_unsupported_api_version_is_refused_before_any_call(bad):
    with pytest.raises(InvalidInputError, match="'azt_test'.*api_version.*v1.1"):
        document(bad)


def test_api_version_is_read_leniently():
    assert document("V1.1").api_version == "v1.1"
    assert document("").api_version == "v1.1"
    assert document(" 2024-05-01 ").api_version == "2024-05-01"


@pytest.mark.parametrize("host", ["/", "", "not a url/"])
def test_the_endpoint_is_required(host):
    with pytest.raises(InvalidInputError, match="custom-domain endpoint"):
        AzureDocumentStatusProtocol(settings(host=host))


def test_the_subscription_key_is_required():
    with pytest.raises(InvalidInputError, match="subscription key"):
        AzureDocumentStatusProtocol(settings(password=None))


@pytest.mark.parametrize("bad", ["", "  ", None, "INV-42", "{{ ti.xcom_pull() }}", BATCH[:-1]])
def test_ids_must_be_guids(bad):
    with pytest.raises(InvalidInputError, match="batch_id"):
        AzureBatchStatusProtocol.validate_ref(batch_id=bad)
    with pytest.raises(InvalidInputError, match="document_id"):
        AzureDocumentStatusProtocol.validate_ref(batch_id=BATCH, document_id=bad)


def test_ids_are_normalized():
    assert AzureDocumentStatusProtocol.validate_ref(batch_id=f" {BATCH.upper()} ", document_id=DOC) == DOC_REF
    assert AzureBatchStatusProtocol.validate_ref(batch_id=BATCH, document_id=DOC) == BATCH_REF


# -- document statuses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor_status", "state"),
    [
        ("NotStarted", State.WAITING),
        ("Running", State.WAITING),
        ("Cancelling", State.WAITING),
        ("Canceling", State.WAITING),
        ("Succeeded", State.SUCCEEDED),
        ("Failed", State.FAILED),
        ("ValidationFailed", State.FAILED),
        ("Cancelled", State.FAILED),
        ("Canceled", State.FAILED),
        ("running", State.WAITING),
        ("SUCCEEDED", State.SUCCEEDED),
        ("canceled", State.FAILED),
        ("validationfailed", State.FAILED),
    ],
)
def test_every_document_status_in_any_case(vendor_status, state):
    status = document().interpret(DOC_REF, answer(body=doc_body(vendor_status)))
    assert status.state is state
    assert status.vendor_status == vendor_status
    assert status.vendor == "azure_translation" and status.ref == DOC_REF


def test_progress_and_retry_after_are_read_from_a_waiting_answer():
    status = document().interpret(
        DOC_REF, answer(body=doc_body("Running", progress=0.25), headers={"Retry-After": "7", "ETag": '"abc"'})
    )
    assert status.state is State.WAITING
    assert status.progress == 0.25 and status.retry_after == 7.0
    assert "progress=25%" in status.describe()


def test_success_returns_the_translated_documents_path():
    status = document().interpret(DOC_REF, answer(body=doc_body("Succeeded", progress=1, characterCharged=42)))
    assert status.payload == PATH and status.progress == 1.0


def test_success_without_a_path_is_refused():
    body = doc_body("Succeeded")
    del body["path"]
    with pytest.raises(PermanentError, match="no translated document path"):
        document().interpret(DOC_REF, answer(body=body))


def test_a_failed_document_carries_the_error_code_message_and_inner_error():
    status = document().interpret(DOC_REF, answer(body=doc_body("Failed", error=INNER_ERROR)))
    assert status.state is State.FAILED
    assert status.message == (
        "InvalidRequest: The document could not be translated. (target Document); "
        "inner error NoTranslatableText: No translatable text found in the input document."
    )


def test_an_unknown_status_fails_and_is_named():
    status = document().interpret(DOC_REF, answer(body=doc_body("Paused")))
    assert status.state is State.FAILED and "unexpected status 'Paused'" in status.message


@pytest.mark.parametrize("body", [b'{"status": "Runn', b"<html>proxy</html>"])
def test_a_garbled_body_is_transient(body):
    with pytest.raises(TransientError, match="not valid JSON"):
        document().interpret(DOC_REF, answer(body=body))


def test_a_body_without_status_is_refused():
    with pytest.raises(PermanentError, match="without a status"):
        document().interpret(DOC_REF, answer(body={"id": DOC}))


# -- batch statuses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor_status", "state"),
    [("NotStarted", State.WAITING), ("Running", State.WAITING), ("Cancelling", State.WAITING),
     ("Succeeded", State.SUCCEEDED), ("Failed", State.FAILED), ("ValidationFailed", State.FAILED),
     ("Cancelled", State.FAILED), ("Canceled", State.FAILED), ("succeeded", State.SUCCEEDED)],
)
def test_every_batch_status(vendor_status, state):
    body = batch_body(vendor_status, success=2 if state is State.SUCCEEDED else 0)
    status = batch().interpret(BATCH_REF, answer(body=body))
    assert status.state is state and status.vendor_status == vendor_status
    if state is State.SUCCEEDED:
        assert status.payload == body


def test_batch_progress_and_counts_come_from_the_summary():
    body = batch_body("Running", total=4, success=1, failed=0, inProgress=2, notYetStarted=1)
    status = batch().interpret(BATCH_REF, answer(body=body, headers={"Retry-After": "3"}))
    assert status.progress == 0.25 and status.retry_after == 3.0
    assert status.message == "4 document(s): 1 succeeded, 0 failed, 2 running, 1 not started, 0 cancelled"
    assert status.warning is None


def test_a_batch_with_failed_documents_fails_by_default():
    body = batch_body("Succeeded", total=3, success=2, failed=1)
    status = batch().interpret(BATCH_REF, answer(body=body))
    assert status.state is State.FAILED and status.vendor_status == "Succeeded"
    assert status.message.startswith("1 of 3 document(s) failed") and "fail_on_document_failures=False" in status.message


def test_fail_on_document_failures_false_accepts_a_partly_failed_batch():
    body = batch_body("Succeeded", total=3, success=2, failed=1)
    status = batch(fail_on_document_failures=False).interpret(BATCH_REF, answer(body=body))
    assert status.state is State.SUCCEEDED and status.payload == body and "1 failed" in status.message


def test_a_running_batch_with_failed_documents_waits_with_a_warning():
    body = batch_body("Running", total=3, failed=1, inProgress=2)
    status = batch().interpret(BATCH_REF, answer(body=body))
    assert status.state is State.WAITING and status.warning == "1 document(s) failed already"


def test_a_failed_batch_carries_its_error():
    body = {**batch_body("ValidationFailed"), "error": {"code": "InvalidRequest", "message": "Bad container",
                                                         "innerError": {"code": "InvalidTargetDocumentAccessLevel",
                                                                        "message": "No write permission"}}}
    status = batch().interpret(BATCH_REF, answer(body=body))
    assert status.state is State.FAILED
    assert status.message.startswith(
        "InvalidRequest: Bad container; inner error InvalidTargetDocumentAccessLevel: No write permission; 2 document(s)"
    )


# -- HTTP errors ----------------------------------------------------------------------------------


def azure_error(code: str, message: str, inner: tuple[str, str] | None = None) -> dict:
    error = {"code": code, "message": message}
    if inner:
        error["innerError"] = {"code": inner[0], "message": inner[1]}
    return {"error": error}


@pytest.mark.parametrize(
    ("http_status", "error", "words"),
    [
        (401, AuthenticationError, "Unauthorized: User is not authorized; inner error Unauthorized"),
        (403, AuthenticationError, "HTTP 403"),
        (404, PermanentError, "ResourceNotFound: The document was not found"),
        (400, PermanentError, "HTTP 400"),
        (429, TransientError, "RequestRateTooHigh"),
        (500, TransientError, "HTTP 500"),
        (503, TransientError, "ServiceUnavailable"),
    ],
)
def test_every_http_status_names_the_connection_the_ids_and_azures_error(http_status, error, words):
    codes = {401: ("Unauthorized", "User is not authorized", ("Unauthorized", "Operation is not authorized")),
             404: ("ResourceNotFound", "The document was not found", None),
             429: ("RequestRateTooHigh", "Too many requests", None),
             503: ("ServiceUnavailable", "Try later", None)}
    code, message, inner = codes.get(http_status, ("InternalServerError", "oops", None))
    with pytest.raises(error) as caught:
        document().interpret(DOC_REF, answer(http_status, azure_error(code, message, inner), {"Retry-After": "9"}))
    text = str(caught.value)
    assert words in text and "'azt_test'" in text and BATCH in text and DOC in text
    assert caught.value.http_status == http_status
    if error is TransientError:
        assert caught.value.retry_after == 9.0


def test_an_error_without_azures_body_falls_back_to_the_text():
    with pytest.raises(TransientError, match="HTTP 502.*Bad Gateway"):
        document().interpret(DOC_REF, answer(502, b"<html>Bad Gateway</html>"))


def test_a_key_echoed_by_the_service_never_reaches_the_message():
    with pytest.raises(AuthenticationError) as caught:
        document().interpret(DOC_REF, answer(401, azure_error("Unauthorized", f"key {KEY} is not valid")))
    assert KEY not in str(caught.value) and "***" in str(caught.value)


def test_describe_error_stops_at_a_sane_depth():
    error: dict = {"code": "C0", "message": "m"}
    for depth in range(1, 20):
        error = {"code": f"C{depth}", "message": "m", "innerError": error}
    assert describe_error(error).count("inner error") == 5


# -- starting and listing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "url", "params"),
    [("v1.1", f"{ENDPOINT}translator/text/batch/v1.1/batches", {}),
     ("2024-05-01", f"{ENDPOINT}translator/document/batches", {"api-version": "2024-05-01"})],
)
def test_start_translation_request(api_version, url, params):
    request = document(api_version).start_translation_request(
        "https://src.blob/in?sas", "https://dst.blob/out?sas", "de", source_language="en", storage_type="File"
    )
    assert (request.method, request.url, dict(request.params)) == ("POST", url, params)
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"inputs": [{
        "source": {"sourceUrl": "https://src.blob/in?sas", "language": "en"},
        "targets": [{"targetUrl": "https://dst.blob/out?sas", "language": "de"}],
        "storageType": "File",
    }]}


def test_start_translation_needs_its_arguments():
    with pytest.raises(InvalidInputError, match="target_language"):
        document().start_translation_request("https://a", "https://b", "")


@pytest.mark.parametrize(
    "location",
    [f"{ENDPOINT}translator/text/batch/v1.1/batches/{BATCH}",
     f"{ENDPOINT}translator/document/batches/{BATCH.upper()}?api-version=2024-05-01"],
)
def test_the_batch_id_comes_from_operation_location(location):
    assert document().parse_batch_id({}, answer(202, b"", {"Operation-Location": location})) == BATCH


def test_a_start_answer_without_operation_location_is_refused():
    with pytest.raises(PermanentError, match="Operation-Location"):
        document().parse_batch_id({}, answer(202, b""))
    with pytest.raises(PermanentError, match="InvalidRequest: no inputs"):
        document().parse_batch_id({}, answer(400, azure_error("InvalidRequest", "no inputs")))


def test_listing_documents_follows_next_links_on_the_endpoint_only():
    protocol = document("2024-05-01")
    first = protocol.list_documents_request(BATCH)
    assert first.url == f"{ENDPOINT}translator/document/batches/{BATCH}/documents"
    page = {"value": [doc_body("Running")], "@nextLink": f"{ENDPOINT}translator/document/batches/{BATCH}/documents?skip=1"}
    documents, next_link = protocol.parse_documents_page(BATCH_REF, answer(body=page))
    assert documents[0]["id"] == DOC
    assert protocol.list_documents_request(BATCH, next_link).url == next_link
    with pytest.raises(PermanentError, match="leaves the endpoint"):
        protocol.list_documents_request(BATCH, "https://elsewhere.example.com/steal")
    with pytest.raises(PermanentError, match="without a document list"):
        protocol.parse_documents_page(BATCH_REF, answer(body={"values": []}))


# -- shared status calls (engine/coalesce.py) --------------------------------------------------


def test_the_shared_call_is_the_batch_document_list_in_pages_of_100_in_both_shapes():
    protocol = document()
    assert protocol.shared_call_key(DOC_REF) == ("documents", BATCH)
    first = protocol.shared_call_request(DOC_REF, None)
    assert first.url == f"{ENDPOINT}translator/text/batch/v1.1/batches/{BATCH}/documents"
    assert dict(first.params) == {"$maxpagesize": "100"}
    assert dict(document("2024-05-01").shared_call_request(DOC_REF, None).params) == {
        "api-version": "2024-05-01", "maxpagesize": "100"}
    link = f"{ENDPOINT}translator/text/batch/v1.1/batches/{BATCH}/documents?$skip=100"
    assert protocol.shared_call_request(DOC_REF, link).url == link
    assert batch().shared_call_key(BATCH_REF) == ("batch", BATCH)
    assert batch().shared_call_request(BATCH_REF, None) == batch().status_request(BATCH_REF)


def test_a_documents_entry_reads_as_its_own_status_call_would():
    protocol = document()
    other = "0a1e40a6-4f2b-4c5e-9d3a-0e8e1f1f2a3b"
    page = {"value": [doc_body("Succeeded", id=DOC.upper()), doc_body("Failed", id=other, error=INNER_ERROR),
                      {"id": "not-a-guid"}, "junk"], "@nextLink": None}
    listed, next_link = protocol.read_shared_page(DOC_REF, answer(body=page), None)
    assert next_link is None and set(listed) == {DOC, other}
    shared = protocol.status_from_shared(DOC_REF, listed, 3.0)
    own = protocol.interpret(DOC_REF, answer(body=doc_body("Succeeded", id=DOC.upper()), headers={"Retry-After": "3"}))
    assert (shared.state, shared.payload, shared.message, shared.progress, shared.retry_after) == (
        own.state, own.payload, own.message, own.progress, own.retry_after)
    failed = protocol.status_from_shared({"batch_id": BATCH, "document_id": other}, listed, None)
    assert failed.state is State.FAILED and failed.message.startswith("InvalidRequest: The document could not")
    missing = {"batch_id": BATCH, "document_id": "11111111-2222-4333-8444-555555555555"}
    with pytest.raises(PermanentError, match="does not hold the document.*HTTP 404") as caught:
        protocol.status_from_shared(missing, listed, None)
    assert caught.value.http_status == 404 and missing["document_id"] in str(caught.value)
    listed[DOC] = {"id": DOC, "error": {"message": f"key {KEY}"}}
    with pytest.raises(PermanentError, match="without a status") as caught:
        protocol.status_from_shared(DOC_REF, listed, None)
    assert KEY not in str(caught.value)


def test_an_entry_without_a_status_is_redacted_before_it_is_cut():
    """A key lying across the excerpt's 200th character shows none of its characters."""
    protocol = document()
    start = len(json.dumps({"id": DOC, "path": ""})) - 2  # where the path's text begins
    for at in (185, 195, 199, 200):
        entry = {"id": DOC, "path": "x" * (at - start) + KEY}
        with pytest.raises(PermanentError, match="without a status") as caught:
            protocol.status_from_shared(DOC_REF, {DOC: entry}, None)
        message = str(caught.value)
        assert not any(KEY[:n] in message for n in range(6, len(KEY) + 1)), (at, message)


@pytest.mark.parametrize("link", [5, {"href": "x"}, ["x"], True])
def test_a_next_link_that_is_not_a_string_is_a_permanent_error(link):
    with pytest.raises(PermanentError, match="@nextLink is not a string") as caught:
        document().read_shared_page(DOC_REF, answer(body={"value": [], "@nextLink": link}), None)
    assert KEY not in str(caught.value) and caught.value.http_status is None


def test_a_refused_list_raises_as_a_status_call_would():
    with pytest.raises(TransientError, match="HTTP 503") as caught:
        document().read_shared_page(DOC_REF, answer(503, azure_error("ServiceUnavailable", "busy"),
                                                     {"Retry-After": "4"}), None)
    assert caught.value.retry_after == 4.0
    with pytest.raises(AuthenticationError):
        batch().read_shared_page(BATCH_REF, answer(401, azure_error("Unauthorized", "no")), None)


@pytest.mark.parametrize("value, shared", [(None, True), ("", True), (True, True), ("TRUE", True), ("yes", True),
                                           (False, False), ("false", False), ("0", False), ("off", False)])
def test_share_status_calls_extra(value, shared):
    extra = {"share_status_calls": value}
    protocol = AzureDocumentStatusProtocol(ConnectionSettings(conn_id="azt", base_url=ENDPOINT, password=KEY, extra=extra))
    assert protocol.share_status_calls is shared
    assert (protocol.shared_call_key(DOC_REF) is None) is not shared


def test_a_bad_share_status_calls_extra_is_refused():
    with pytest.raises(InvalidInputError, match="share_status_calls"):
        AzureDocumentStatusProtocol(ConnectionSettings(conn_id="azt", base_url=ENDPOINT, password=KEY,
                                                       extra={"share_status_calls": "maybe"}))
