"""The engine's hardening, unit by unit and with no network (the same items over sockets:
tests/integration/test_hostile_vendors.py). Each test is named after the issue item it proves."""

from __future__ import annotations

import base64
import json
import os
import time
import tracemalloc
from email.utils import formatdate
from types import SimpleNamespace
from urllib.parse import quote_plus, urlencode

import pytest

from airflow_docstatus.engine.errors import InvalidInputError, TransientError
from airflow_docstatus.engine.http import HttpResponse
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.protocols.expertai import ExpertAiExtractProtocol
from airflow_docstatus.protocols.leadtools import LeadtoolsProtocol
from airflow_docstatus.protocols.smartdocumentor import SmartDocumentorProtocol

# A password that changes under every encoding it travels in: JSON, form, URL and Basic.
PASSWORD = 'p@ss w/"&=+%x'
LOGIN = "app-4417"
GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
DEFAULT = "https://azure.leadtools.com/api/"


def settings(password: str = PASSWORD, **extra) -> ConnectionSettings:
    return ConnectionSettings(conn_id="hostile", base_url="http://vendor.test/api/", login=LOGIN,
                              password=password, extra=extra)


def conn(**fields):
    base = dict(conn_id="c_hostile", conn_type="leadtools", host=None, schema=None, port=None,
                login="u", password="pw", extra_dejson={})
    base.update(fields)
    return SimpleNamespace(**base)


# item 2: no response is bounded --------------------------------------------------------------


def test_item2_the_excerpt_of_a_16_mib_garbled_error_body_is_quick_and_small():
    body = os.urandom(16 * 1024 * 1024)
    answer = HttpResponse(status=500, body=body)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        said = LeadtoolsProtocol(settings()).excerpt(answer)
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0 < len(said) <= 4 * 200  # 200 characters, control characters escaped
    assert took < 0.5, took  # was ~2 s: the whole body decoded and split
    assert peak < 8 * 1024 * 1024, peak  # was ~145 MB


# item 3: secrets in error text --------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(PASSWORD, id="raw"),
        pytest.param(json.dumps(PASSWORD)[1:-1], id="json"),
        pytest.param(quote_plus(PASSWORD), id="form"),
        pytest.param(base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode(), id="basic"),
    ],
)
def test_item3_every_encoding_of_the_password_is_redacted(form):
    text = LeadtoolsProtocol(settings()).redact(f"echo: [{form}] end")
    assert text == "echo: [***] end"


def test_item3_a_form_echo_of_the_smartdocumentor_secret_is_redacted():
    protocol = SmartDocumentorProtocol(settings())
    sent = protocol.token_request().body.decode()
    assert urlencode({"client_secret": PASSWORD}) in sent  # the form the secret travels in
    answer = HttpResponse(status=400, body=f"bad request: {sent}".encode())
    said = protocol.excerpt(answer)
    assert "***" in said and quote_plus(PASSWORD) not in said and PASSWORD not in said


def test_item3_a_json_echo_of_the_expertai_password_is_redacted():
    protocol = ExpertAiExtractProtocol(settings())
    sent = protocol.token_request().body.decode()
    assert json.dumps(PASSWORD) in sent
    said = protocol.excerpt(HttpResponse(status=401, body=f"rejected {sent}".encode()))
    assert "***" in said and json.dumps(PASSWORD)[1:-1] not in said


@pytest.mark.parametrize("at", [150, 185, 190])
def test_item3_a_secret_across_the_excerpt_cut_shows_no_prefix(at):
    basic = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    body = ("x" * (at - len("Authorization: Basic "))) + f"Authorization: Basic {basic} and more" + " y" * 100
    said = LeadtoolsProtocol(settings()).excerpt(HttpResponse(status=401, body=body.encode()))
    # no run of 6 characters of the Basic value may survive (it was cut first, then redacted: a prefix leaked)
    assert not any(basic[i:i + 6] in said for i in range(len(basic) - 5)), said


# item 4: tokens ------------------------------------------------------------------------------------


def token_answer(body: dict | str) -> HttpResponse:
    raw = body if isinstance(body, str) else json.dumps(body)
    return HttpResponse(status=200, body=raw.encode())


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("<!DOCTYPE html><html><body>Sign in</body></html>", "HTML page"),
        ("a" * (2 * 1024 * 1024), "too long"),
        ("abc\r\nX-Injected: 1", "not a bearer token"),
    ],
    ids=["html", "2MB", "crlf"],
)
def test_item4_a_token_that_is_no_bearer_token_is_a_transient_error(value, says):
    protocol = SmartDocumentorProtocol(settings())
    started = time.perf_counter()
    with pytest.raises(TransientError, match=says) as info:
        protocol.read_token(token_answer({"access_token": value, "expires_in": 3600}), time.time())
    assert time.perf_counter() - started < 1
    assert value[:40] not in str(info.value)


# item 5: ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["..", ".", " .. "])
def test_item5_a_dot_segment_task_id_is_refused(bad):
    with pytest.raises(InvalidInputError, match="extract_task_id"):
        ExpertAiExtractProtocol.checked_ref(extract_task_id=bad)


def test_item5_a_control_character_in_an_external_id_is_refused():
    with pytest.raises(InvalidInputError, match="external_id.*control characters"):
        SmartDocumentorProtocol.checked_ref(external_id="inv-1\nINFO forged line")


def test_item5_vendor_text_with_a_newline_is_escaped_in_every_vendor_status():
    forged = "PROGRESS\n[2026-01-01] INFO - Task succeeded"
    expert = ExpertAiExtractProtocol(settings()).parse_status(
        {"extract_task_id": "t"}, token_answer({"state": "PROGRESS", "current": 5, "message": forged}))
    assert "\n" not in expert.describe() and "\\n" in expert.message
    sd = SmartDocumentorProtocol(settings()).parse_status(
        {"sd_task_id": 4}, token_answer({"taskStatusText": forged, "integrationStatusText": "Queued\r\nX"}))
    assert "\n" not in sd.describe() and "\r" not in sd.describe(), sd.describe()


def test_item5_secrets_in_a_smartdocumentor_status_text_are_redacted():
    sd = SmartDocumentorProtocol(settings()).parse_status(
        {"sd_task_id": 4}, token_answer({"taskStatusText": f"Queued {PASSWORD}", "integrationStatusText": PASSWORD}))
    assert PASSWORD not in repr(sd.to_record()) and PASSWORD not in sd.describe()


# item 9: Retry-After as a date ---------------------------------------------------------------------


def test_item9_retry_after_as_an_http_date():
    answer = HttpResponse(status=429, headers={"Retry-After": formatdate(time.time() + 6, usegmt=True)})
    assert 4.5 <= answer.retry_after <= 6.5
    past = HttpResponse(status=429, headers={"Retry-After": formatdate(time.time() - 60, usegmt=True)})
    assert past.retry_after == 0
    assert HttpResponse(status=429, headers={"Retry-After": "soon"}).retry_after is None


# item 13: expires_in as a numeric string ---------------------------------------------------------


@pytest.mark.parametrize("lifetime", ["3", " 3 ", "3.0", 3])
def test_item13_expires_in_as_a_numeric_string_sets_the_renewal(lifetime):
    now = 1_000_000.0
    token = SmartDocumentorProtocol(settings()).read_token(
        token_answer({"access_token": "tok-123", "expires_in": lifetime}), now)
    assert token.renew_at == pytest.approx(now + 2.7)
    assert token.usable(now + 2.5) and not token.usable(now + 2.8)


# item 15: bad connection settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"extra_dejson": {"read_timeout": "nan"}}, "read_timeout"),
        ({"extra_dejson": {"read_timeout": "inf"}}, "read_timeout"),
        ({"extra_dejson": {"connect_timeout": float("nan")}}, "connect_timeout"),
        ({"host": "https://vendor.test/api?tenant=1"}, "host"),
        ({"host": "https://vendor.test/api#x"}, "host"),
        ({"host": "https://vendor.test/api", "port": 8443}, "port"),
        ({"host": "ftp://vendor.test/api"}, "host"),
        ({"extra_dejson": {"max_body_bytes": "lots"}}, "max_body_bytes"),
        ({"extra_dejson": {"max_body_bytes": 10}}, "max_body_bytes"),
    ],
    ids=["nan", "inf", "nan-float", "query", "fragment", "port-beside-url", "ftp", "bytes-text", "bytes-tiny"],
)
def test_item15_bad_connection_settings_name_the_connection_and_the_field(fields, field):
    with pytest.raises(InvalidInputError) as info:
        ConnectionSettings.from_connection(conn(**fields), default_host=DEFAULT)
    assert "'c_hostile'" in str(info.value) and field in str(info.value)


@pytest.mark.parametrize(("raw", "parsed"), [("off", False), ("OFF", False), ("on", True), ("no", False)])
def test_item15_verify_off_means_false(raw, parsed):
    assert ConnectionSettings.from_connection(conn(extra_dejson={"verify": raw}), default_host=DEFAULT).verify is parsed


# item 14: large results on the loop ----------------------------------------------------------------


class Counted:
    """A value json.dumps(default=str) turns into 100 characters, counting how often it is asked."""

    asked = 0

    def __str__(self) -> str:
        Counted.asked += 1
        return "x" * 98


def test_item14_sizing_a_large_payload_for_the_event_stops_at_the_limit():
    from airflow_docstatus.engine.events import EVENT_PAYLOAD_LIMIT, json_size_exceeds, success_event
    from airflow_docstatus.engine.status import DocStatus, State

    payload = [Counted()] * 100_000  # 10 MB as JSON
    Counted.asked = 0
    event = success_event(DocStatus(vendor="expertai", ref={"extract_task_id": "t"}, state=State.SUCCEEDED,
                                    vendor_status="SUCCESS", payload=payload))
    assert event["payload_omitted"] is True and "payload" not in event
    assert Counted.asked <= EVENT_PAYLOAD_LIMIT // 100 + 2, Counted.asked  # not all 100,000: it stopped at the limit
    for size in (EVENT_PAYLOAD_LIMIT - 10, EVENT_PAYLOAD_LIMIT, EVENT_PAYLOAD_LIMIT + 1):
        exact = "y" * (size - 2)  # a JSON string: its quotes make it ``size`` characters
        assert json_size_exceeds(exact, EVENT_PAYLOAD_LIMIT) is (size > EVENT_PAYLOAD_LIMIT)
    small = {"path": "https://x/y.docx", "n": [1, 2.5, None, True], "t": Counted()}
    assert json_size_exceeds(small, 10) is (len(json.dumps(small, default=str)) > 10)
