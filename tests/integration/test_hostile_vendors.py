"""Hostile vendors over real loopback sockets: each test is named after the issue item it proves.

A small malicious server (tests/integration/hostile.py) plays the vendor:
compression bombs, endless and dripping bodies, echoed secrets, odd tokens,
dated Retry-After; a tiny forward proxy stands between the provider and the
simulator for the proxy item. Every test goes through the provider's real
hooks and triggers (requests on the sync path, aiohttp on the async one).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import re
import time
import tracemalloc
import uuid
from email.utils import formatdate
from urllib.parse import quote_plus

import pytest
from aiohttp import web

from airflow_docstatus.engine.errors import DocStatusError, InvalidInputError, TransientError
from airflow_docstatus.engine.status import State
from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook
from airflow_docstatus.hooks.expertai import ExpertAiExtractHook
from airflow_docstatus.hooks.leadtools import LeadtoolsHook
from airflow_docstatus.hooks.smartdocumentor import SmartDocumentorHook
from airflow_docstatus.triggers.azure_translation import AzureDocumentTranslationStatusTrigger
from airflow_docstatus.triggers.expertai import ExpertAiExtractStatusTrigger
from airflow_docstatus.triggers.leadtools import LeadtoolsQueryTrigger
from airflow_docstatus.triggers.smartdocumentor import SmartDocumentorTaskStatusTrigger
from tests.integration.hostile import MIB, ForwardProxy, HostileServer, endless, gzip_of_zeros, json_answer, stream
from tests.support import FakeClock, events_of, with_clock

# A password that changes under every encoding it travels in (JSON, form, URL, Basic).
PASSWORD = 'p@ss w/"&=+%x'
LOGIN = "hostile-app"
BASIC = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
FORMS = {"raw": PASSWORD, "json": json.dumps(PASSWORD)[1:-1], "form": quote_plus(PASSWORD), "basic": BASIC}
AZURE_KEY = "hostile-azure-key-5b1f0c2e9d"
TOKEN = "hostile-token-Zq81.x4Ty-9000"
FILE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
BATCH, DOCUMENT = str(uuid.uuid4()), str(uuid.uuid4())
MODES = ("sync", "async")
LEADTOOLS_CAP = 16 * MIB  # LeadtoolsProtocol.max_body_bytes
AZURE_DOCUMENT_CAP = 4 * MIB  # AzureDocumentStatusProtocol.max_body_bytes


# -- helpers ---------------------------------------------------------------------------------------


def define(monkeypatch, request, conn_type: str, host: str, *, login=LOGIN, password=PASSWORD, **extra) -> str:
    """A connection of its own for this test (so no token or session is shared with another test)."""
    conn_id = f"hostile_{uuid.uuid4().hex[:10]}"
    conn = {"conn_type": conn_type, "host": host, "login": login, "password": password, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


VENDORS = {
    "leadtools": (LeadtoolsHook, LeadtoolsQueryTrigger, {"file_id": FILE_ID}),
    "expertai": (ExpertAiExtractHook, ExpertAiExtractStatusTrigger, {"extract_task_id": "task-1"}),
    "smartdocumentor": (SmartDocumentorHook, SmartDocumentorTaskStatusTrigger, {"sd_task_id": 44}),
    "azure": (AzureDocumentTranslationHook, AzureDocumentTranslationStatusTrigger,
              {"batch_id": BATCH, "document_id": DOCUMENT}),
}


def trigger_of(vendor: str, conn_id: str, ids: dict | None = None, **kwargs):
    hook_class, trigger_class, default_ids = VENDORS[vendor]
    return trigger_class(**(ids or default_ids), **{hook_class.conn_name_attr: conn_id}, **kwargs)


def outcome(mode: str, vendor: str, conn_id: str, ids: dict | None = None, **trigger_kwargs):
    """Poll once (sync: the hook; async: a whole trigger run on a fake clock).

    Returns ("status", DocStatus) / (error class name, message) for sync, and the
    trigger's event for async.
    """
    hook_class, _trigger_class, default_ids = VENDORS[vendor]
    if mode == "sync":
        try:
            return "status", hook_class(conn_id).check_status(**(ids or default_ids))
        except DocStatusError as exc:
            return type(exc).__name__, str(exc)
    trigger_kwargs.setdefault("max_consecutive_errors", 2)
    clock = FakeClock()
    trigger_kwargs.setdefault("end_time", clock.now + 10)  # a document that only waits ends in a timeout, not a hang
    trigger = with_clock(trigger_of(vendor, conn_id, ids, poll_interval=1, **trigger_kwargs), clock)
    events = asyncio.run(events_of(trigger))
    assert len(events) == 1
    return events[0]


def message_of(result) -> str:
    return result["message"] if isinstance(result, dict) else result[1]


def measured(call):
    """``call()``, its duration and the peak of memory traced while it ran (both server and client)."""
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = call()
        took = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, took, peak


def leadtools_answer(status: int = 200, data=None) -> web.Response:
    return json_answer({"FileStatus": status, "RequestData": data or []})


# -- item 2: no response is bounded ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_item2_a_gzip_bomb_stops_at_the_cap_quickly_in_bounded_memory(mode, monkeypatch, request):
    async def bomb(req):  # 1 GB of zeros, about 1 MB on the wire, compressed as it is sent
        return await stream(req, gzip_of_zeros(1024 * MIB), headers={"Content-Encoding": "gzip"})

    with HostileServer(bomb) as server:
        conn_id = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/")
        result, took, peak = measured(lambda: outcome(mode, "leadtools", conn_id))
    said = message_of(result)
    assert (result[0] if mode == "sync" else result["kind"]) in ("BodyTooLargeError", "permanent"), result
    assert f"over the cap of {LEADTOOLS_CAP} bytes" in said and "max_body_bytes" in said, said
    assert f"connection '{conn_id}'" in said, said  # which connection's max_body_bytes to raise
    assert took < 15, took
    assert peak < 64 * MIB, peak / MIB


@pytest.mark.parametrize("mode", MODES)
def test_item2_an_endless_chunked_body_stops_at_a_lowered_cap(mode, monkeypatch, request):
    async def forever(req):
        # bounded (256 MiB) even for a client without a cap
        return await stream(req, endless(b"{\"FileStatus\": 100, " + b" " * 65000, 256 * MIB))

    with HostileServer(forever) as server:
        conn_id = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/", max_body_bytes=MIB)
        result, took, peak = measured(lambda: outcome(mode, "leadtools", conn_id))
    said = message_of(result)
    assert f"over the cap of {MIB} bytes" in said and "on the wire" in said, said
    assert took < 10, took
    assert peak < 32 * MIB, peak / MIB


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
@pytest.mark.parametrize("mode", MODES)
def test_item2_a_16_mib_garbled_error_body_fails_naming_the_cap(mode, declared, monkeypatch, request):
    garbage = os.urandom(MIB)

    async def garbled(req):
        if declared:
            return web.Response(status=500, body=garbage * 16, content_type="text/html")
        return await stream(req, (garbage for _ in range(16)), status=500, content_type="text/html")

    with HostileServer(garbled) as server:
        conn_id = define(monkeypatch, request, "azure_document_translation", f"{server.url}/azure/",
                         login=None, password=AZURE_KEY)
        result, took, peak = measured(lambda: outcome(mode, "azure", conn_id))
    said = message_of(result)
    assert f"over the cap of {AZURE_DOCUMENT_CAP} bytes" in said, said
    assert ("declares" in said) is declared
    assert took < 10, took
    assert peak < 64 * MIB, peak / MIB


@pytest.mark.parametrize("mode", MODES)
def test_item2_a_16_mib_garbled_error_body_under_a_raised_cap_is_a_quick_transient_error(mode, monkeypatch, request):
    garbage = os.urandom(MIB)

    async def garbled(req):
        return await stream(req, (garbage for _ in range(16)), status=500, content_type="text/html")

    with HostileServer(garbled) as server:
        conn_id = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/",
                         max_body_bytes=32 * MIB)
        result, took, peak = measured(lambda: outcome(mode, "leadtools", conn_id))
    said = message_of(result)
    assert "HTTP 500" in said and len(said) < 2000, said
    assert (result[0] if mode == "sync" else result["kind"]) in ("TransientError", "exhausted"), result
    assert took < 10, took
    assert peak < 100 * MIB, peak / MIB  # the 16 MiB body itself, not the ~150 MB of decoding all of it


@pytest.mark.parametrize("mode", MODES)
def test_item2_max_body_bytes_raises_the_cap_for_a_large_answer(mode, monkeypatch, request):
    item = {"ServiceType": "Recognition", "RecognitionType": "Text", "data": [{"Text": "x" * 1000}] * 20_000}
    big = json.dumps({"FileStatus": 200, "RequestData": [item]}).encode()  # ~20 MB
    assert len(big) > LEADTOOLS_CAP

    async def large(req):
        return web.Response(body=big, content_type="application/json")

    with HostileServer(large) as server:
        default = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/")
        raised = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/", max_body_bytes=32 * MIB)
        refused = outcome(mode, "leadtools", default)
        accepted = outcome(mode, "leadtools", raised)
    assert f"over the cap of {LEADTOOLS_CAP} bytes" in message_of(refused)
    if mode == "sync":
        assert accepted[0] == "status" and accepted[1].state is State.SUCCEEDED
        assert len(accepted[1].payload[0]["data"]) == 20_000
    else:
        assert accepted["status"] == "success" and accepted.get("payload_omitted") is True


@pytest.mark.parametrize("mode", MODES)
def test_item2_the_expertai_default_cap_takes_the_8_mb_result_and_a_lowered_one_refuses_it(
    mode, simulator, connection
):
    doc = simulator.create("expertai", [{"status": "SUCCESS", "result_pages": 500}])
    default = connection(f"ex_cap_default_{mode}", "expertai_extract")
    lowered = connection(f"ex_cap_low_{mode}", "expertai_extract", extra={
        "auth_url": f"{simulator.url}/expertai/oauth2/token", "max_body_bytes": MIB})
    ids = {"extract_task_id": doc}
    taken = outcome(mode, "expertai", default, ids)
    refused = outcome(mode, "expertai", lowered, ids)
    if mode == "sync":
        assert taken[0] == "status" and taken[1].state is State.SUCCEEDED
        assert taken[1].payload["header"]["totPages"] == 500
    else:
        assert taken["status"] == "success"
    assert f"over the cap of {MIB} bytes" in message_of(refused)


# -- item 3: secrets in error text -------------------------------------------------------------------


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, (secret, text)
        # nor a telling piece of it: no 8 characters in a row
        assert not any(secret[i:i + 8] in text for i in range(max(len(secret) - 7, 0))), (secret, text)


# The Basic value starts at character 48 + padding of the body: 185 lies across the 200-character excerpt's cut.
@pytest.mark.parametrize("padding", [0, 137], ids=["at-the-start", "across-the-cut"])
@pytest.mark.parametrize("mode", MODES)
def test_item3_a_leadtools_401_echoing_the_authorization_header_never_reaches_the_message(
    mode, padding, monkeypatch, request
):
    async def echo(req):
        lines = ["x" * padding, f"Authorization: {req.headers.get('Authorization')}", f"{req.method} {req.path_qs}"]
        return web.Response(status=401, text="Unauthorized; you sent: " + " | ".join(lines))

    with HostileServer(echo) as server:
        conn_id = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/")
        result = outcome(mode, "leadtools", conn_id)
        sent = server.requests[0].headers["Authorization"]
    assert sent == f"Basic {BASIC}"  # the echo did carry the secret
    said = message_of(result)
    assert "HTTP 401" in said and f"'{conn_id}'" in said, said
    assert_no_secret(said if mode == "sync" else json.dumps(result), BASIC, PASSWORD)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("vendor", ["expertai", "smartdocumentor"])
def test_item3_an_echoed_json_or_form_password_never_reaches_the_message(vendor, mode, monkeypatch, request):
    async def echo(req):  # the token endpoint quotes the body it got, as it got it
        return web.Response(status=401, text=f"invalid credentials in {(await req.read()).decode()}")

    with HostileServer(echo) as server:
        if vendor == "expertai":
            conn_id = define(monkeypatch, request, "expertai_extract", f"{server.url}/expertai/beta",
                             auth_url=f"{server.url}/expertai/oauth2/token")
        else:
            conn_id = define(monkeypatch, request, "smartdocumentor", f"{server.url}/smartdocumentor",
                             token_url=f"{server.url}/smartdocumentor/connect/token", scope="WebAPI")
        result = outcome(mode, vendor, conn_id)
        sent = server.requests[0].body.decode()
    encoded = FORMS["json"] if vendor == "expertai" else FORMS["form"]
    assert encoded in sent and PASSWORD not in sent  # the echo carries the secret in its encoded form only
    said = message_of(result)
    assert "could not obtain a token" in said and "HTTP 401" in said, said
    assert_no_secret(json.dumps(result, default=str), encoded, PASSWORD)


@pytest.mark.parametrize("mode", MODES)
def test_item3_an_azure_failure_message_quoting_the_key_stays_out_of_the_failure_and_the_record(
    mode, monkeypatch, request
):
    from airflow_docstatus.sensors.azure_translation import AzureDocumentTranslationStatusSensor

    async def failed(req):
        key = req.headers.get("Ocp-Apim-Subscription-Key")
        return json_answer({"id": DOCUMENT, "status": "Failed", "path": None, "error": {
            "code": "InvalidRequest", "message": f"key {key} has no access to the container",
            "innerError": {"code": "Forbidden", "message": f"Ocp-Apim-Subscription-Key: {key}"}}})

    with HostileServer(failed) as server:
        conn_id = define(monkeypatch, request, "azure_document_translation", f"{server.url}/azure/",
                         login=None, password=AZURE_KEY)
        result = outcome(mode, "azure", conn_id)
    sensor = AzureDocumentTranslationStatusSensor(task_id="wait", batch_id=BATCH, document_id=DOCUMENT)
    if mode == "sync":
        status = result[1]
        assert status.state is State.FAILED
        record, failure = status.to_record(), sensor._failure_message(status)
    else:
        assert result["status"] == "failed"
        record = result["docstatus"]
        from airflow_docstatus.engine.events import Outcome

        failure = sensor._failure_message(Outcome.parse(result).docstatus)
    assert "InvalidRequest" in failure and "***" in failure
    assert_no_secret(json.dumps(record) + failure, AZURE_KEY)


def expertai_with_token(status_body) -> HostileServer:
    async def vendor(req):
        if req.path.endswith("/oauth2/token"):
            return web.Response(text=TOKEN, content_type="text/plain")
        return json_answer(status_body(req))

    return HostileServer(vendor)


@pytest.mark.parametrize("mode", MODES)
def test_item3_an_expertai_failure_message_quoting_the_token_stays_out_of_the_record(mode, monkeypatch, request):
    def failure(req):
        return {"state": "FAILURE", "current": 0, "message": f"worker crashed; {req.headers['Authorization']}"}

    with expertai_with_token(failure) as server:
        conn_id = define(monkeypatch, request, "expertai_extract", f"{server.url}/expertai/beta",
                         auth_url=f"{server.url}/expertai/oauth2/token")
        result = outcome(mode, "expertai", conn_id)
    record = result[1].to_record() if mode == "sync" else result["docstatus"]
    assert record["state"] == "failed" and "worker crashed" in record["message"]
    assert_no_secret(json.dumps(record), TOKEN)


# -- item 4: tokens ------------------------------------------------------------------------------------


def expertai_token_server(token_text: str) -> HostileServer:
    async def vendor(req):
        if req.path.endswith("/oauth2/token"):
            return web.Response(text=token_text, content_type="text/plain")
        return json_answer({"state": "PENDING", "current": 0, "message": "queued"})

    return HostileServer(vendor)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("<!DOCTYPE html><html><head><title>Sign in</title></head><body>Session expired</body></html>",
         "without a token|HTML page"),
        ("<html><body>Session&nbsp;expired</body></html>", "HTML page"),
        ("A" * (2 * MIB), "too long"),
    ],
    ids=["html", "html-no-spaces", "2MB"],
)
def test_item4_a_token_that_is_no_token_is_a_transient_error_and_never_used(mode, token, says, monkeypatch, request):
    with expertai_token_server(token) as server:
        conn_id = define(monkeypatch, request, "expertai_extract", f"{server.url}/expertai/beta",
                         auth_url=f"{server.url}/expertai/oauth2/token")
        result, took, _peak = measured(lambda: outcome(mode, "expertai", conn_id))
        status_calls = server.calls("/status/")
    said = message_of(result)
    assert re.search(says, said), said
    assert (result[0] if mode == "sync" else result["kind"]) in ("TransientError", "exhausted"), result
    assert status_calls == []  # the token was never sent anywhere
    assert took < 5, took  # no multi-second stall on a 2 MB "token"
    assert token[:30] not in said


@pytest.mark.parametrize("mode", MODES)
def test_item4_a_token_with_cr_lf_is_a_clear_error_not_a_raw_value_error(mode, monkeypatch, request):
    async def vendor(req):
        if req.path.endswith("/connect/token"):
            return json_answer({"access_token": "tok\r\nX-Injected: yes", "expires_in": 3600})
        return json_answer({"taskId": 44, "taskStatusText": "Processed"})

    with HostileServer(vendor) as server:
        conn_id = define(monkeypatch, request, "smartdocumentor", f"{server.url}/smartdocumentor",
                         token_url=f"{server.url}/smartdocumentor/connect/token", scope="WebAPI")
        result = outcome(mode, "smartdocumentor", conn_id)
        status_calls = server.calls("sdtask/status")
    said = message_of(result)
    assert "not a bearer token" in said and f"'{conn_id}'" in said, said
    assert status_calls == []


@pytest.mark.asyncio
async def test_item4_a_failing_token_endpoint_is_asked_once_by_a_hundred_triggers(monkeypatch, request):
    async def vendor(req):
        if req.path.endswith("/oauth2/token"):
            return web.Response(status=500, text="token service down")
        return json_answer({"state": "PENDING"})

    with HostileServer(vendor) as server:
        conn_id = define(monkeypatch, request, "expertai_extract", f"{server.url}/expertai/beta",
                         auth_url=f"{server.url}/expertai/oauth2/token")
        triggers = [with_clock(trigger_of("expertai", conn_id, {"extract_task_id": f"task-{n}"}, poll_interval=1,
                                          max_consecutive_errors=3), FakeClock()) for n in range(100)]
        started = time.monotonic()
        results = await asyncio.gather(*(events_of(t) for t in triggers))
        took = time.monotonic() - started
        token_calls = len(server.calls("/oauth2/token"))
    assert [events[0]["kind"] for events in results] == ["exhausted"] * 100
    assert "HTTP 500" in results[0][0]["message"]
    # 300 polls in all, within the first backoff steps (1 s, then 2 s): one call per step, not one per poll
    assert token_calls <= 1 + math.ceil(took), (token_calls, took)
    assert token_calls <= 3


# -- item 5: ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("vendor", "ids", "says"),
    [
        ("expertai", {"extract_task_id": ".."}, "extract_task_id"),
        ("expertai", {"extract_task_id": "."}, "extract_task_id"),
        ("smartdocumentor", {"external_id": "inv-1\nINFO forged"}, "external_id"),
    ],
    ids=["dot-dot", "dot", "newline"],
)
def test_item5_bad_ids_are_refused_before_any_call(mode, vendor, ids, says, monkeypatch, request):
    async def anything(req):
        return web.Response(text=TOKEN) if "token" in req.path else json_answer({"state": "PENDING"})

    with HostileServer(anything) as server:
        if vendor == "expertai":
            conn_id = define(monkeypatch, request, "expertai_extract", f"{server.url}/expertai/beta",
                             auth_url=f"{server.url}/expertai/oauth2/token")
        else:
            conn_id = define(monkeypatch, request, "smartdocumentor", f"{server.url}/smartdocumentor",
                             token_url=f"{server.url}/smartdocumentor/connect/token")
        try:
            result = outcome(mode, vendor, conn_id, ids)
        except InvalidInputError as exc:  # the trigger refuses them when it is built, before it can be deferred
            assert mode == "async"
            result = ("InvalidInputError", str(exc))
        seen = list(server.requests)
    assert (result[0] if isinstance(result, tuple) else result["kind"]) in ("InvalidInputError", "invalid"), result
    assert says in message_of(result)
    assert seen == []


def test_item5_a_sensor_fails_on_a_dot_segment_id_before_any_call(monkeypatch, request):
    from airflow_docstatus._compat import AirflowFailException
    from airflow_docstatus.sensors.expertai import ExpertAiExtractStatusSensor

    with HostileServer(lambda req: asyncio.sleep(0, json_answer({"state": "PENDING"}))) as server:
        conn_id = define(monkeypatch, request, "expertai_extract", f"{server.url}/expertai/beta",
                         auth_url=f"{server.url}/expertai/oauth2/token")
        with pytest.raises(ValueError, match="wait: expert.ai Extract: `extract_task_id` must not be '..'"):
            ExpertAiExtractStatusSensor(task_id="wait", extract_task_id="..", expertai_conn_id=conn_id)  # DAG parse
        templated = ExpertAiExtractStatusSensor(
            task_id="wait", extract_task_id="{{ params.id }}", expertai_conn_id=conn_id
        )
        templated.render_template_fields({"params": {"id": ".."}})
        with pytest.raises(AirflowFailException, match="extract_task_id"):
            templated.poke({})  # rendered at run time: refused before any call
        assert server.requests == []


@pytest.mark.asyncio
async def test_item5_a_status_text_with_a_newline_is_escaped_in_the_trigger_log(monkeypatch, request, capsys):
    forged = "Queued\n[2026-01-01T00:00:00] INFO - Task exited with return code 0"

    async def vendor(req):
        if req.path.endswith("/connect/token"):
            return json_answer({"access_token": TOKEN, "expires_in": 3600})
        return json_answer({"taskId": 44, "taskStatusText": forged, "integrationStatusText": "Queued"})

    with HostileServer(vendor) as server:
        conn_id = define(monkeypatch, request, "smartdocumentor", f"{server.url}/smartdocumentor",
                         token_url=f"{server.url}/smartdocumentor/connect/token")
        clock = FakeClock()
        trigger = with_clock(trigger_of("smartdocumentor", conn_id, poll_interval=1, end_time=clock.now + 2.5), clock)
        capsys.readouterr()
        events = await events_of(trigger)
        logged = capsys.readouterr().out  # Airflow's structlog writes the trigger's lines here
        sync_line = SmartDocumentorHook(conn_id).check_status(sd_task_id=44).describe()
    assert events[0]["status"] == "timeout"
    # a forged line would start with "[2026-01-01T00:00:00] INFO"; every logged line is one of the trigger's own
    lines = [line for line in logged.splitlines() if "2026-01-01T00:00:00" in line]
    assert len(lines) >= 2 and all("sd_task_id=44 status=Queued\\n[" in line for line in lines), logged
    assert "\n" not in events[0]["message"] and "\n" not in events[0]["docstatus"]["vendor_status"]
    assert "\n" not in sync_line and "Queued\\n[" in sync_line


# -- item 6: the deadline bounds a call ---------------------------------------------------------------

DRIP_BODY = b'{"FileStatus": 100, "RequestData": []}'  # 38 bytes: 15 s at one byte every 0.4 s


async def drip(req):
    return await stream(req, (DRIP_BODY[i:i + 1] for i in range(len(DRIP_BODY))), pause=0.4)


def test_item6_the_time_left_bounds_a_dripping_answer_on_the_poke_path(monkeypatch, request):
    with HostileServer(drip) as server:
        conn_id = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/", read_timeout=2)
        started = time.monotonic()
        with pytest.raises(TransientError, match="took longer than 4.0s"):
            LeadtoolsHook(conn_id).check_status(file_id=FILE_ID, remaining=4)
        took = time.monotonic() - started
    assert 3 <= took < 8, took  # ≈4 s, not the 15 s the drip lasts


@pytest.mark.asyncio
async def test_item6_the_time_left_bounds_a_dripping_answer_in_the_async_hook(monkeypatch, request):
    with HostileServer(drip) as server:
        conn_id = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/", read_timeout=2)
        hook = LeadtoolsHook(conn_id)
        started = time.monotonic()
        try:
            with pytest.raises(TransientError, match="timed out"):
                await hook.acheck_status(file_id=FILE_ID, remaining=4)
        finally:
            await hook.aclose()
        took = time.monotonic() - started
    assert 3 <= took < 8, took


@pytest.mark.asyncio
async def test_item6_the_deadline_bounds_a_dripping_answer_in_the_trigger(monkeypatch, request):
    with HostileServer(drip) as server:
        conn_id = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/", read_timeout=2)
        trigger = trigger_of("leadtools", conn_id, poll_interval=2, end_time=time.time() + 4)
        started = time.monotonic()
        events = await events_of(trigger)
        took = time.monotonic() - started
    assert events[0]["status"] in ("timeout", "error"), events
    assert took < 8, took  # ≈4 s, not ≈15 s


# -- item 9: Retry-After as an HTTP-date -----------------------------------------------------------------


def rate_limited_once():
    answered = []

    async def vendor(req):
        if not answered:
            answered.append(True)
            return web.Response(status=429, text="slow down",
                                headers={"Retry-After": formatdate(math.ceil(time.time()) + 6, usegmt=True)})
        return leadtools_answer(200, [{"ServiceType": "Recognition", "data": []}])

    return HostileServer(vendor)


def test_item9_retry_after_as_a_date_holds_the_poke_loop_off(monkeypatch, request):
    from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

    class TI:
        def xcom_push(self, key, value):
            pass

    with rate_limited_once() as server:
        conn_id = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/")
        sensor = LeadtoolsQuerySensor(task_id="wait", file_id=FILE_ID, leadtools_conn_id=conn_id,
                                      mode="poke", poke_interval=1, timeout=60)
        started = time.monotonic()
        for poke_count in range(1, 6):  # what BaseSensorOperator.execute does between pokes
            if sensor.poke({"ti": TI()}):
                break
            time.sleep(sensor._get_next_poke_interval(started, lambda: time.monotonic() - started, poke_count))
        times = [seen.t for seen in server.requests]
    assert len(times) == 2, times
    assert times[1] - times[0] >= 5, times[1] - times[0]


@pytest.mark.asyncio
async def test_item9_retry_after_as_a_date_holds_the_trigger_off(monkeypatch, request):
    with rate_limited_once() as server:
        conn_id = define(monkeypatch, request, "leadtools", f"{server.url}/leadtools/api/")
        events = await events_of(trigger_of("leadtools", conn_id, poll_interval=1, end_time=time.time() + 60))
        times = [seen.t for seen in server.requests]
    assert events[0]["status"] == "success"
    assert len(times) == 2 and times[1] - times[0] >= 5, times


# -- item 10: proxies ----------------------------------------------------------------------------------


@pytest.fixture
def via_proxy(simulator, monkeypatch):
    """A forward proxy to the simulator in HTTP_PROXY/HTTPS_PROXY, NO_PROXY emptied."""
    port = int(simulator.url.rsplit(":", 1)[1])
    with ForwardProxy(("127.0.0.1", port)) as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(name, "")
        yield proxy, port


def proxied_leadtools(simulator, monkeypatch, request, port: int) -> tuple[str, str]:
    doc = simulator.create("leadtools", [{"status": 200, "payload": [{"ServiceType": "Recognition", "data": []}]}])
    conn_id = define(monkeypatch, request, "leadtools", f"http://vendor.invalid:{port}/leadtools/api/",
                     login="sim-leadtools-app", password="sim-leadtools-secret", connect_timeout=3, read_timeout=3)
    return conn_id, doc


def test_item10_the_requests_path_goes_through_the_proxy(simulator, via_proxy, monkeypatch, request):
    proxy, port = via_proxy
    conn_id, doc = proxied_leadtools(simulator, monkeypatch, request, port)
    status = LeadtoolsHook(conn_id).check_status(file_id=doc)
    assert status.state is State.SUCCEEDED
    assert any(line.startswith(f"GET http://vendor.invalid:{port}/leadtools/api/Query?id={doc}")
               for line in proxy.seen), proxy.seen


@pytest.mark.asyncio
async def test_item10_the_triggerer_path_goes_through_the_proxy_and_reads_the_env_per_request(
    simulator, via_proxy, monkeypatch, request
):
    proxy, port = via_proxy
    conn_id, doc = proxied_leadtools(simulator, monkeypatch, request, port)
    events = await events_of(with_clock(trigger_of("leadtools", conn_id, {"file_id": doc}), FakeClock()))
    assert events[0]["status"] == "success", events
    assert sum(f"vendor.invalid:{port}" in line for line in proxy.seen) == 1, proxy.seen
    # NO_PROXY is read at request time, in the same loop and the same session pool
    seen_before = len(proxy.seen)
    monkeypatch.setenv("NO_PROXY", "vendor.invalid")
    monkeypatch.setenv("no_proxy", "vendor.invalid")
    events = await events_of(with_clock(trigger_of("leadtools", conn_id, {"file_id": doc},
                                                   max_consecutive_errors=1), FakeClock()))
    assert events[0]["kind"] == "exhausted", events  # vendor.invalid does not resolve: asked directly, it fails
    assert len(proxy.seen) == seen_before


def test_item10_no_proxy_is_honoured_by_the_requests_path(simulator, via_proxy, monkeypatch, request):
    proxy, port = via_proxy
    conn_id, doc = proxied_leadtools(simulator, monkeypatch, request, port)
    monkeypatch.setenv("NO_PROXY", "vendor.invalid")
    monkeypatch.setenv("no_proxy", "vendor.invalid")
    seen_before = len(proxy.seen)  # the test's own admin call to the simulator went through the proxy too
    with pytest.raises(TransientError):
        LeadtoolsHook(conn_id).check_status(file_id=doc)
    assert len(proxy.seen) == seen_before, proxy.seen


# -- item 13: expires_in as a numeric string ---------------------------------------------------------


def test_item13_a_string_expires_in_renews_the_token_after_3_s(monkeypatch, request):
    issued = []

    async def vendor(req):
        if req.path.endswith("/connect/token"):
            issued.append(time.monotonic())
            return json_answer({"access_token": f"tok-{len(issued)}", "expires_in": "3", "token_type": "Bearer"})
        return json_answer({"taskId": 44, "taskStatusText": "QueuedForPreProcessing"})

    with HostileServer(vendor) as server:
        conn_id = define(monkeypatch, request, "smartdocumentor", f"{server.url}/smartdocumentor",
                         token_url=f"{server.url}/smartdocumentor/connect/token")
        hook = SmartDocumentorHook(conn_id)
        hook.check_status(sd_task_id=44)
        hook.check_status(sd_task_id=44)
        assert len(issued) == 1  # reused while good
        time.sleep(3.2)
        hook.check_status(sd_task_id=44)
        bearers = [seen.headers.get("Authorization") for seen in server.calls("sdtask/status")]
    assert len(issued) == 2  # renewed before use, without meeting a 401
    assert bearers == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


# -- item 14: a large result does not stall the triggerer loop ------------------------------------------


@pytest.mark.asyncio
async def test_item14_the_8_mb_expertai_result_is_parsed_off_the_loop(simulator, connection, monkeypatch):
    """The large answer is parsed in a worker thread, a small one on the loop; the event leaves the payload out.

    How long the loop stalls is a benchmark's business, not a timed test's: this checks where the work runs.
    (Sizing the event without dumping the whole payload: tests/unit/test_hardening.py, item 14.)
    """
    import threading

    from airflow_docstatus.engine.hook import PARSE_OFF_LOOP_BYTES
    from airflow_docstatus.protocols.expertai import ExpertAiExtractProtocol

    parsed_on: list[tuple[int, bool]] = []  # (body size, on the loop's thread?)
    real = ExpertAiExtractProtocol.interpret
    loop_thread = threading.get_ident()

    def recording(self, ref, response):
        parsed_on.append((len(response.body), threading.get_ident() == loop_thread))
        return real(self, ref, response)

    monkeypatch.setattr(ExpertAiExtractProtocol, "interpret", recording)
    big = simulator.create("expertai", [{"status": "PENDING", "polls": 1}, {"status": "SUCCESS", "result_pages": 500}])
    conn_id = connection("ex_loop_lag", "expertai_extract")
    events = await events_of(with_clock(trigger_of("expertai", conn_id, {"extract_task_id": big}), FakeClock()))
    assert events[0]["status"] == "success" and events[0]["payload_omitted"] is True
    (small_size, small_on_loop), (big_size, big_on_loop) = parsed_on
    assert small_size < PARSE_OFF_LOOP_BYTES and small_on_loop
    assert big_size > 5_000_000 and not big_on_loop


# -- item 15: bad connection settings -------------------------------------------------------------------

BAD_SETTINGS = {
    "nan": ({"read_timeout": "nan"}, None, "read_timeout"),
    "inf": ({"read_timeout": "inf"}, None, "read_timeout"),
    "missing-ca": ({"verify": "/nonexistent/ca-bundle.pem"}, None, "verify"),
    "query": ({}, "{url}/leadtools/api?tenant=1", "host"),
    "ftp": ({}, "ftp://127.0.0.1:{port}/leadtools/api/", "host"),
    "port-beside-url": ({}, "PORT", "port"),
}


@pytest.mark.parametrize("mode", [*MODES, "sensor"])
@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_item15_bad_connection_settings_are_refused_before_any_call(case, mode, monkeypatch, request):
    from airflow_docstatus._compat import AirflowFailException
    from airflow_docstatus.sensors.leadtools import LeadtoolsQuerySensor

    extra, host, field = BAD_SETTINGS[case]
    with HostileServer(lambda req: asyncio.sleep(0, leadtools_answer(100))) as server:
        conn = {"conn_type": "leadtools", "login": LOGIN, "password": PASSWORD, "extra": extra,
                "host": (host or "{url}/leadtools/api/").format(url=server.url, port=server.port)}
        if host == "PORT":
            conn.update(host=f"{server.url}/leadtools/api/", port=server.port)
        conn_id = f"hostile_bad_{case.replace('-', '_')}_{mode}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        if mode == "sensor":
            sensor = LeadtoolsQuerySensor(task_id="wait", file_id=FILE_ID, leadtools_conn_id=conn_id)
            with pytest.raises(AirflowFailException) as info:
                sensor.poke({})
            said = str(info.value)
        else:
            result = outcome(mode, "leadtools", conn_id)
            assert (result[0] if mode == "sync" else result["kind"]) in ("InvalidInputError", "invalid"), result
            said = message_of(result)
        seen = list(server.requests)
    assert f"'{conn_id}'" in said and field in said, said
    assert seen == []
