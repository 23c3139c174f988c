"""The simulator over real sockets: expert.ai token endpoint, Extract start and status, token expiry, faults."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid

import pytest
import requests

from airflow_docstatus.simulator import serve_in_thread
from airflow_docstatus.simulator.app import ThreadedSimulator
from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS, simulator_connection

USERNAME, PASSWORD = "sim-expertai-user", "sim-expertai-secret"
PDF = base64.b64encode(b"%PDF-1.4\n% tiny test document\n").decode()
RESULT = {"header": {"documentName": "x.pdf", "totPages": 1}, "layout": [], "words": []}



def api(sim: ThreadedSimulator) -> str:
    return f"{sim.url}/expertai/beta"


def get_token(sim: ThreadedSimulator, username: str = USERNAME, password: str = PASSWORD) -> requests.Response:
    return requests.post(
        f"{sim.url}/expertai/oauth2/token", json={"username": username, "password": password}, timeout=5
    )


def bearer(sim: ThreadedSimulator) -> dict[str, str]:
    answer = get_token(sim)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.text}"}


def create(sim: ThreadedSimulator, script, **fields) -> str:
    body = {"vendor": "expertai", "script": script}
    if fields:
        body["fields"] = fields
    answer = requests.post(f"{sim.url}/_sim/documents", json=body, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def status(sim: ThreadedSimulator, task_id: str, headers: dict[str, str]) -> requests.Response:
    return requests.get(f"{api(sim)}/status/{task_id}", headers=headers, timeout=10)


def start(sim: ThreadedSimulator, headers: dict[str, str], name: str = "invoice.pdf", data: str = PDF, **kw):
    return requests.post(
        f"{api(sim)}/layout-document-async",
        json={"document": {"name": name, "data": data}},
        headers=headers,
        timeout=30,
        **kw,
    )


def stats(sim: ThreadedSimulator) -> dict:
    return requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["expertai"]


def jwt_claims(token: str) -> dict:
    header, payload, signature = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert len(base64.urlsafe_b64decode(signature + "==")) == 32
    return json.loads(base64.urlsafe_b64decode(payload + "=="))


# -- token endpoint -------------------------------------------------------------


def test_token_is_a_bare_jwt_with_exp_iat_and_sub(sim):
    before = time.time()
    answer = get_token(sim)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    claims = jwt_claims(answer.text)
    assert claims["sub"] == USERNAME
    assert int(before) - 1 <= claims["iat"] <= time.time()
    assert claims["exp"] - claims["iat"] in (3599, 3600, 3601)
    assert get_token(sim).text != answer.text  # every token is new
    assert stats(sim)["token_calls"] == 2


@pytest.mark.parametrize("username,password", [(USERNAME, "wrong"), ("someone", PASSWORD), ("", "")])
def test_bad_credentials_are_401(sim, username, password):
    answer = get_token(sim, username, password)
    assert answer.status_code == 401
    assert PASSWORD not in answer.text
    assert stats(sim)["token_calls"] == 1
    assert stats(sim)["auth_failures"] == 1


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"username": "sim-expertai-user"}'])
def test_malformed_token_request_is_400(sim, body):
    answer = requests.post(f"{sim.url}/expertai/oauth2/token", data=body, timeout=5)
    assert answer.status_code == 400
    assert stats(sim)["token_calls"] == 1


def test_wrong_methods_are_405(sim):
    assert requests.get(f"{sim.url}/expertai/oauth2/token", timeout=5).status_code == 405
    assert requests.get(f"{api(sim)}/layout-document-async", timeout=5).status_code == 405
    task_id = create(sim, [{"status": "PENDING"}])
    for method in ("POST", "PUT", "DELETE", "HEAD"):
        assert requests.request(method, f"{api(sim)}/status/{task_id}", timeout=5).status_code == 405, method


def test_unknown_path_is_404(sim):
    assert requests.get(f"{api(sim)}/nope", headers=bearer(sim), timeout=5).status_code == 404


# -- starting a task --------------------------------------------------------------


def test_start_answers_202_with_a_task_id_that_runs_the_default_script(sim):
    headers = bearer(sim)
    answer = start(sim, headers)
    assert answer.status_code == 202
    task_id = answer.json()["taskId"]
    assert str(uuid.UUID(task_id)) == task_id
    assert status(sim, task_id, headers).json() == {"current": 0, "message": "queued", "state": "PENDING"}
    view = requests.get(f"{sim.url}/_sim/documents/expertai/{task_id}", timeout=5).json()
    assert view["current_step"] == {"status": "PENDING", "seconds": 1.0}
    assert stats(sim)["start_calls"] == 1


def test_start_chooses_the_script_by_the_document_name(sim):
    headers = bearer(sim)
    task_id = start(sim, headers, name="scans/Aborted.PDF").json()["taskId"]
    view = requests.get(f"{sim.url}/_sim/documents/expertai/{task_id}", timeout=5).json()
    assert view["current_step"] == {"status": "PENDING", "seconds": 1.0}
    deadline = time.monotonic() + 4
    while (body := status(sim, task_id, headers).json())["state"] == "PENDING" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert body == {"current": 0, "message": "task aborted", "state": "ABORTED"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"document": "x"},
        {"document": {"name": "a.pdf"}},
        {"document": {"data": PDF}},
        {"document": {"name": "", "data": PDF}},
        {"document": {"name": "a.pdf", "data": "not base64 !!"}},
        {"document": {"name": "a.pdf", "data": 42}},
    ],
)
def test_bad_start_body_is_400(sim, body):
    answer = requests.post(f"{api(sim)}/layout-document-async", json=body, headers=bearer(sim), timeout=5)
    assert answer.status_code == 400, answer.text
    assert "error" in answer.json()
    assert stats(sim)["start_calls"] == 0


def test_non_json_start_body_is_400(sim):
    answer = requests.post(f"{api(sim)}/layout-document-async", data=b"{", headers=bearer(sim), timeout=5)
    assert answer.status_code == 400


def test_document_over_14_mb_is_413_and_at_the_limit_is_accepted(sim):
    headers = bearer(sim)
    limit = 14 * 1024 * 1024
    too_big = start(sim, headers, data=base64.b64encode(b"\0" * (limit + 1)).decode())
    assert too_big.status_code == 413
    at_limit = start(sim, headers, data=base64.b64encode(b"\0" * limit).decode())
    assert at_limit.status_code == 202
    assert stats(sim)["start_calls"] == 1


def test_start_needs_a_token(sim):
    assert start(sim, {}).status_code == 401
    assert start(sim, {"Authorization": "Bearer nope"}).status_code == 401


# -- status -----------------------------------------------------------------------


def test_life_from_pending_to_success_with_progress_and_message(sim):
    headers = bearer(sim)
    task_id = create(
        sim,
        [
            {"status": "PENDING", "polls": 1},
            {"status": "PROGRESS", "current": 40, "message": "ocr", "polls": 1},
            {"status": "PROGRESS", "progress": 80, "polls": 1},
            {"status": "SUCCESS", "payload": RESULT},
        ],
    )
    bodies = [status(sim, task_id, headers).json() for _ in range(4)]
    assert bodies == [
        {"current": 0, "message": "queued", "state": "PENDING"},
        {"current": 40, "message": "ocr", "state": "PROGRESS"},
        {"current": 80, "message": "processing", "state": "PROGRESS"},
        {"current": 100, "message": "completed", "state": "SUCCESS", "result": RESULT},
    ]


def test_failure_carries_the_error_message(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "FAILURE", "message": "unsupported file type"}])
    answer = status(sim, task_id, headers)
    assert answer.status_code == 200
    assert answer.json() == {"current": 0, "message": "unsupported file type", "state": "FAILURE"}


def test_synthesized_result_has_the_documented_shape(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "SUCCESS", "result_pages": 3}], name="contract.pdf")
    body = status(sim, task_id, headers).json()
    assert (body["state"], body["current"], body["message"]) == ("SUCCESS", 100, "completed")
    result = body["result"]
    header = result["header"]
    assert {"conversionDateTime", "customInfo", "documentName", "errorPages", "totPages", "version", "metadata"} <= set(
        header
    )
    assert (header["documentName"], header["totPages"], header["errorPages"]) == ("contract.pdf", 3, 0)
    assert header["conversionDateTime"].endswith("Z")
    items = {item["id"]: item for item in result["layout"]}
    assert {item["type"] for item in items.values()} == {"page", "header", "title", "text", "table", "cell", "footer"}
    assert [item["page"] for item in items.values() if item["type"] == "page"] == [1, 2, 3]
    for item in items.values():
        assert set(item) == {"id", "page", "type", "children", "parent", "content", "bbox"}
        assert len(item["bbox"]) == 4
        for child in item["children"]:
            assert items[child]["parent"] == item["id"]
    assert len(result["words"]) == 3
    words = json.loads(gzip.decompress(base64.b64decode(result["words"][0])))
    assert words and {"text", "bbox"} <= set(words[0])
    assert status(sim, task_id, headers).json() == body  # stable from poll to poll


def test_large_result_is_several_megabytes(sim):
    headers = bearer(sim)
    task_id = create(sim, "large")
    assert status(sim, task_id, headers).json()["state"] == "PENDING"
    time.sleep(0.6)
    answer = status(sim, task_id, headers)
    assert len(answer.content) > 3_000_000
    result = answer.json()["result"]
    assert result["header"]["totPages"] == 500 and len(result["words"]) == 500


@pytest.mark.parametrize("task_id", [str(uuid.uuid4()), "not-a-task"])
def test_unknown_task_is_404(sim, task_id):
    answer = status(sim, task_id, bearer(sim))
    assert answer.status_code == 404
    assert stats(sim)["status_calls"] == 1


def test_task_id_casing_is_accepted(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "PENDING"}])
    assert status(sim, task_id.upper(), headers).json()["state"] == "PENDING"


@pytest.mark.parametrize(
    "headers,reason",
    [
        ({}, "missing"),
        ({"Authorization": "Bearer not-a-token"}, "not valid"),
        ({"Authorization": "Basic c2ltLWV4cGVydGFpLXVzZXI6c2ltLWV4cGVydGFpLXNlY3JldA=="}, "missing"),
    ],
)
def test_status_without_a_valid_token_is_401(sim, headers, reason):
    task_id = create(sim, [{"status": "PENDING"}])
    answer = status(sim, task_id, headers)
    assert answer.status_code == 401
    assert reason in answer.json()["error"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer ")
    view = requests.get(f"{sim.url}/_sim/documents/expertai/{task_id}", timeout=5).json()
    assert view["status_calls"] == 0
    assert stats(sim)["auth_failures"] == 1 and stats(sim)["status_calls"] == 0


# -- token lifetime and expiry --------------------------------------------------------


def test_token_with_a_1_second_lifetime_expires(sim):
    answer = requests.put(f"{sim.url}/_sim/tokens/expertai", json={"lifetime": 1}, timeout=5)
    assert answer.json() == {"vendor": "expertai", "lifetime": 1.0}
    task_id = create(sim, [{"status": "PROGRESS"}])
    token = get_token(sim).text
    claims = jwt_claims(token)
    assert claims["exp"] - claims["iat"] in (0, 1)
    headers = {"Authorization": f"Bearer {token}"}
    assert status(sim, task_id, headers).status_code == 200
    time.sleep(1.1)
    expired = status(sim, task_id, headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["error"]
    assert status(sim, task_id, bearer(sim)).status_code == 200  # a fresh token works again


def test_lifetime_applies_to_tokens_issued_afterwards(sim):
    old = bearer(sim)
    requests.put(f"{sim.url}/_sim/tokens/expertai", json={"lifetime": 0}, timeout=5)
    task_id = create(sim, [{"status": "PROGRESS"}])
    assert status(sim, task_id, old).status_code == 200
    assert status(sim, task_id, bearer(sim)).status_code == 401


def test_expire_admin_call_expires_every_token_issued_so_far(sim):
    task_id = create(sim, [{"status": "PROGRESS"}])
    first, second = bearer(sim), bearer(sim)
    answer = requests.post(f"{sim.url}/_sim/tokens/expertai/expire", timeout=5)
    assert answer.json() == {"vendor": "expertai", "expired": 2}
    assert status(sim, task_id, first).status_code == 401
    assert status(sim, task_id, second).status_code == 401
    assert status(sim, task_id, bearer(sim)).status_code == 200
    summary = requests.get(f"{sim.url}/_sim/tokens/expertai", timeout=5).json()
    assert summary == {"vendor": "expertai", "lifetime": 3600.0, "issued": 3, "live": 1}


def test_reset_forgets_tokens_restores_the_lifetime_and_zeroes_counters(sim):
    task_id = create(sim, [{"status": "PROGRESS"}])
    headers = bearer(sim)
    status(sim, task_id, headers)
    requests.put(f"{sim.url}/_sim/tokens/expertai", json={"lifetime": 5}, timeout=5)
    assert stats(sim) == {"status_calls": 1, "start_calls": 0, "auth_failures": 0, "token_calls": 1, "ready_calls": 0}
    requests.post(f"{sim.url}/_sim/reset", timeout=5)
    assert stats(sim) == {"status_calls": 0, "start_calls": 0, "auth_failures": 0, "token_calls": 0, "ready_calls": 0}
    assert requests.get(f"{sim.url}/_sim/tokens/expertai", timeout=5).json()["lifetime"] == 3600.0
    task_id = create(sim, [{"status": "PROGRESS"}])
    assert status(sim, task_id, headers).status_code == 401


@pytest.mark.parametrize("body", [{"lifetime": -1}, {"lifetime": "1"}, {"lifetime": True}, {}, {"ttl": 1}])
def test_bad_lifetime_is_400(sim, body):
    answer = requests.put(f"{sim.url}/_sim/tokens/expertai", json=body, timeout=5)
    assert answer.status_code == 400
    assert "error" in answer.json()


def test_token_admin_for_a_vendor_without_tokens_is_404(sim):
    assert requests.put(f"{sim.url}/_sim/tokens/leadtools", json={"lifetime": 1}, timeout=5).status_code == 404
    assert requests.post(f"{sim.url}/_sim/tokens/leadtools/expire", timeout=5).status_code == 404
    assert requests.post(f"{sim.url}/_sim/tokens/nobody/expire", timeout=5).status_code == 404
    assert "token_calls" not in requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["leadtools"]


def test_scenario_sets_the_token_lifetime_and_credentials():
    scenario = {"expertai": {"token_lifetime": 1, "credentials": {"username": "me", "password": "pw"}}}
    with serve_in_thread(scenario) as custom:
        assert get_token(custom).status_code == 401
        token = get_token(custom, "me", "pw").text
        assert jwt_claims(token)["exp"] - jwt_claims(token)["iat"] in (0, 1)
    with pytest.raises(ValueError, match="token lifetime"):
        with serve_in_thread({"expertai": {"token_lifetime": -5}}):
            pass
    with pytest.raises(ValueError, match="issues no tokens"):
        with serve_in_thread({"leadtools": {"token_lifetime": 5}}):
            pass


# -- counters and the document view ------------------------------------------------


def test_document_view_counts_status_calls_and_redacts_the_token(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "PENDING", "polls": 1}, {"status": "PROGRESS", "current": 10}])
    status(sim, task_id, headers)
    status(sim, task_id, headers)
    status(sim, task_id, {})
    view = requests.get(f"{sim.url}/_sim/documents/expertai/{task_id}", timeout=5).json()
    assert view["status_calls"] == 2 and view["status"] == "PROGRESS"
    assert view["current_step"] == {"status": "PROGRESS", "current": 10}
    assert view["calls"][0]["path"] == f"/expertai/beta/status/{task_id}"
    assert view["last_headers"]["Authorization"] == "<redacted>"
    assert headers["Authorization"][7:] not in json.dumps(view)
    assert stats(sim) == {"status_calls": 2, "start_calls": 0, "auth_failures": 1, "token_calls": 1, "ready_calls": 0}


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ([{"status": 3}], "state string"),
        ([{"status": "PROGRESS", "current": 101}], "'current': must be a whole percentage"),
        ([{"status": "SUCCESS", "result_pages": 0}], "'result_pages'"),
        ([{"status": "PROGRESS", "integration_status": "Queued"}], "unknown key(s) ['integration_status']"),
    ],
)
def test_admin_refuses_bad_expertai_scripts(sim, script, words):
    answer = requests.post(f"{sim.url}/_sim/documents", json={"vendor": "expertai", "script": script}, timeout=5)
    assert answer.status_code == 400
    assert words in answer.json()["error"]


def test_admin_refuses_bad_fields(sim):
    for fields in ({"name": 5}, {"colour": "red"}, "x"):
        body = {"vendor": "expertai", "script": [{"status": "PENDING"}], "fields": fields}
        assert requests.post(f"{sim.url}/_sim/documents", json=body, timeout=5).status_code == 400
    body = {"vendor": "leadtools", "script": [{"status": 100}], "fields": {"name": "a"}}
    answer = requests.post(f"{sim.url}/_sim/documents", json=body, timeout=5)
    assert answer.status_code == 400 and "take no 'fields'" in answer.json()["error"]


# -- faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault,code", [("http_500", 500), ("http_502", 502), ("http_503", 503)])
def test_http_error_faults(sim, fault, code):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "PROGRESS", "polls": 1}, {"fault": fault, "polls": 1}, {"status": "SUCCESS"}])
    assert status(sim, task_id, headers).status_code == 200
    assert status(sim, task_id, headers).status_code == code
    assert status(sim, task_id, headers).json()["state"] == "SUCCESS"


def test_429_carries_retry_after(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"fault": "http_429", "retry_after": 3, "polls": 1}, {"status": "PROGRESS"}])
    answer = status(sim, task_id, headers)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")
    assert status(sim, task_id, headers).status_code == 200


def test_reset_fault_drops_the_connection(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"fault": "reset", "polls": 1}, {"status": "PROGRESS"}])
    with pytest.raises(requests.ConnectionError):
        status(sim, task_id, headers)
    assert status(sim, task_id, headers).json()["state"] == "PROGRESS"


def test_slow_fault_keeps_the_previous_state_and_progress(sim):
    headers = bearer(sim)
    task_id = create(
        sim,
        [{"status": "PROGRESS", "current": 60, "message": "ocr", "polls": 1}, {"fault": "slow", "delay": 0.3}],
    )
    status(sim, task_id, headers)
    started = time.monotonic()
    body = status(sim, task_id, headers).json()
    assert time.monotonic() - started >= 0.3
    assert body == {"current": 60, "message": "ocr", "state": "PROGRESS"}


def test_html_and_garbled_faults(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"fault": "html", "polls": 1}, {"status": "SUCCESS", "payload": RESULT, "fault": "garbled"}])
    html = status(sim, task_id, headers)
    assert html.status_code == 502 and html.headers["Content-Type"].startswith("text/html")
    garbled = status(sim, task_id, headers)
    assert garbled.status_code == 200 and garbled.headers["Content-Type"].startswith("application/json")
    assert garbled.text.startswith('{"current": 100')
    with pytest.raises(ValueError):
        garbled.json()


def test_drip_fault_sends_the_normal_answer_one_byte_at_a_time(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "PROGRESS", "current": 40, "fault": "drip", "delay": 0.02}])
    started = time.monotonic()
    with requests.get(f"{api(sim)}/status/{task_id}", headers=headers, timeout=10, stream=True) as answer:
        head_after = time.monotonic() - started
        pieces = list(iter(lambda: answer.raw.read1(65536), b""))  # as the bytes arrive
    took = time.monotonic() - started
    body = b"".join(pieces)
    assert answer.status_code == 200 and int(answer.headers["Content-Length"]) == len(body)
    assert json.loads(body) == {"current": 40, "message": "processing", "state": "PROGRESS"}
    assert head_after < took / 2  # the head comes at once, the body trickles
    assert took >= 0.02 * len(body) * 0.8 and len(pieces) > len(body) / 4


def test_oversized_fault_pads_the_normal_answer_to_its_size_chunked(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "PENDING", "fault": "oversized", "size": 300_000}])
    answer = status(sim, task_id, headers)
    assert answer.status_code == 200 and answer.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in answer.headers
    assert len(answer.content) == 300_000
    assert answer.json() == {"current": 0, "message": "queued", "state": "PENDING"}  # still valid JSON


def test_echo_secret_fault_is_a_401_quoting_the_authorization_header(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "PENDING", "polls": 1}, {"fault": "echo_secret", "polls": 1},
                           {"status": "SUCCESS"}])
    assert status(sim, task_id, headers).status_code == 200
    echoed = status(sim, task_id, headers)
    assert echoed.status_code == 401 and headers["Authorization"] in echoed.text
    assert status(sim, task_id, headers).json()["state"] == "SUCCESS"
    seen = requests.get(f"{sim.url}/_sim/documents/expertai/{task_id}", timeout=5).json()
    assert seen["last_headers"]["Authorization"] == "<redacted>"  # the admin view still hides it


# -- sandbox connection -----------------------------------------------------------------


def test_simulator_connection_points_the_auth_url_at_the_simulator(sim):
    conn = simulator_connection(sim.url + "/", SIMULATOR_CONNECTIONS["expertai_extract_default"])
    assert conn["conn_type"] == "expertai_extract"
    assert conn["host"] == f"{sim.url}/expertai/beta"
    assert conn["extra"] == {"auth_url": f"{sim.url}/expertai/oauth2/token"}
    token = requests.post(
        conn["extra"]["auth_url"], json={"username": conn["login"], "password": conn["password"]}, timeout=5
    )
    assert token.status_code == 200
    task_id = create(sim, [{"status": "PENDING"}])
    answer = requests.get(
        f"{conn['host']}/status/{task_id}", headers={"Authorization": f"Bearer {token.text}"}, timeout=5
    )
    assert answer.status_code == 200


def test_token_requests_are_shown_by_client(sim):
    bearer(sim)  # requests
    requests.post(f"{sim.url}/expertai/oauth2/token", json={}, headers={"User-Agent": "Python/3.11 aiohttp/3.14"},
                  timeout=5)  # refused (400), counted all the same
    clients = requests.get(f"{sim.url}/_sim/tokens/expertai/clients", timeout=5).json()
    assert clients == {"vendor": "expertai", "by_client": {"python-requests": 1, "aiohttp": 1}}
    assert requests.get(f"{sim.url}/_sim/tokens/leadtools/clients", timeout=5).status_code == 404
