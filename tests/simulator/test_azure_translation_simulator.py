"""The simulator's Azure Document Translation API over real sockets: both path shapes, key, lives, headers, faults."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

VENDOR = "azure_translation"
KEY = "sim-azure-translation-key"
V11 = "/azure/translator/text/batch/v1.1/"
GA = "/azure/translator/document/"
SHAPES = {"v1.1": (V11, {}), "ga": (GA, {"api-version": "2024-05-01"})}


@pytest.fixture(params=sorted(SHAPES))
def shape(request) -> tuple[str, dict]:
    return SHAPES[request.param]


def create(sim, script, doc_id: str | None = None) -> str:
    body = {"vendor": VENDOR, "script": script}
    if doc_id is not None:
        body["id"] = doc_id
    answer = requests.post(f"{sim.url}/_sim/documents", json=body, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def get(sim, shape, path: str, key: str | None = KEY, **params) -> requests.Response:
    root, query = shape
    headers = {} if key is None else {"Ocp-Apim-Subscription-Key": key}
    return requests.get(f"{sim.url}{root}{path}", params={**query, **params}, headers=headers, timeout=10)


def stats(sim) -> dict:
    return requests.get(f"{sim.url}/_sim/stats", timeout=5).json()[VENDOR]


# -- documents --------------------------------------------------------------------------------


def test_a_document_answers_in_both_path_shapes_with_retry_after_and_etag(sim, shape):
    stored = create(sim, [{"status": "Running", "polls": 1, "payload": {"progress": 0.4, "retry_after": 7}},
                          {"status": "Succeeded", "payload": {"path": "https://x/target/fr/a.txt"}}])
    batch_id, doc_id = stored.split(":")
    first = get(sim, shape, f"batches/{batch_id}/documents/{doc_id}")
    assert first.status_code == 200 and first.headers["Retry-After"] == "7"
    assert first.headers["ETag"].startswith('"') and first.headers["Content-Type"].startswith("application/json")
    body = first.json()
    assert body["status"] == "Running" and body["progress"] == 0.4 and body["id"] == doc_id
    assert set(body) >= {"path", "sourcePath", "createdDateTimeUtc", "lastActionDateTimeUtc", "to", "characterCharged"}
    second = get(sim, shape, f"batches/{batch_id}/documents/{doc_id}")
    assert second.json()["status"] == "Succeeded" and second.json()["path"] == "https://x/target/fr/a.txt"
    assert second.headers["Retry-After"] == "1" and second.headers["ETag"] != first.headers["ETag"]
    third = get(sim, shape, f"batches/{batch_id}/documents/{doc_id}")
    assert third.headers["ETag"] == second.headers["ETag"]  # nothing changed
    shown = requests.get(f"{sim.url}/_sim/documents/{VENDOR}/{stored}", timeout=5).json()
    assert shown["status_calls"] == 3 and shown["last_headers"]["Ocp-Apim-Subscription-Key"] == "<redacted>"


def test_a_failed_document_carries_an_error_with_an_inner_error(sim, shape):
    batch_id, doc_id = create(sim, [{"status": "Failed", "message": "Corrupt file"}]).split(":")
    error = get(sim, shape, f"batches/{batch_id}/documents/{doc_id}").json()["error"]
    assert error["code"] and error["message"] == "Corrupt file" and error["innerError"]["code"]


def test_statuses_are_sent_as_scripted_in_any_casing(sim):
    batch_id, doc_id = create(sim, [{"status": "canceled"}]).split(":")
    assert get(sim, SHAPES["v1.1"], f"batches/{batch_id}/documents/{doc_id}").json()["status"] == "canceled"


def test_a_wrong_or_missing_key_is_a_401_with_azures_error(sim, shape):
    batch_id, doc_id = create(sim, [{"status": "Running"}]).split(":")
    for key in ("wrong", None):
        answer = get(sim, shape, f"batches/{batch_id}/documents/{doc_id}", key=key)
        assert answer.status_code == 401
        assert answer.json() == {"error": {"code": "Unauthorized", "message": "User is not authorized",
                                           "target": "Document", "innerError": {
                                               "code": "Unauthorized", "message": "Operation is not authorized"}}}
    assert stats(sim)["auth_failures"] == 2
    assert requests.get(f"{sim.url}/_sim/documents/{VENDOR}/{batch_id}:{doc_id}", timeout=5).json()["status_calls"] == 0


@pytest.mark.parametrize("version", [None, "2023-01-01", "v1.1"])
def test_the_ga_shape_needs_a_supported_api_version(sim, version):
    batch_id, doc_id = create(sim, [{"status": "Running"}]).split(":")
    params = {} if version is None else {"api-version": version}
    answer = requests.get(f"{sim.url}{GA}batches/{batch_id}/documents/{doc_id}", params=params,
                          headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidRequest"
    assert requests.get(f"{sim.url}{GA}batches/{batch_id}/documents/{doc_id}", params={"api-version": "2026-03-01"},
                        headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=5).status_code == 200


def test_unknown_ids_and_paths_are_404s_with_azures_error(sim, shape):
    batch_id, _ = create(sim, [{"status": "Running"}]).split(":")
    for path in (f"batches/{batch_id}/documents/{uuid.uuid4()}", f"batches/{uuid.uuid4()}",
                 f"batches/{uuid.uuid4()}/documents", "batches/not-a-guid", "elsewhere"):
        answer = get(sim, shape, path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "ResourceNotFound"
    wrong_method = requests.put(f"{sim.url}{V11}batches/{batch_id}", headers={"Ocp-Apim-Subscription-Key": KEY},
                                timeout=5)
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "GET, DELETE"


def test_delete_cancels_a_batch_its_unfinished_documents_go_cancelling_then_cancelled(sim, shape):
    batch_id, done_id = create(sim, [{"status": "Succeeded"}]).split(":")
    running_id = create(sim, [{"status": "Running"}], doc_id=f"{batch_id}:{uuid.uuid4()}").split(":")[1]
    root, params = shape
    answer = requests.delete(f"{sim.url}{root}batches/{batch_id}", params=params,
                             headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=5)
    assert answer.status_code == 200 and answer.json()["status"] == "Cancelling"
    assert get(sim, shape, f"batches/{batch_id}/documents/{running_id}").json()["status"] == "Cancelling"
    time.sleep(1.1)
    assert get(sim, shape, f"batches/{batch_id}/documents/{running_id}").json()["status"] == "Cancelled"
    assert get(sim, shape, f"batches/{batch_id}/documents/{done_id}").json()["status"] == "Succeeded"
    assert get(sim, shape, f"batches/{batch_id}").json()["summary"]["cancelled"] == 1
    unknown = requests.delete(f"{sim.url}{root}batches/{uuid.uuid4()}", params=params,
                              headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=5)
    assert unknown.status_code == 404
    assert requests.get(f"{sim.url}/_sim/starts/{VENDOR}", timeout=5).json()["cancel_calls"] == 2


def test_scripted_bursts_of_429_and_503_answer_with_azures_errors(sim, shape):
    batch_id, doc_id = create(sim, [{"status": "Running", "fault": "http_429", "retry_after": 4, "polls": 2},
                                    {"fault": "http_503", "polls": 1}, {"status": "Succeeded"}]).split(":")
    path = f"batches/{batch_id}/documents/{doc_id}"
    for _ in range(2):
        answer = get(sim, shape, path)
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "4"
        assert answer.json()["error"]["code"] == "RequestRateTooHigh"
    answer = get(sim, shape, path)
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "ServiceUnavailable"
    assert get(sim, shape, path).json()["status"] == "Succeeded"


def test_a_listed_document_on_a_fault_step_fails_the_page_and_listing_counts_as_a_look(sim):
    """A page holding a document on a fault step answers with it (and its Retry-After); the step is used up."""
    batch_id = str(uuid.uuid4())
    calm = create(sim, [{"status": "Running"}], f"{batch_id}:{uuid.uuid4()}")
    create(sim, [{"status": "NotStarted", "fault": "http_429", "retry_after": 3, "polls": 1}, {"status": "Running"}],
           f"{batch_id}:{uuid.uuid4()}")
    before = stats(sim)["list_calls"]
    faulted = get(sim, SHAPES["v1.1"], f"batches/{batch_id}/documents")
    assert faulted.status_code == 429 and faulted.headers["Retry-After"] == "3"
    assert faulted.json()["error"]["code"] == "RequestRateTooHigh"
    listed = get(sim, SHAPES["v1.1"], f"batches/{batch_id}/documents").json()["value"]
    assert [d["status"] for d in listed] == ["Running", "Running"]
    assert stats(sim)["list_calls"] == before + 2
    shown = requests.get(f"{sim.url}/_sim/documents/{VENDOR}/{calm}", timeout=5).json()
    assert shown["status_calls"] == 2 and shown["calls"][0]["path"].endswith("/documents")


def test_the_document_list_pages_with_next_links(sim, shape):
    """50 a page by default, ``$maxpagesize`` up to 100; ``@nextLink`` is absolute and keeps the API version."""
    batch_id = str(uuid.uuid4())
    for _ in range(120):
        create(sim, [{"status": "Running"}], f"{batch_id}:{uuid.uuid4()}")
    first = get(sim, shape, f"batches/{batch_id}/documents").json()
    assert len(first["value"]) == 50 and first["@nextLink"].startswith(sim.url)
    key = {"Ocp-Apim-Subscription-Key": KEY}
    ids, page = [], get(sim, shape, f"batches/{batch_id}/documents", **{"$maxpagesize": "500"}).json()
    sizes = []
    while True:
        sizes.append(len(page["value"]))
        ids += [d["id"] for d in page["value"]]
        if "@nextLink" not in page:
            break
        page = requests.get(page["@nextLink"], headers=key, timeout=10).json()
    assert sizes == [100, 20] and len(set(ids)) == 120
    assert get(sim, shape, f"batches/{batch_id}/documents", **{"$skip": "x"}).status_code == 400


# -- batches ----------------------------------------------------------------------------------


def test_a_batch_derives_its_status_and_summary_from_its_documents(sim, shape):
    batch_id = str(uuid.uuid4())
    ids = [create(sim, script, f"{batch_id}:{uuid.uuid4()}").split(":")[1]
           for script in ([{"status": "Succeeded"}], [{"status": "Failed"}], [{"status": "Running"}])]
    answer = get(sim, shape, f"batches/{batch_id}")
    assert answer.status_code == 200 and "ETag" in answer.headers and answer.headers["Retry-After"] == "1"
    body = answer.json()
    assert body["id"] == batch_id and body["status"] == "Running"
    assert body["summary"] == {"total": 3, "failed": 1, "success": 1, "inProgress": 1, "notYetStarted": 0,
                               "cancelled": 0, "totalCharacterCharged": 1200}
    listed = get(sim, shape, f"batches/{batch_id}/documents").json()["value"]
    assert [d["id"] for d in listed] == ids and [d["status"] for d in listed] == ["Succeeded", "Failed", "Running"]


@pytest.mark.parametrize(
    ("statuses", "derived"),
    [(["NotStarted", "NotStarted"], "NotStarted"), (["Succeeded", "Failed"], "Succeeded"),
     (["Failed", "ValidationFailed"], "Failed"), (["Cancelled", "Canceled"], "Cancelled"),
     (["Cancelling", "Succeeded"], "Running")],
)
def test_derived_batch_statuses(sim, statuses, derived):
    batch_id = str(uuid.uuid4())
    for status in statuses:
        create(sim, [{"status": status}], f"{batch_id}:{uuid.uuid4()}")
    body = get(sim, SHAPES["v1.1"], f"batches/{batch_id}").json()
    assert body["status"] == derived
    assert ("error" in body) == (derived == "Failed")


def test_a_scripted_batch_answers_its_script_with_faults_and_a_summary_override(sim, shape):
    batch_id = create(sim, [{"fault": "http_429", "retry_after": 2, "polls": 1},
                            {"status": "Running", "polls": 1},
                            {"status": "Succeeded", "payload": {"summary": {"total": 4, "success": 3, "failed": 1}}}],
                      str(uuid.uuid4()))
    create(sim, [{"status": "Succeeded"}], f"{batch_id}:{uuid.uuid4()}")
    limited = get(sim, shape, f"batches/{batch_id}")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert get(sim, shape, f"batches/{batch_id}").json()["summary"]["success"] == 1  # derived from its document
    done = get(sim, shape, f"batches/{batch_id}").json()
    assert done["status"] == "Succeeded"
    assert done["summary"] == {"total": 4, "failed": 1, "success": 3, "inProgress": 0, "notYetStarted": 0,
                               "cancelled": 0, "totalCharacterCharged": 1200}


def test_starting_a_batch_answers_202_with_operation_location_in_its_shape(sim, shape):
    root, query = shape
    body = {"inputs": [{"source": {"sourceUrl": "https://acct.blob.core.windows.net/src?sv=1&sig=s"},
                        "targets": [{"targetUrl": "https://acct.blob.core.windows.net/out-fr?sig=t", "language": "fr"},
                                    {"targetUrl": "https://acct.blob.core.windows.net/out-de?sig=t", "language": "de"}]}]}
    answer = requests.post(f"{sim.url}{root}batches", params=query, json=body,
                           headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=5)
    assert answer.status_code == 202, answer.text
    location = answer.headers["Operation-Location"]
    batch_id = location.split("?")[0].rsplit("/", 1)[1]
    assert location == f"{sim.url}{root}batches/{batch_id}" + (f"?api-version={query['api-version']}" if query else "")
    listed = get(sim, shape, f"batches/{batch_id}/documents").json()["value"]
    assert sorted((d["to"], d["sourcePath"], d["path"]) for d in listed) == [
        ("de", "https://acct.blob.core.windows.net/src/document-1.txt", "https://acct.blob.core.windows.net/out-de/document-1.txt"),
        ("de", "https://acct.blob.core.windows.net/src/document-2.txt", "https://acct.blob.core.windows.net/out-de/document-2.txt"),
        ("fr", "https://acct.blob.core.windows.net/src/document-1.txt", "https://acct.blob.core.windows.net/out-fr/document-1.txt"),
        ("fr", "https://acct.blob.core.windows.net/src/document-2.txt", "https://acct.blob.core.windows.net/out-fr/document-2.txt"),
    ]
    assert stats(sim)["start_calls"] == 1
    deadline = time.monotonic() + 8
    while get(sim, shape, f"batches/{batch_id}").json()["status"] != "Succeeded":
        assert time.monotonic() < deadline, "the default script should finish in about 2.5 s"
        time.sleep(0.2)


@pytest.mark.parametrize(
    "body",
    [None, {}, {"inputs": []}, {"inputs": [{"source": {}, "targets": [{"targetUrl": "x", "language": "fr"}]}]},
     {"inputs": [{"source": {"sourceUrl": "x"}, "targets": []}]},
     {"inputs": [{"source": {"sourceUrl": "x"}, "targets": [{"targetUrl": "y"}]}]}],
)
def test_a_bad_start_request_is_a_400(sim, body):
    answer = requests.post(f"{sim.url}{V11}batches", json=body, headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidRequest"
    assert stats(sim)["start_calls"] == 0


def test_a_file_source_naming_a_script_runs_it(sim):
    body = {"inputs": [{"source": {"sourceUrl": "https://acct.blob.core.windows.net/in/validation_failed.docx"},
                        "storageType": "File",
                        "targets": [{"targetUrl": "https://acct.blob.core.windows.net/out", "language": "fr"}]}]}
    answer = requests.post(f"{sim.url}{V11}batches", json=body, headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=5)
    batch_id = answer.headers["Operation-Location"].rsplit("/", 1)[1]
    (document,) = get(sim, SHAPES["v1.1"], f"batches/{batch_id}/documents").json()["value"]
    assert document["path"] == "https://acct.blob.core.windows.net/out/validation_failed.docx"
    deadline = time.monotonic() + 5
    while document["status"] == "NotStarted" and time.monotonic() < deadline:
        time.sleep(0.1)
        document = get(sim, SHAPES["v1.1"], f"batches/{batch_id}/documents/{document['id']}").json()
    assert document["status"] == "ValidationFailed"
    assert document["error"]["innerError"]["code"] == "InvalidDocumentAccessLevel"


# -- admin ids --------------------------------------------------------------------------------


def test_admin_ids_are_batch_or_batch_colon_document_guids(sim):
    stored = create(sim, [{"status": "Running"}])
    batch_id, doc_id = stored.split(":")
    assert uuid.UUID(batch_id) and uuid.UUID(doc_id)
    upper = create(sim, [{"status": "Running"}], stored.upper())
    assert upper == stored
    for bad in ("nope", f"{batch_id}:nope", f"{batch_id}:{doc_id}:{doc_id}"):
        answer = requests.post(f"{sim.url}/_sim/documents", json={"vendor": VENDOR, "id": bad, "script": "default"},
                               timeout=5)
        assert answer.status_code == 400
    answer = requests.post(f"{sim.url}/_sim/documents", json={"vendor": VENDOR, "script": [{"status": 3}]}, timeout=5)
    assert answer.status_code == 400 and "non-empty string" in answer.json()["error"]


def test_health_and_stats_list_azure(sim):
    assert VENDOR in requests.get(f"{sim.url}/_sim/health", timeout=5).json()["vendors"]
    assert stats(sim) == {"status_calls": 0, "start_calls": 0, "auth_failures": 0, "ready_calls": 0, "list_calls": 0}
