"""Azure Document Translation hooks against the simulator, over a real socket, in both API shapes."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    InvalidInputError,
    PermanentError,
    TransientError,
)
from airflow_docstatus.engine.status import State
from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook, AzureTranslationBatchHook

VENDOR = "azure_translation"
CONN_TYPE = "azure_document_translation"
PATH = "https://simstorage.blob.core.windows.net/target/fr/report.docx"
LIFE = [
    {"status": "NotStarted", "polls": 1},
    {"status": "Running", "polls": 1, "payload": {"progress": 0.5}},
    {"status": "Succeeded", "payload": {"path": PATH, "progress": 1}},
]


def create_document(simulator, script, batch_id: str | None = None) -> tuple[str, str]:
    """A scripted document (in a batch of its own unless ``batch_id`` is given): (batch_id, document_id)."""
    stored = simulator.create(VENDOR, script, f"{batch_id or uuid.uuid4()}:{uuid.uuid4()}")
    batch, document = stored.split(":")
    return batch, document


@pytest.fixture(params=["v1.1", "2024-05-01"])
def hook(request, connection):
    """The document hook on a connection of each API shape."""
    return AzureDocumentTranslationHook(connection(f"azt_{request.param}", CONN_TYPE, extra={"api_version": request.param}))


def test_a_document_goes_from_not_started_to_its_path(hook, simulator):
    batch_id, doc_id = create_document(simulator, LIFE)
    seen = [hook.check_status(batch_id=batch_id, document_id=doc_id) for _ in range(3)]
    assert [s.vendor_status for s in seen] == ["NotStarted", "Running", "Succeeded"]
    assert [s.state for s in seen] == [State.WAITING, State.WAITING, State.SUCCEEDED]
    assert [s.progress for s in seen] == [0.0, 0.5, 1.0]
    assert seen[-1].payload == PATH
    calls = simulator.document(VENDOR, f"{batch_id}:{doc_id}")["calls"]
    api_version = hook.protocol.api_version
    expected = (f"/azure/translator/text/batch/v1.1/batches/{batch_id}/documents/{doc_id}" if api_version == "v1.1"
                else f"/azure/translator/document/batches/{batch_id}/documents/{doc_id}?api-version={api_version}")
    assert [c["path"] for c in calls] == [expected] * 3
    assert simulator.document(VENDOR, f"{batch_id}:{doc_id}")["last_headers"]["Ocp-Apim-Subscription-Key"] == "<redacted>"


@pytest.mark.parametrize(
    ("final", "state"),
    [("Succeeded", State.SUCCEEDED), ("Failed", State.FAILED), ("ValidationFailed", State.FAILED),
     ("Cancelled", State.FAILED), ("Canceled", State.FAILED), ("succeeded", State.SUCCEEDED),
     ("Cancelling", State.WAITING), ("NotStarted", State.WAITING), ("Running", State.WAITING)],
)
def test_every_status_over_the_wire(sim_connections, final, state):
    batch_id, doc_id = create_document(sim_connections, [{"status": final}])
    status = AzureDocumentTranslationHook().check_status(batch_id=batch_id, document_id=doc_id)
    assert (status.vendor_status, status.state) == (final, state)


def test_a_failed_document_reports_azures_error_with_its_inner_error(sim_connections):
    batch_id, doc_id = create_document(sim_connections, "failed")
    hook = AzureDocumentTranslationHook()
    deadline = time.monotonic() + 5
    status = hook.check_status(batch_id=batch_id, document_id=doc_id)
    while status.state is State.WAITING and time.monotonic() < deadline:
        time.sleep(0.1)
        status = hook.check_status(batch_id=batch_id, document_id=doc_id)
    assert status.state is State.FAILED and status.vendor_status == "Failed"
    assert status.message == (
        "InvalidRequest: The document could not be translated. (target Document); "
        "inner error NoTranslatableText: No translatable text found in the input document."
    )


def test_retry_after_on_a_200_reaches_the_status(sim_connections):
    batch_id, doc_id = create_document(
        sim_connections, [{"status": "Running", "polls": 1, "payload": {"retry_after": 7}}, {"status": "Running"}]
    )
    hook = AzureDocumentTranslationHook()
    assert hook.check_status(batch_id=batch_id, document_id=doc_id).retry_after == 7.0
    assert hook.check_status(batch_id=batch_id, document_id=doc_id).retry_after == 1.0  # the simulator's default


@pytest.mark.parametrize(
    ("fault", "words"),
    [({"fault": "http_429", "retry_after": 4}, "HTTP 429 (too many requests): RequestRateTooHigh"),
     ({"fault": "http_503"}, "HTTP 503 (service unavailable): ServiceUnavailable"),
     ({"fault": "http_500"}, "HTTP 500"),
     ({"fault": "reset"}, "failed")],
)
def test_rate_limits_and_outages_are_transient(sim_connections, fault, words):
    batch_id, doc_id = create_document(sim_connections, [{"status": "Running", **fault, "polls": 1}, {"status": "Succeeded"}])
    hook = AzureDocumentTranslationHook()
    with pytest.raises(TransientError, match=re.escape(words)) as caught:
        hook.check_status(batch_id=batch_id, document_id=doc_id)
    if "retry_after" in fault:
        assert caught.value.retry_after == 4
    assert hook.check_status(batch_id=batch_id, document_id=doc_id).state is State.SUCCEEDED


def test_a_wrong_key_fails_at_once_without_the_key(connection, simulator):
    batch_id, doc_id = create_document(simulator, LIFE)
    conn_id = connection("azt_wrong", CONN_TYPE, password="canary-wrong-key-789")
    with pytest.raises(AuthenticationError) as caught:
        AzureDocumentTranslationHook(conn_id).check_status(batch_id=batch_id, document_id=doc_id)
    text = str(caught.value)
    assert "'azt_wrong'" in text and "HTTP 401" in text and "Unauthorized: User is not authorized" in text
    assert "canary-wrong-key-789" not in text
    assert simulator.document(VENDOR, f"{batch_id}:{doc_id}")["status_calls"] == 0


def test_an_unknown_document_is_a_404_naming_the_ids(sim_connections):
    batch_id, _ = create_document(sim_connections, LIFE)
    missing = str(uuid.uuid4())
    with pytest.raises(PermanentError, match="HTTP 404") as caught:
        AzureDocumentTranslationHook().check_status(batch_id=batch_id, document_id=missing)
    assert batch_id in str(caught.value) and missing in str(caught.value)
    assert "ResourceNotFound" in str(caught.value)


def test_bad_settings_and_ids_fail_before_any_call(connection, sim_connections):
    before = sim_connections.stats()[VENDOR]["status_calls"]
    batch_id, doc_id = str(uuid.uuid4()), str(uuid.uuid4())
    with pytest.raises(InvalidInputError, match="api_version"):
        AzureDocumentTranslationHook(connection("azt_v2", CONN_TYPE, extra={"api_version": "v2"})).check_status(
            batch_id=batch_id, document_id=doc_id)
    with pytest.raises(InvalidInputError, match="custom-domain endpoint"):
        AzureDocumentTranslationHook(connection("azt_nohost", CONN_TYPE, host="")).check_status(
            batch_id=batch_id, document_id=doc_id)
    with pytest.raises(InvalidInputError, match="must be a GUID"):
        AzureDocumentTranslationHook().check_status(batch_id="batch-7", document_id=doc_id)
    assert sim_connections.stats()[VENDOR]["status_calls"] == before


def test_start_a_batch_list_its_documents_and_follow_it_to_the_end(hook, simulator):
    batch_id = hook.start_translation("https://acct.blob.core.windows.net/source?sv=1&sig=x",
                                      "https://acct.blob.core.windows.net/target?sv=1&sig=y", "de")
    documents = hook.list_documents(batch_id)
    assert [d["path"] for d in documents] == [
        "https://acct.blob.core.windows.net/target/document-1.txt",
        "https://acct.blob.core.windows.net/target/document-2.txt",
    ]
    assert {d["to"] for d in documents} == {"de"}
    first = hook.get_batch_status(batch_id)
    assert first.state is State.WAITING and first.payload["summary"]["total"] == 2
    deadline = time.monotonic() + 10
    status = hook.check_status(batch_id=batch_id, document_id=documents[0]["id"])
    while status.state is State.WAITING and time.monotonic() < deadline:
        time.sleep(0.2)
        status = hook.check_status(batch_id=batch_id, document_id=documents[0]["id"])
    assert status.state is State.SUCCEEDED and status.payload == documents[0]["path"]
    time.sleep(0.2)
    batch = hook.get_batch_status(batch_id)
    assert batch.state is State.SUCCEEDED and batch.payload["summary"]["success"] == 2
    assert simulator.stats()[VENDOR]["start_calls"] >= 1


def test_a_batch_whose_source_names_a_failing_script_fails_on_its_summary(sim_connections):
    hook = AzureDocumentTranslationHook()
    batch_id = hook.start_translation("https://acct.blob.core.windows.net/failed", "https://acct.blob/out", "fr",
                                      storage_type="File")
    assert len(hook.list_documents(batch_id)) == 1
    deadline = time.monotonic() + 10
    while hook.get_batch_status(batch_id, fail_on_document_failures=False).state is State.WAITING:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    batch = hook.get_batch_status(batch_id, fail_on_document_failures=False)
    assert batch.vendor_status == "Failed" and batch.state is State.FAILED  # every document failed


def test_the_batch_hook_checks_a_scripted_batch(sim_connections):
    batch_id = str(uuid.uuid4())
    sim_connections.create(VENDOR, [{"status": "Running", "polls": 1},
                                    {"status": "Succeeded", "payload": {"summary": {"total": 3, "success": 2,
                                                                                    "failed": 1}}}], batch_id)
    strict, lenient = AzureTranslationBatchHook(), AzureTranslationBatchHook(fail_on_document_failures=False)
    assert strict.check_status(batch_id=batch_id).state is State.WAITING
    failed = strict.check_status(batch_id=batch_id)
    assert failed.state is State.FAILED and failed.message.startswith("1 of 3 document(s) failed")
    accepted = lenient.check_status(batch_id=batch_id)
    assert accepted.state is State.SUCCEEDED and accepted.payload["summary"]["failed"] == 1
