"""Connection settings and the trigger event format."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_docstatus.engine import events
from airflow_docstatus.engine.errors import InvalidInputError
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.status import DocStatus, State

DEFAULT = "https://azure.leadtools.com/api/"


def conn(**fields):
    base = dict(conn_id="c", conn_type="leadtools", host=None, schema=None, port=None,
                login="u", password="pw", extra_dejson={})
    base.update(fields)
    return SimpleNamespace(**base)


@pytest.mark.parametrize(
    ("fields", "url"),
    [
        ({}, DEFAULT),
        ({"host": "http://127.0.0.1:9/leadtools/api"}, "http://127.0.0.1:9/leadtools/api/"),
        ({"host": "127.0.0.1", "port": 9, "schema": "leadtools/api"}, "https://127.0.0.1:9/leadtools/api/"),
        ({"host": "h", "extra_dejson": {"scheme": "http"}}, "http://h/"),
    ],
)
def test_base_url(fields, url):
    assert ConnectionSettings.from_connection(conn(**fields), default_host=DEFAULT).base_url == url


def test_verify_and_timeouts():
    settings = ConnectionSettings.from_connection(conn(), default_host=DEFAULT)
    assert settings.verify is True and settings.connect_timeout == 10 and settings.read_timeout == 30
    for raw, parsed in [("false", False), (False, False), ("true", True), ("/etc/ca.pem", "/etc/ca.pem")]:
        got = ConnectionSettings.from_connection(conn(extra_dejson={"verify": raw}), default_host=DEFAULT)
        assert got.verify == parsed
    prefixed = conn(extra_dejson={"extra__leadtools__read_timeout": "5"})
    assert ConnectionSettings.from_connection(prefixed, default_host=DEFAULT).read_timeout == 5
    with pytest.raises(InvalidInputError, match="read_timeout"):
        ConnectionSettings.from_connection(conn(extra_dejson={"read_timeout": "soon"}), default_host=DEFAULT)
    with pytest.raises(InvalidInputError, match="connect_timeout"):
        ConnectionSettings.from_connection(conn(extra_dejson={"connect_timeout": 0}), default_host=DEFAULT)


def test_max_requests_per_second():
    def read(extra):
        return ConnectionSettings.from_connection(conn(extra_dejson=extra), default_host=DEFAULT).max_requests_per_second

    assert read({}) is None and read({"max_requests_per_second": None}) is None
    assert read({"max_requests_per_second": ""}) is None  # the UI's empty field
    assert read({"max_requests_per_second": "5"}) == 5.0 and read({"max_requests_per_second": 0.5}) == 0.5
    assert read({"extra__leadtools__max_requests_per_second": 2}) == 2.0
    for bad in (0, -1, "soon", True, "inf", "nan", 10001, [5]):
        with pytest.raises(InvalidInputError, match="extra 'max_requests_per_second' must be a number of requests"):
            read({"max_requests_per_second": bad})


def test_extras_the_ui_saved_empty_are_not_set():
    """Airflow's connection form stores an extra field left empty as null (or ""): the default applies."""
    empty = {name: None for name in ("verify", "connect_timeout", "read_timeout", "call_timeout", "max_body_bytes")}
    empty["api_version"] = ""
    settings = ConnectionSettings.from_connection(conn(extra_dejson=empty), default_host=DEFAULT)
    assert settings.verify is True and settings.read_timeout == 30 and settings.call_timeout == 60
    assert "api_version" not in settings.extra and "max_body_bytes" not in settings.extra
    with pytest.raises(InvalidInputError, match="read_timeout"):
        ConnectionSettings.from_connection(conn(extra_dejson={"read_timeout": "0"}), default_host=DEFAULT)


def test_wrong_connection_type_is_refused():
    with pytest.raises(InvalidInputError, match="has type 'http', expected 'leadtools'"):
        ConnectionSettings.from_connection(conn(conn_type="http"), default_host=DEFAULT, expected_type="leadtools")


def test_settings_repr_hides_the_password():
    settings = ConnectionSettings.from_connection(conn(password="canary-9876"), default_host=DEFAULT)
    assert "canary-9876" not in repr(settings)


def status(state=State.SUCCEEDED, payload=None):
    return DocStatus(vendor="leadtools", ref={"file_id": "f"}, state=state, vendor_status="200", payload=payload)


def test_success_event_round_trips():
    outcome = events.Outcome.parse(events.success_event(status(payload=[{"a": 1}])))
    assert outcome.status == "success" and outcome.payload == [{"a": 1}] and not outcome.payload_omitted
    assert outcome.docstatus.state is State.SUCCEEDED


def test_large_payload_is_left_out_of_the_event():
    event = events.success_event(status(payload=["x" * 1000] * 100))
    assert "payload" not in event and event["payload_omitted"] is True
    assert events.Outcome.parse(event).payload_omitted


@pytest.mark.parametrize(
    "bad",
    [None, "done", {"status": "maybe"}, {"status": "success"}, {"status": "error", "kind": "what"},
     {"status": "failed", "docstatus": {"vendor": "x"}}],
)
def test_malformed_events_are_refused(bad):
    with pytest.raises(ValueError):
        events.Outcome.parse(bad)
