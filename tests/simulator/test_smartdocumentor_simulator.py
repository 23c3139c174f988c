"""The simulator over real sockets: SmartDocumentor token endpoint, sdtask status and process, expiry, faults."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from airflow_docstatus.simulator import serve_in_thread
from airflow_docstatus.simulator.app import ThreadedSimulator
from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS, simulator_connection

CLIENT_ID, CLIENT_SECRET = "sim-sd-client", "sim-sd-secret"
RESPONSE_FIELDS = {
    "taskId", "workspaceId", "batchId", "taskNumber", "externalId", "displayName", "description", "createdOn",
    "taskStatus", "integrationStatus", "taskStatusText", "integrationStatusText", "totalPages", "restartCount",
    "preProcessingStartedOn",
}



def base(sim: ThreadedSimulator) -> str:
    return f"{sim.url}/smartdocumentor"


def get_token(sim: ThreadedSimulator, **overrides) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "scope": "WebAPI",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    form.update(overrides)
    form = {key: value for key, value in form.items() if value is not None}
    return requests.post(f"{base(sim)}/connect/token", data=form, timeout=5)


def bearer(sim: ThreadedSimulator) -> dict[str, str]:
    answer = get_token(sim)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def create(sim: ThreadedSimulator, script, doc_id: str | None = None, **fields) -> str:
    body = {"vendor": "smartdocumentor", "script": script}
    if doc_id is not None:
        body["id"] = doc_id
    if fields:
        body["fields"] = fields
    answer = requests.post(f"{sim.url}/_sim/documents", json=body, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def status(sim: ThreadedSimulator, headers: dict[str, str], **params) -> requests.Response:
    return requests.get(f"{base(sim)}/api/v1.0/external/sdtask/status", params=params, headers=headers, timeout=10)


def process(sim: ThreadedSimulator, headers: dict[str, str], body=None, **kw) -> requests.Response:
    return requests.post(
        f"{base(sim)}/api/v1.0/external/sdtask/process", json=body, headers=headers, timeout=10, **kw
    )


def view(sim: ThreadedSimulator, task_id) -> dict:
    answer = requests.get(f"{sim.url}/_sim/documents/smartdocumentor/{task_id}", timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def stats(sim: ThreadedSimulator) -> dict:
    return requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["smartdocumentor"]


# -- token endpoint ----------------------------------------------------------------


def test_token_answer_has_the_oauth_shape(sim):
    answer = get_token(sim)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert (body["expires_in"], body["token_type"], body["scope"]) == (3600, "Bearer", "WebAPI")
    assert len(body["access_token"]) >= 32 and body["access_token"].count(".") == 0  # opaque, not a JWT
    assert get_token(sim).json()["access_token"] != body["access_token"]
    assert stats(sim)["token_calls"] == 2


def test_token_without_scope_grants_the_configured_scope(sim):
    assert get_token(sim, scope=None).json()["scope"] == "WebAPI"


def test_client_secret_basic_is_accepted_too(sim):
    answer = requests.post(
        f"{base(sim)}/connect/token",
        data={"grant_type": "client_credentials", "scope": "WebAPI"},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=5,
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"client_id": "someone"}, "invalid_client"),
        ({"client_id": None, "client_secret": None}, "invalid_client"),
        ({"scope": "OtherAPI"}, "invalid_scope"),
        ({"scope": "WebAPI OtherAPI"}, "invalid_scope"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": None}, "unsupported_grant_type"),
    ],
)
def test_token_errors_are_400_with_an_oauth_error(sim, overrides, error):
    answer = get_token(sim, **overrides)
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    assert CLIENT_SECRET not in answer.text
    assert stats(sim)["token_calls"] == 1
    assert stats(sim)["auth_failures"] == (1 if error == "invalid_client" else 0)


def test_bad_client_is_reported_before_a_bad_grant_type(sim):
    assert get_token(sim, client_secret="x", grant_type="password").json() == {"error": "invalid_client"}


def test_json_token_request_is_invalid_request(sim):
    answer = requests.post(
        f"{base(sim)}/connect/token", json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, timeout=5
    )
    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_request"})


def test_wrong_methods_are_405(sim):
    assert requests.get(f"{base(sim)}/connect/token", timeout=5).status_code == 405
    assert requests.post(f"{base(sim)}/api/v1.0/external/sdtask/status", timeout=5).status_code == 405
    assert requests.head(f"{base(sim)}/api/v1.0/external/sdtask/status", timeout=5).status_code == 405
    assert requests.get(f"{base(sim)}/api/v1.0/external/sdtask/process", timeout=5).status_code == 405


# -- status -------------------------------------------------------------------------


def test_status_by_task_id_has_every_documented_field(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "PreProcessingInProgress"}], externalId="inv-7", displayName="Invoice 7")
    answer = status(sim, headers, taskId=task_id)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == RESPONSE_FIELDS
    assert body["taskId"] == int(task_id) and isinstance(body["taskId"], int)
    assert (body["taskStatus"], body["taskStatusText"]) == (31, "PreProcessingInProgress")
    assert (body["integrationStatus"], body["integrationStatusText"]) == (1, "Queued")
    assert (body["externalId"], body["displayName"], body["totalPages"]) == ("inv-7", "Invoice 7", 0)
    assert body["createdOn"].endswith("Z") and body["preProcessingStartedOn"].endswith("Z")
    assert (body["workspaceId"], body["batchId"], body["restartCount"]) == (1, None, 0)


@pytest.mark.parametrize("key", ["taskid", "TaskID"])
def test_task_id_parameter_is_case_insensitive(sim, key):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "Processed"}])
    assert status(sim, headers, **{key: task_id}).json()["taskId"] == int(task_id)


def test_status_by_external_id_and_by_both(sim):
    headers = bearer(sim)
    first = create(sim, [{"status": "Processed"}], externalId="ext-1")
    second = create(sim, [{"status": "ToReview"}], externalId="ext-2")
    assert status(sim, headers, externalId="ext-2").json()["taskId"] == int(second)
    assert status(sim, headers, taskId=first, externalId="ext-1").json()["taskStatusText"] == "Processed"
    assert status(sim, headers, taskId=first, externalId="ext-2").status_code == 404
    assert status(sim, headers, externalid="ext-1").json()["taskId"] == int(first)


@pytest.mark.parametrize("params", [{}, {"taskId": ""}, {"taskId": "abc"}, {"other": "1"}])
def test_no_usable_id_is_400_with_an_empty_body(sim, params):
    answer = status(sim, bearer(sim), **params)
    assert (answer.status_code, answer.content) == (400, b"")


@pytest.mark.parametrize("params", [{"taskId": "987654"}, {"externalId": "nobody"}])
def test_unknown_task_is_404_with_an_empty_body(sim, params):
    answer = status(sim, bearer(sim), **params)
    assert (answer.status_code, answer.content) == (404, b"")
    assert stats(sim)["status_calls"] == 1


def test_life_of_the_default_script_and_status_numbers(sim):
    headers = bearer(sim)
    task_id = create(
        sim,
        [
            {"status": "QueuedForPreProcessing", "polls": 1},
            {"status": "PreProcessingSuccessful", "polls": 1},
            {"status": "ToReview", "polls": 1},
            {"status": "Processed"},
        ],
        totalPages=12,
    )
    bodies = [status(sim, headers, taskId=task_id).json() for _ in range(4)]
    assert [(b["taskStatus"], b["taskStatusText"], b["integrationStatusText"], b["totalPages"]) for b in bodies] == [
        (30, "QueuedForPreProcessing", "Queued", 0),
        (34, "PreProcessingSuccessful", "Queued", 12),
        (901, "ToReview", "Queued", 12),
        (902, "Processed", "Successful", 12),
    ]
    assert bodies[0]["preProcessingStartedOn"] is None
    assert bodies[1]["preProcessingStartedOn"] is not None


def test_step_keys_set_integration_status_task_status_and_pages(sim):
    headers = bearer(sim)
    failed = create(sim, [{"status": "PreProcessingFailed", "integration_status": "Failed"}])
    body = status(sim, headers, taskId=failed).json()
    assert (body["taskStatus"], body["integrationStatus"], body["integrationStatusText"]) == (32, 4, "Failed")
    odd = create(sim, [{"status": "Quarantined", "task_status": 77, "total_pages": 5}])
    body = status(sim, headers, taskId=odd).json()
    assert (body["taskStatus"], body["taskStatusText"], body["totalPages"]) == (77, "Quarantined", 5)
    unknown = create(sim, "unknown_status")
    time.sleep(1.05)
    body = status(sim, headers, taskId=unknown).json()
    assert (body["taskStatus"], body["taskStatusText"]) == (None, "Quarantined")


def test_payload_overrides_response_fields(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "InReview", "payload": {"restartCount": 2, "description": "stuck?"}}])
    body = status(sim, headers, taskId=task_id).json()
    assert (body["taskStatus"], body["restartCount"], body["description"]) == (4, 2, "stuck?")


# -- process -------------------------------------------------------------------------------


def test_process_creates_a_task_and_counts_it(sim):
    headers = bearer(sim)
    answer = process(sim, headers, {"externalId": "po-1", "displayName": "PO 1"})
    assert answer.status_code == 201
    body = answer.json()
    assert body["externalId"] == "po-1" and isinstance(body["taskId"], int)
    task = status(sim, headers, taskId=str(body["taskId"])).json()
    assert (task["displayName"], task["taskStatusText"], task["taskNumber"]) == ("PO 1", "QueuedForPreProcessing", 1)
    assert view(sim, body["taskId"])["current_step"] == {"status": "QueuedForPreProcessing", "seconds": 1.0}
    second = process(sim, headers, {}).json()
    assert second["externalId"] is None and second["taskId"] != body["taskId"]
    assert status(sim, headers, taskId=str(second["taskId"])).json()["taskNumber"] == 2
    assert stats(sim)["start_calls"] == 2


def test_process_without_a_body_is_accepted(sim):
    answer = requests.post(
        f"{base(sim)}/api/v1.0/external/sdtask/process", headers=bearer(sim), timeout=5
    )
    assert answer.status_code == 201


def test_process_chooses_the_script_by_name_then_by_document_name(sim):
    headers = bearer(sim)
    by_name = process(sim, headers, {"script": "deleted", "document": {"name": "review.pdf", "data": ""}}).json()
    assert view(sim, by_name["taskId"])["current_step"]["status"] == "QueuedForPreProcessing"
    pdf = base64.b64encode(b"%PDF").decode()
    by_document = process(sim, headers, {"document": {"name": "in/Download_Failed.pdf", "data": pdf}}).json()
    task = status(sim, headers, taskId=str(by_document["taskId"])).json()
    assert task["displayName"] == "in/Download_Failed.pdf"
    time.sleep(1.05)
    assert status(sim, headers, taskId=str(by_document["taskId"])).json()["taskStatusText"] == (
        "PreProcessingDownloadFailed"
    )
    assert status(sim, headers, taskId=str(by_name["taskId"])).json()["taskStatusText"] == "Deleting"


def test_duplicate_external_id_is_409(sim):
    headers = bearer(sim)
    assert process(sim, headers, {"externalId": "dup"}).status_code == 201
    answer = process(sim, headers, {"externalId": "dup"})
    assert answer.status_code == 409
    assert stats(sim)["start_calls"] == 1
    body = {"vendor": "smartdocumentor", "script": "default", "fields": {"externalId": "dup"}}
    assert requests.post(f"{sim.url}/_sim/documents", json=body, timeout=5).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"externalId": 5},
        {"script": "no_such_script"},
        {"script": 3},
        {"document": {"name": "a.pdf", "data": "%%%"}},
        {"document": "a.pdf"},
    ],
)
def test_bad_process_body_is_400(sim, body):
    answer = process(sim, bearer(sim), body)
    assert answer.status_code == 400, answer.text
    assert stats(sim)["start_calls"] == 0


def test_process_needs_a_token(sim):
    assert process(sim, {}, {}).status_code == 401


# -- tokens: missing, invalid, expired --------------------------------------------------------


def test_status_without_a_token_is_401_with_a_bearer_challenge(sim):
    task_id = create(sim, [{"status": "Processed"}])
    missing = status(sim, {}, taskId=task_id)
    assert (missing.status_code, missing.content, missing.headers["WWW-Authenticate"]) == (401, b"", "Bearer")
    invalid = status(sim, {"Authorization": "Bearer forged"}, taskId=task_id)
    assert invalid.status_code == 401
    assert 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]
    assert view(sim, task_id)["status_calls"] == 0
    assert stats(sim)["auth_failures"] == 2


def test_an_expert_ai_token_is_not_a_smartdocumentor_token(sim):
    jwt = requests.post(
        f"{sim.url}/expertai/oauth2/token",
        json={"username": "sim-expertai-user", "password": "sim-expertai-secret"},
        timeout=5,
    ).text
    task_id = create(sim, [{"status": "Processed"}])
    assert status(sim, {"Authorization": f"Bearer {jwt}"}, taskId=task_id).status_code == 401


def test_token_with_a_1_second_lifetime_expires(sim):
    assert requests.put(f"{sim.url}/_sim/tokens/smartdocumentor", json={"lifetime": 1}, timeout=5).ok
    answer = get_token(sim)
    assert answer.json()["expires_in"] == 1
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    task_id = create(sim, [{"status": "PreProcessingInProgress"}])
    assert status(sim, headers, taskId=task_id).status_code == 200
    time.sleep(1.1)
    expired = status(sim, headers, taskId=task_id)
    assert expired.status_code == 401
    assert "expired" in expired.headers["WWW-Authenticate"]
    assert status(sim, bearer(sim), taskId=task_id).status_code == 200


def test_expire_admin_call(sim):
    headers = bearer(sim)
    task_id = create(sim, [{"status": "Processed"}])
    assert status(sim, headers, taskId=task_id).status_code == 200
    answer = requests.post(f"{sim.url}/_sim/tokens/smartdocumentor/expire", timeout=5)
    assert answer.json() == {"vendor": "smartdocumentor", "expired": 1}
    assert status(sim, headers, taskId=task_id).status_code == 401
    assert stats(sim) == {"status_calls": 1, "start_calls": 0, "auth_failures": 1, "token_calls": 1, "ready_calls": 0}
    assert view(sim, task_id)["status_calls"] == 1


def test_scenario_changes_credentials_scope_and_lifetime():
    scenario = {
        "smartdocumentor": {
            "credentials": {"client_id": "c", "client_secret": "s", "scope": "Api2"},
            "token_lifetime": 90,
        }
    }
    with serve_in_thread(scenario) as custom:
        assert get_token(custom).json() == {"error": "invalid_client"}
        assert get_token(custom, client_id="c", client_secret="s").json() == {"error": "invalid_scope"}
        answer = get_token(custom, client_id="c", client_secret="s", scope="Api2").json()
        assert (answer["expires_in"], answer["scope"]) == (90, "Api2")


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault,code", [("http_500", 500), ("http_502", 502), ("http_503", 503), ("html", 502)])
def test_http_error_faults(sim, fault, code):
    headers = bearer(sim)
    task_id = create(sim, [{"fault": fault, "polls": 1}, {"status": "Processed"}])
    assert status(sim, headers, taskId=task_id).status_code == code
    assert status(sim, headers, taskId=task_id).json()["taskStatusText"] == "Processed"


def test_429_reset_slow_and_garbled(sim):
    headers = bearer(sim)
    task_id = create(
        sim,
        [
            {"status": "PreProcessingInProgress", "polls": 1},
            {"fault": "http_429", "retry_after": 2, "polls": 1},
            {"fault": "reset", "polls": 1},
            {"fault": "slow", "delay": 0.3, "polls": 1},
            {"status": "Processed", "fault": "garbled"},
        ],
    )
    assert status(sim, headers, taskId=task_id).status_code == 200
    limited = status(sim, headers, taskId=task_id)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    with pytest.raises(requests.ConnectionError):
        status(sim, headers, taskId=task_id)
    started = time.monotonic()
    slow = status(sim, headers, taskId=task_id)
    assert time.monotonic() - started >= 0.3
    assert slow.json()["taskStatusText"] == "PreProcessingInProgress"
    garbled = status(sim, headers, taskId=task_id)
    assert garbled.status_code == 200 and garbled.text.startswith('{"taskId": ')
    with pytest.raises(json.JSONDecodeError):
        json.loads(garbled.text)
    assert view(sim, task_id)["status_calls"] == 5


# -- admin and sandbox -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"id": "abc"}, "not a valid smartdocumentor document id"),
        ({"id": "0"}, "not a valid smartdocumentor document id"),
        ({"script": [{"status": 31}]}, "taskStatusText"),
        ({"script": [{"status": "Processed", "task_status": -1}]}, "'task_status'"),
        ({"fields": {"workspaceId": "one"}}, "wrong type"),
        ({"fields": {"colour": "red"}}, "unknown smartdocumentor field"),
    ],
)
def test_admin_refuses_bad_smartdocumentor_documents(sim, body, words):
    answer = requests.post(f"{sim.url}/_sim/documents", json={"vendor": "smartdocumentor", **body}, timeout=5)
    assert answer.status_code == 400
    assert words in answer.json()["error"]


def test_admin_ids_are_integers_and_a_chosen_id_is_kept(sim):
    chosen = create(sim, [{"status": "Processed"}], doc_id="0042")
    assert chosen == "42"
    assert status(sim, bearer(sim), taskId="42").json()["taskId"] == 42
    generated = create(sim, None)
    assert generated.isdigit()
    assert view(sim, generated)["status"] == "QueuedForPreProcessing"


def test_health_lists_both_token_vendors(sim):
    vendors = requests.get(f"{sim.url}/_sim/health", timeout=5).json()["vendors"]
    assert {"expertai", "smartdocumentor"} <= set(vendors)


def test_simulator_connection_points_the_token_url_at_the_simulator(sim):
    conn = simulator_connection(sim.url, SIMULATOR_CONNECTIONS["smartdocumentor_default"])
    assert conn["host"] == f"{sim.url}/smartdocumentor"
    assert conn["extra"] == {"scope": "WebAPI", "token_url": f"{sim.url}/smartdocumentor/connect/token"}
    token = requests.post(
        conn["extra"]["token_url"],
        data={
            "grant_type": "client_credentials",
            "scope": conn["extra"]["scope"],
            "client_id": conn["login"],
            "client_secret": conn["password"],
        },
        timeout=5,
    )
    assert token.status_code == 200
    task_id = create(sim, [{"status": "Processed"}])
    answer = requests.get(
        f"{conn['host']}/api/v1.0/external/sdtask/status",
        params={"taskId": task_id},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=5,
    )
    assert answer.json()["taskStatusText"] == "Processed"
