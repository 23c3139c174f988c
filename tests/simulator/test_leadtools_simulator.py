"""The simulator over real sockets: LEADTOOLS routes, faults, admin API and the CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from airflow_docstatus.simulator import serve_in_thread
from airflow_docstatus.simulator.app import ThreadedSimulator

APP_ID, PASSWORD = "sim-leadtools-app", "sim-leadtools-secret"
AUTH = (APP_ID, PASSWORD)
TEXT = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"PageNumber": 1, "Text": "hi"}]}]
REPO_ROOT = Path(__file__).resolve().parents[2]


def create(sim: ThreadedSimulator, script, doc_id: str | None = None) -> str:
    body = {"vendor": "leadtools", "script": script}
    if doc_id is not None:
        body["id"] = doc_id
    answer = requests.post(f"{sim.url}/_sim/documents", json=body, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def query(sim: ThreadedSimulator, doc_id: str, method: str = "POST", auth=AUTH) -> requests.Response:
    return requests.request(method, f"{sim.leadtools_base}Query", params={"id": doc_id}, auth=auth, timeout=10)


def call(sim: ThreadedSimulator, path: str, **params: str) -> requests.Response:
    return requests.post(f"{sim.leadtools_base}{path}", params=params, auth=AUTH, timeout=10)


def document(sim: ThreadedSimulator, doc_id: str) -> dict:
    answer = requests.get(f"{sim.url}/_sim/documents/leadtools/{doc_id}", timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def stats(sim: ThreadedSimulator) -> dict:
    return requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["leadtools"]


def wait_for_status(sim: ThreadedSimulator, doc_id: str, wanted: int, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = query(sim, doc_id).json()
        if body["FileStatus"] == wanted or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


# -- Query ----------------------------------------------------------------------


def test_handle_attributes(server):
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.leadtools_base == f"{server.url}/leadtools/api/"
    health = requests.get(f"{server.url}/_sim/health", timeout=5).json()
    assert health["status"] == "ok"
    assert health["vendors"][0] == "leadtools"  # more vendors follow, in VENDOR_MODULES order


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_query_by_get_and_post(sim, method):
    doc_id = create(sim, [{"status": 100}])
    answer = query(sim, doc_id, method)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {"FileStatus": 100, "RequestData": []}
    assert document(sim, doc_id)["calls"][0]["method"] == method


def test_query_path_is_case_insensitive(sim):
    doc_id = create(sim, [{"status": 100}])
    for path in ("query", "QUERY", "Query/"):
        answer = requests.get(f"{sim.leadtools_base}{path}", params={"id": doc_id}, auth=AUTH, timeout=5)
        assert answer.json()["FileStatus"] == 100, path


@pytest.mark.parametrize("auth", [None, (APP_ID, "wrong"), ("someone-else", PASSWORD)])
def test_bad_or_missing_credentials_are_401(sim, auth):
    doc_id = create(sim, [{"status": 100}])
    answer = query(sim, doc_id, auth=auth)
    assert answer.status_code == 401
    assert answer.text == "The AppID/Password combination is not valid"
    assert stats(sim)["auth_failures"] == 1
    assert document(sim, doc_id)["status_calls"] == 0


def test_non_basic_authorization_is_401(sim):
    doc_id = create(sim, [{"status": 100}])
    answer = requests.get(
        f"{sim.leadtools_base}Query", params={"id": doc_id}, headers={"Authorization": "Bearer x"}, timeout=5
    )
    assert answer.status_code == 401


@pytest.mark.parametrize("bad_id", ["not-a-guid", "", "1234"])
def test_malformed_guid_is_400(sim, bad_id):
    answer = query(sim, bad_id)
    assert answer.status_code == 400
    assert answer.text == "Invalid GUID was provided"


def test_unknown_guid_is_401_like_the_vendor(sim):
    answer = query(sim, str(uuid.uuid4()))
    assert answer.status_code == 401
    assert answer.text == (
        "The AppID/Password combination is not valid, or does not correspond with the GUID provided."
    )


def test_guid_casing_and_braces_are_accepted(sim):
    doc_id = create(sim, [{"status": 100}])
    assert query(sim, doc_id.upper()).json()["FileStatus"] == 100
    assert query(sim, "{" + doc_id + "}").json()["FileStatus"] == 100


def test_life_from_verification_to_done_with_request_data(sim):
    doc_id = create(
        sim,
        [{"status": 123, "seconds": 0.2}, {"status": 100, "seconds": 0.2}, {"status": 200, "payload": TEXT}],
    )
    first = query(sim, doc_id).json()
    assert first == {"FileStatus": 123, "RequestData": []}
    time.sleep(0.25)
    assert query(sim, doc_id).json() == {"FileStatus": 100, "RequestData": []}
    time.sleep(0.2)
    assert query(sim, doc_id).json() == {"FileStatus": 200, "RequestData": TEXT}


def test_payload_is_hidden_unless_status_is_200(sim):
    doc_id = create(sim, [{"status": 500, "payload": TEXT}])
    assert query(sim, doc_id).json() == {"FileStatus": 500, "RequestData": []}


# -- single-service calls, UploadFile, Run, DeleteRequest ------------------------------


def test_extract_text_returns_a_guid_and_runs_the_default_script(sim):
    answer = call(sim, "Recognition/ExtractText", fileurl="https://example.com/invoice.pdf", firstPage="1", lastPage="-1")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    doc_id = str(uuid.UUID(answer.text))
    assert doc_id == answer.text
    body = query(sim, doc_id).json()
    assert body == {"FileStatus": 123, "RequestData": []}
    assert document(sim, doc_id)["current_step"] == {"status": 123, "seconds": 1.0}
    assert stats(sim)["start_calls"] == 1


def test_extract_text_uses_the_script_named_by_the_fileurl(sim):
    doc_id = call(sim, "Recognition/ExtractText", fileurl="https://example.com/scans/rejected.pdf").text
    assert wait_for_status(sim, doc_id, 502, timeout=3)["FileStatus"] == 502


def test_extract_all_barcodes_defaults_to_the_barcode_script(sim):
    doc_id = call(sim, "recognition/extractallbarcodes", fileurl="https://example.com/scan.png").text
    body = wait_for_status(sim, doc_id, 200, timeout=4)
    assert body["FileStatus"] == 200
    assert body["RequestData"][0]["RecognitionType"] == "Barcode"
    assert body["RequestData"][0]["data"][0]["Value"] == "https://example.com/inv/42"


def test_extract_text_without_fileurl_is_400(sim):
    answer = call(sim, "Recognition/ExtractText")
    assert answer.status_code == 400
    assert stats(sim)["start_calls"] == 0


def test_only_post_is_allowed_on_extract_text(sim):
    answer = requests.get(
        f"{sim.leadtools_base}Recognition/ExtractText", params={"fileurl": "x"}, auth=AUTH, timeout=5
    )
    assert answer.status_code == 405


def test_unknown_leadtools_path_is_404(sim):
    assert call(sim, "Nope").status_code == 404


def test_upload_then_run(sim):
    upload = call(sim, "UploadFile", fileurl="https://example.com/contract.pdf")
    assert upload.status_code == 200
    doc_id = upload.text
    assert query(sim, doc_id).json()["FileStatus"] == 123
    assert wait_for_status(sim, doc_id, 122, timeout=3)["FileStatus"] == 122
    queued = call(sim, "Recognition/ExtractText", id=doc_id)
    assert (queued.status_code, queued.text) == (200, "")
    assert call(sim, "Run", id=doc_id).status_code == 200
    assert query(sim, doc_id).json()["FileStatus"] == 100  # the default script past its 123 step
    assert call(sim, "Run", id=doc_id).status_code == 400  # already run
    assert call(sim, "Recognition/ExtractText", id=doc_id).status_code == 400
    assert stats(sim)["start_calls"] == 1


def test_run_uses_the_script_named_by_the_uploaded_fileurl(sim):
    doc_id = call(sim, "UploadFile", fileurl="https://example.com/failed.pdf").text
    assert call(sim, "Run", id=doc_id).status_code == 200
    assert query(sim, doc_id).json()["FileStatus"] == 100
    assert document(sim, doc_id)["current_step"] == {"status": 100, "seconds": 1.0}
    assert wait_for_status(sim, doc_id, 500, timeout=3)["FileStatus"] == 500


def test_run_and_queueing_need_an_uploaded_file(sim):
    single = call(sim, "Recognition/ExtractText", fileurl="https://example.com/a.pdf").text
    assert call(sim, "Run", id=single).status_code == 400
    assert call(sim, "Recognition/ExtractText", id=single).status_code == 400
    assert call(sim, "Run", id="nope").status_code == 400
    assert call(sim, "Run", id=str(uuid.uuid4())).status_code == 401


def test_delete_request_rules(sim):
    processing = create(sim, [{"status": 100}])
    verifying = create(sim, [{"status": 123}])
    done = create(sim, [{"status": 200, "payload": TEXT}])
    assert call(sim, "DeleteRequest", id=processing).status_code == 400
    assert call(sim, "DeleteRequest", id=verifying).status_code == 400
    assert query(sim, processing).json()["FileStatus"] == 100
    assert call(sim, "DeleteRequest", id=done).status_code == 200
    assert query(sim, done).json() == {"FileStatus": 501, "RequestData": []}
    assert query(sim, done).json()["FileStatus"] == 501
    assert call(sim, "DeleteRequest", id="bad").status_code == 400
    assert call(sim, "DeleteRequest", id=str(uuid.uuid4())).status_code == 401


# -- faults -------------------------------------------------------------------


@pytest.mark.parametrize("fault,code", [("http_500", 500), ("http_502", 502), ("http_503", 503)])
def test_http_error_faults(sim, fault, code):
    doc_id = create(sim, [{"fault": fault, "polls": 1}, {"status": 200, "payload": TEXT}])
    assert query(sim, doc_id).status_code == code
    assert query(sim, doc_id).json()["FileStatus"] == 200


def test_429_carries_retry_after(sim):
    doc_id = create(sim, [{"fault": "http_429", "retry_after": 7, "polls": 1}, {"status": 100}])
    answer = query(sim, doc_id)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert query(sim, doc_id).status_code == 200


def test_reset_drops_the_connection(sim):
    doc_id = create(sim, [{"fault": "reset", "polls": 1}, {"status": 100}])
    with requests.Session() as session:
        with pytest.raises(requests.ConnectionError):
            session.post(f"{sim.leadtools_base}Query", params={"id": doc_id}, auth=AUTH, timeout=5)
        after = session.post(f"{sim.leadtools_base}Query", params={"id": doc_id}, auth=AUTH, timeout=5)
    assert after.json()["FileStatus"] == 100
    assert document(sim, doc_id)["status_calls"] == 2


def test_slow_answers_late_with_the_current_status(sim):
    doc_id = create(sim, [{"status": 100, "fault": "slow", "delay": 0.4, "polls": 1}, {"status": 200}])
    started = time.monotonic()
    answer = query(sim, doc_id)
    assert time.monotonic() - started >= 0.4
    assert answer.json() == {"FileStatus": 100, "RequestData": []}
    slower = create(sim, [{"status": 100, "fault": "slow", "delay": 1.0}])
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{sim.leadtools_base}Query", params={"id": slower}, auth=AUTH, timeout=0.2)


def test_html_fault_is_a_502_html_page(sim):
    doc_id = create(sim, [{"fault": "html"}])
    answer = query(sim, doc_id)
    assert answer.status_code == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.startswith("<!DOCTYPE html>")


def test_garbled_fault_is_truncated_json(sim):
    doc_id = create(sim, [{"status": 200, "payload": TEXT, "fault": "garbled"}])
    answer = query(sim, doc_id)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.text.startswith('{"FileStatus": 200')
    with pytest.raises(ValueError):
        answer.json()
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.text)


# -- admin API ----------------------------------------------------------------


def test_admin_document_view_and_counters(sim):
    doc_id = create(sim, [{"status": 123, "polls": 1}, {"status": 100}])
    query(sim, doc_id, "GET")
    query(sim, doc_id, "POST")
    query(sim, "bad-guid")
    query(sim, doc_id, auth=("x", "y"))
    view = document(sim, doc_id)
    assert view["vendor"] == "leadtools" and view["id"] == doc_id
    assert view["status"] == 100 and view["step"] == 1 and view["status_calls"] == 2
    assert [c["method"] for c in view["calls"]] == ["GET", "POST"]
    assert view["calls"][0]["path"] == f"/leadtools/api/Query?id={doc_id}"
    assert abs(view["calls"][0]["t"] - time.time()) < 60
    assert view["last_headers"]["Authorization"] == "<redacted>"
    assert PASSWORD not in json.dumps(view)
    assert stats(sim) == {"status_calls": 3, "start_calls": 0, "auth_failures": 1, "ready_calls": 0}


def test_admin_create_with_id_name_and_default(sim):
    chosen = str(uuid.uuid4())
    assert create(sim, "rejected", doc_id=chosen.upper()) == chosen
    assert document(sim, chosen)["current_step"] == {"status": 123, "seconds": 1.0}
    default_id = create(sim, None)
    assert str(uuid.UUID(default_id)) == default_id
    assert document(sim, default_id)["status"] == 123


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"vendor": "nobody", "script": [{"status": 1}]}, "unknown vendor 'nobody'"),
        ({"vendor": "leadtools", "script": "no_such_script"}, "unknown script 'no_such_script'"),
        ({"vendor": "leadtools", "script": [{"status": 100, "fault": "teapot"}]}, "unknown fault 'teapot'"),
        ({"vendor": "leadtools", "script": [{"status": 100, "seconds": -2}]}, "'seconds' must be a number >= 0"),
        ({"vendor": "leadtools", "script": [{"status": "done"}]}, "integer FileStatus"),
        ({"vendor": "leadtools", "id": "not-a-guid"}, "not a valid leadtools document id"),
    ],
)
def test_admin_refuses_bad_documents_with_400_json(sim, body, words):
    answer = requests.post(f"{sim.url}/_sim/documents", json=body, timeout=5)
    assert answer.status_code == 400
    assert words in answer.json()["error"]


def test_admin_refuses_a_non_json_body(sim):
    answer = requests.post(f"{sim.url}/_sim/documents", data="nope", timeout=5)
    assert (answer.status_code, answer.json()) == (400, {"error": "body must be JSON"})


def test_admin_unknown_document_is_404(sim):
    assert requests.get(f"{sim.url}/_sim/documents/leadtools/{uuid.uuid4()}", timeout=5).status_code == 404
    assert requests.get(f"{sim.url}/_sim/documents/nobody/x", timeout=5).status_code == 404


def test_admin_reset_clears_documents_and_counters(sim):
    doc_id = create(sim, [{"status": 100}])
    query(sim, doc_id)
    call(sim, "UploadFile", fileurl="https://example.com/a.pdf")
    assert stats(sim) == {"status_calls": 1, "start_calls": 1, "auth_failures": 0, "ready_calls": 0}
    assert requests.post(f"{sim.url}/_sim/reset", timeout=5).status_code == 200
    assert stats(sim) == {"status_calls": 0, "start_calls": 0, "auth_failures": 0, "ready_calls": 0}
    assert requests.get(f"{sim.url}/_sim/documents/leadtools/{doc_id}", timeout=5).status_code == 404


def test_admin_bulk_create_makes_every_document_or_none(sim):
    chosen = str(uuid.uuid4())
    body = {"documents": [
        {"vendor": "leadtools", "script": [{"status": 100}]},
        {"vendor": "leadtools", "id": chosen.upper(), "script": "rejected"},
        {"vendor": "leadtools"},
    ]}
    answer = requests.post(f"{sim.url}/_sim/documents/bulk", json=body, timeout=5)
    assert answer.status_code == 201, answer.text
    made = answer.json()["documents"]
    assert [d["vendor"] for d in made] == ["leadtools"] * 3 and made[1]["id"] == chosen
    assert [document(sim, d["id"])["status"] for d in made] == [100, 123, 123]

    bad = {"documents": [{"vendor": "leadtools", "id": str(uuid.uuid4())}, {"vendor": "leadtools", "script": "nope"}]}
    answer = requests.post(f"{sim.url}/_sim/documents/bulk", json=bad, timeout=5)
    assert answer.status_code == 400 and "document 1: unknown script 'nope'" in answer.json()["error"]
    first = bad["documents"][0]["id"]
    assert requests.get(f"{sim.url}/_sim/documents/leadtools/{first}", timeout=5).status_code == 404
    for body in ({"documents": []}, {"documents": "x"}, [], {"documents": [{"vendor": "leadtools", "x": 1}]}):
        assert requests.post(f"{sim.url}/_sim/documents/bulk", json=body, timeout=5).status_code == 400


def test_admin_ready_is_404_until_a_terminal_status_then_200_and_counted(sim):
    doc_id = create(sim, [{"status": 123, "seconds": 0.3}, {"status": 100, "seconds": 0.3}, {"status": 200}])
    ready = f"{sim.url}/_sim/ready/leadtools/{doc_id.upper()}"
    first = requests.get(ready, timeout=5)
    assert (first.status_code, first.json()) == (404, {"ready": False, "status": 123})
    time.sleep(0.7)
    done = requests.get(ready, timeout=5)
    assert (done.status_code, done.json()) == (200, {"ready": True, "status": 200})
    failed = create(sim, [{"status": 502}])
    assert requests.get(f"{sim.url}/_sim/ready/leadtools/{failed}", timeout=5).status_code == 200
    never_run = create(sim, [{"status": 122}])  # the last step, but 122 is not terminal
    assert requests.get(f"{sim.url}/_sim/ready/leadtools/{never_run}", timeout=5).status_code == 404
    assert stats(sim) == {"status_calls": 0, "start_calls": 0, "auth_failures": 0, "ready_calls": 4}
    assert document(sim, doc_id)["status_calls"] == 0  # not a vendor status call
    assert requests.get(f"{sim.url}/_sim/ready/leadtools/{uuid.uuid4()}", timeout=5).status_code == 400
    assert requests.get(f"{sim.url}/_sim/ready/nobody/{doc_id}", timeout=5).status_code == 400


# -- scenarios ------------------------------------------------------------------


def test_scenario_overrides_credentials_adds_scripts_and_documents(tmp_path):
    fixed = str(uuid.uuid4())
    scenario = {
        "leadtools": {
            "credentials": {"app_id": "mine", "password": "s3cret"},
            "scripts": {"quick": [{"status": 200, "payload": TEXT}]},
        },
        "documents": [{"vendor": "leadtools", "id": fixed, "script": "quick"}],
    }
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    with serve_in_thread(path) as custom:
        base = custom.leadtools_base
        assert requests.get(f"{base}Query", params={"id": fixed}, auth=AUTH, timeout=5).status_code == 401
        answer = requests.get(f"{base}Query", params={"id": fixed}, auth=("mine", "s3cret"), timeout=5)
        assert answer.json() == {"FileStatus": 200, "RequestData": TEXT}
        named = requests.post(
            f"{base}Recognition/ExtractText", params={"fileurl": "http://x/quick.pdf"}, auth=("mine", "s3cret"), timeout=5
        ).text
        shipped = requests.post(
            f"{base}Recognition/ExtractText", params={"fileurl": "http://x/rejected.pdf"}, auth=("mine", "s3cret"), timeout=5
        ).text
        view = requests.get(f"{custom.url}/_sim/documents/leadtools/{named}", timeout=5).json()
        assert view["status"] == 200
        view = requests.get(f"{custom.url}/_sim/documents/leadtools/{shipped}", timeout=5).json()
        assert view["current_step"] == {"status": 123, "seconds": 1.0}


def test_bad_scenario_is_refused_before_listening():
    with pytest.raises(ValueError, match="unknown key 'lead_tools'"):
        with serve_in_thread({"lead_tools": {}}):
            pass
    with pytest.raises(ValueError, match="script 'x': step 0: unknown fault 'boom'"):
        with serve_in_thread({"leadtools": {"scripts": {"x": [{"fault": "boom"}]}}}):
            pass


# -- CLI --------------------------------------------------------------------------


def test_cli_listens_and_stops_cleanly_on_sigterm(tmp_path):
    port_file = tmp_path / "port"
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_docstatus.simulator", "--port", "0", "--port-file", str(port_file)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the simulator did not write its port file"
            time.sleep(0.05)
        port = int(port_file.read_text())
        health = requests.get(f"http://127.0.0.1:{port}/_sim/health", timeout=5)
        assert health.json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stdout == f"docstatus simulator listening on http://127.0.0.1:{port}\n"
    assert "GET /_sim/health" in stderr
