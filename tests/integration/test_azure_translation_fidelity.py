"""Fidelity check: Microsoft's own client, ``azure-ai-translation-document``, reads the simulator correctly.

If the official client parses the simulator's answers (document status,
batch status, errors, the start-and-poll flow), the simulator speaks the real
GA protocol, and the provider's tests against it mean something. The client
talks plain http to the loopback simulator: ``AzureKeyCredential`` does not
insist on https.
"""

from __future__ import annotations

import uuid

import pytest

pytest.importorskip("azure.ai.translation.document")

from azure.ai.translation.document import DocumentTranslationClient  # noqa: E402
from azure.core.credentials import AzureKeyCredential  # noqa: E402
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError  # noqa: E402

VENDOR = "azure_translation"
KEY = "sim-azure-translation-key"
PATH = "https://simstorage.blob.core.windows.net/target/fr/report.docx"
ERROR = {"code": "InvalidRequest", "message": "The document could not be translated.", "target": "Document",
         "innerError": {"code": "NoTranslatableText", "message": "No translatable text found in the input document."}}


@pytest.fixture(params=["2024-05-01", "2026-03-01"])
def client(request, simulator):
    with DocumentTranslationClient(f"{simulator.url}/azure", AzureKeyCredential(KEY), api_version=request.param,
                                   retry_total=0) as official:
        yield official


def test_the_official_client_reads_a_document_status(client, simulator):
    batch_id, doc_id = str(uuid.uuid4()), str(uuid.uuid4())
    simulator.create(VENDOR, [{"status": "Running", "polls": 1, "payload": {"progress": 0.25}},
                              {"status": "Succeeded", "payload": {"path": PATH, "characterCharged": 321}}],
                     f"{batch_id}:{doc_id}")
    running = client.get_document_status(batch_id, doc_id)
    assert (running.id, running.status, running.translation_progress) == (doc_id, "Running", 0.25)
    done = client.get_document_status(batch_id, doc_id)
    assert done.status == "Succeeded" and done.translated_document_url == PATH
    assert done.translated_to == "fr" and done.characters_charged == 321 and done.translation_progress == 1.0
    assert done.created_on.tzinfo is not None and done.last_updated_on >= done.created_on
    assert done.source_document_url.startswith("https://")


def test_the_official_client_reads_a_failed_documents_error(client, simulator):
    batch_id, doc_id = str(uuid.uuid4()), str(uuid.uuid4())
    simulator.create(VENDOR, [{"status": "Failed", "payload": {"error": ERROR}}], f"{batch_id}:{doc_id}")
    failed = client.get_document_status(batch_id, doc_id)
    assert failed.status == "Failed"
    # The client promotes the inner error's code, the more specific one, to error.code.
    assert failed.error.code == "NoTranslatableText" and failed.error.message == ERROR["message"]
    assert failed.error.inner_error.message == ERROR["innerError"]["message"]


def test_the_official_client_reads_a_batch_status(client, simulator):
    batch_id = str(uuid.uuid4())
    for status in ("Succeeded", "Failed", "Running", "NotStarted"):
        simulator.create(VENDOR, [{"status": status}], f"{batch_id}:{uuid.uuid4()}")
    batch = client.get_translation_status(batch_id)
    assert batch.id == batch_id and batch.status == "Running"
    summary = batch.summary
    assert (summary.total, summary.success, summary.failed, summary.in_progress, summary.not_yet_started,
            summary.canceled, summary.total_characters_charged) == (4, 1, 1, 1, 1, 0, 1200)
    listed = list(client.list_document_statuses(batch_id))
    assert sorted(d.status for d in listed) == ["Failed", "NotStarted", "Running", "Succeeded"]


def test_the_official_client_starts_a_batch_and_polls_it_to_the_end(client):
    poller = client.begin_translation("https://acct.blob.core.windows.net/source?sig=s",
                                      "https://acct.blob.core.windows.net/target?sig=t", "es", polling_interval=0.2)
    assert uuid.UUID(poller.id)
    documents = list(poller.result(timeout=20))
    assert poller.status() == "Succeeded" and poller.details.summary.success == 2
    assert sorted(d.translated_document_url for d in documents) == [
        "https://acct.blob.core.windows.net/target/document-1.txt",
        "https://acct.blob.core.windows.net/target/document-2.txt",
    ]


def test_the_official_client_reads_the_simulators_errors(simulator):
    batch_id, doc_id = str(uuid.uuid4()), str(uuid.uuid4())
    simulator.create(VENDOR, [{"status": "Running", "fault": "http_429", "retry_after": 0, "polls": 1},
                              {"status": "Running"}], f"{batch_id}:{doc_id}")
    with DocumentTranslationClient(f"{simulator.url}/azure", AzureKeyCredential("wrong"), retry_total=0) as wrong:
        with pytest.raises(ClientAuthenticationError) as caught:
            wrong.get_document_status(batch_id, doc_id)
        assert caught.value.error.code == "Unauthorized"
    with DocumentTranslationClient(f"{simulator.url}/azure", AzureKeyCredential(KEY), retry_total=0) as official:
        with pytest.raises(ResourceNotFoundError) as missing:
            official.get_document_status(batch_id, str(uuid.uuid4()))
        assert missing.value.error.code == "ResourceNotFound"
        with pytest.raises(HttpResponseError) as limited:
            official.get_document_status(batch_id, doc_id)
        assert limited.value.status_code == 429 and limited.value.error.code == "RequestRateTooHigh"
        assert official.get_document_status(batch_id, doc_id).status == "Running"
