"""What the simulator reports depends on the document it was given: two documents never read the same.

LEADTOOLS derives the recognized text from the file URL, expert.ai the layout
from the document's name and bytes, SmartDocumentor the page count from the
document's bytes; the same input always gives the same result.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest
import requests

from airflow_docstatus.simulator import serve_in_thread
from airflow_docstatus.simulator.app import ThreadedSimulator
from airflow_docstatus.simulator.leadtools import recognized_text
from airflow_docstatus.simulator.smartdocumentor import pages_of

# Every vendor's default script done at once, without a payload: the simulator synthesizes it.
QUICK = {
    "leadtools": {"default_script": "quick", "scripts": {"quick": [{"status": 200}]}},
    "expertai": {"default_script": "quick", "scripts": {"quick": [{"status": "SUCCESS"}]}},
    "smartdocumentor": {"default_script": "quick", "scripts": {"quick": [{"status": "Processed"}]}},
}
LT_AUTH = ("sim-leadtools-app", "sim-leadtools-secret")


@pytest.fixture(scope="module")
def sim() -> Iterator[ThreadedSimulator]:
    with serve_in_thread(QUICK) as running:
        yield running


# -- LEADTOOLS ----------------------------------------------------------------------------------


def lt_start(sim: ThreadedSimulator, fileurl: str, service: str = "Recognition/ExtractText") -> str:
    answer = requests.post(f"{sim.leadtools_base}{service}", params={"fileurl": fileurl}, auth=LT_AUTH, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.text


def lt_request_data(sim: ThreadedSimulator, file_id: str, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        body = requests.get(f"{sim.leadtools_base}Query", params={"id": file_id}, auth=LT_AUTH, timeout=5).json()
        if body["FileStatus"] == 200 or time.monotonic() > deadline:
            assert body["FileStatus"] == 200, body
            return body["RequestData"]
        time.sleep(0.05)


def lt_text(request_data: list) -> str:
    (entry,) = request_data
    assert (entry["ServiceType"], entry["RecognitionType"]) == ("Recognition", "Text")
    (page,) = entry["data"]
    assert page["PageNumber"] == 1
    return page["Text"]


def test_leadtools_text_follows_the_file_url(sim):
    invoice = lt_text(lt_request_data(sim, lt_start(sim, "https://example.com/invoice.pdf")))
    receipt = lt_text(lt_request_data(sim, lt_start(sim, "https://example.com/receipt.pdf")))
    assert invoice != receipt
    assert invoice.startswith("INVOICE\nFile: invoice.pdf\nReference: ") and "EUR" in invoice
    assert receipt.startswith("RECEIPT\nFile: receipt.pdf\n")
    # the same name elsewhere is another document; the same URL is the same text
    elsewhere = lt_text(lt_request_data(sim, lt_start(sim, "https://example.org/scans/invoice.pdf")))
    assert elsewhere.startswith("INVOICE\nFile: invoice.pdf\n") and elsewhere != invoice
    assert lt_text(lt_request_data(sim, lt_start(sim, "https://example.com/invoice.pdf"))) == invoice
    assert invoice == recognized_text("https://example.com/invoice.pdf")


def test_leadtools_queued_ocr_reads_the_uploaded_file(sim):
    auth = {"auth": LT_AUTH, "timeout": 5}
    file_id = requests.post(f"{sim.leadtools_base}UploadFile", params={"fileurl": "https://example.com/contract-7.pdf"},
                            **auth).text
    deadline = time.monotonic() + 5
    while requests.get(f"{sim.leadtools_base}Query", params={"id": file_id}, **auth).json()["FileStatus"] != 122:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert requests.post(f"{sim.leadtools_base}Recognition/ExtractText", params={"id": file_id}, **auth).ok
    assert requests.post(f"{sim.leadtools_base}Run", params={"id": file_id}, **auth).ok
    assert lt_text(lt_request_data(sim, file_id)).startswith("CONTRACT 7\nFile: contract-7.pdf\n")


def test_leadtools_barcodes_name_the_file(sim):
    data = lt_request_data(sim, lt_start(sim, "https://example.com/label-1.png", "Recognition/ExtractAllBarcodes"))
    assert data[0]["RecognitionType"] == "Barcode"  # the scenario's barcode script gives its own payload
    # a script without a payload: the barcode is made from the file
    quick = {"leadtools": {"default_script": "quick", "scripts": {"quick": [{"status": 200}], "barcode": [{"status": 200}]}}}
    with serve_in_thread(quick) as other:
        one = lt_request_data(other, lt_start(other, "https://example.com/label-1.png", "Recognition/ExtractAllBarcodes"))
        two = lt_request_data(other, lt_start(other, "https://example.com/label-2.png", "Recognition/ExtractAllBarcodes"))
    values = [data[0]["data"][0]["Value"] for data in (one, two)]
    assert values[0].startswith("label-1.png#") and values[1].startswith("label-2.png#")


def test_leadtools_explicit_payloads_and_admin_documents_are_kept(sim):
    text = [{"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"PageNumber": 1, "Text": "given"}]}]
    given = requests.post(f"{sim.url}/_sim/documents", json={"vendor": "leadtools", "script": [{"status": 200, "payload": text}]},
                          timeout=5).json()["id"]
    bare = requests.post(f"{sim.url}/_sim/documents", json={"vendor": "leadtools", "script": [{"status": 200}]},
                         timeout=5).json()["id"]
    assert lt_request_data(sim, given) == text
    assert lt_request_data(sim, bare) == []  # no file URL to read: nothing recognized


def test_the_shipped_default_script_reads_the_file():
    with serve_in_thread() as shipped:  # 123 for 1 s, 100 for 2 s, then 200 without a payload
        text = lt_text(lt_request_data(shipped, lt_start(shipped, "https://example.com/scans/invoice-0042.pdf")))
    assert text.startswith("INVOICE 0042\nFile: invoice-0042.pdf\nReference: ")


# -- expert.ai ------------------------------------------------------------------------------------


def ex_headers(sim: ThreadedSimulator) -> dict[str, str]:
    token = requests.post(f"{sim.url}/expertai/oauth2/token", timeout=5,
                          json={"username": "sim-expertai-user", "password": "sim-expertai-secret"}).text
    return {"Authorization": f"Bearer {token}"}


def ex_result(sim: ThreadedSimulator, name: str, data: bytes) -> dict:
    headers = ex_headers(sim)
    body = {"document": {"name": name, "data": base64.b64encode(data).decode()}}
    started = requests.post(f"{sim.url}/expertai/beta/layout-document-async", json=body, headers=headers, timeout=5)
    assert started.status_code == 202, started.text
    answer = requests.get(f"{sim.url}/expertai/beta/status/{started.json()['taskId']}", headers=headers, timeout=10)
    assert answer.json()["state"] == "SUCCESS"
    return answer.json()["result"]


def content(result: dict) -> list:
    return [(item["type"], item["content"]) for item in result["layout"]]


def test_expertai_layout_follows_the_document(sim):
    report = ex_result(sim, "quarterly-report.pdf", b"%PDF-1.7 quarterly report")
    minutes = ex_result(sim, "board-minutes.pdf", b"%PDF-1.7 board minutes")
    assert report["header"]["documentName"] == "quarterly-report.pdf"
    assert minutes["header"]["documentName"] == "board-minutes.pdf"
    titles = [[c for t, c in content(r) if t == "title"] for r in (report, minutes)]
    assert titles == [["QUARTERLY REPORT"], ["BOARD MINUTES"]]
    assert content(report) != content(minutes)
    # other bytes under the same name read differently; the same document reads the same
    changed = ex_result(sim, "quarterly-report.pdf", b"%PDF-1.7 another quarter")
    assert [c for t, c in content(changed) if t == "text"] != [c for t, c in content(report) if t == "text"]
    again = ex_result(sim, "quarterly-report.pdf", b"%PDF-1.7 quarterly report")
    assert content(again) == content(report) and again["words"] == report["words"]


# -- SmartDocumentor ---------------------------------------------------------------------------------


def sd_status(sim: ThreadedSimulator, body: dict) -> dict:
    token = requests.post(f"{sim.url}/smartdocumentor/connect/token", timeout=5, data={
        "grant_type": "client_credentials", "scope": "WebAPI",
        "client_id": "sim-sd-client", "client_secret": "sim-sd-secret"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{sim.url}/smartdocumentor/api/v1.0/external/sdtask"
    created = requests.post(f"{base}/process", json=body, headers=headers, timeout=5)
    assert created.status_code == 201, created.text
    return requests.get(f"{base}/status", params={"taskId": created.json()["taskId"]}, headers=headers, timeout=5).json()


def test_smartdocumentor_status_follows_the_task_body(sim):
    short, long = b"one page of an invoice", b"a longer scan of a contract"
    assert pages_of(short) != pages_of(long)  # the inputs of this test do differ
    first = sd_status(sim, {"externalId": "inv-1", "displayName": "Invoice 1",
                            "document": {"name": "inv-1.pdf", "data": base64.b64encode(short).decode()}})
    second = sd_status(sim, {"externalId": "ctr-2",
                             "document": {"name": "contract-2.pdf", "data": base64.b64encode(long).decode()}})
    assert (first["externalId"], first["displayName"], first["totalPages"]) == ("inv-1", "Invoice 1", pages_of(short))
    assert (second["externalId"], second["displayName"], second["totalPages"]) == ("ctr-2", "contract-2.pdf", pages_of(long))
    given = sd_status(sim, {"externalId": "p-9", "totalPages": 12,
                            "document": {"name": "x.pdf", "data": base64.b64encode(short).decode()}})
    assert given["totalPages"] == 12  # a page count given in the body wins
    assert 1 <= pages_of(b"") <= 9
