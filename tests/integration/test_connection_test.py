"""``test_connection`` on every hook, against the simulator over real sockets.

Good credentials pass; bad ones fail with a message that names the
connection and carries no secret (neither the password nor its Basic form);
an unreachable host fails; nothing raises. LEADTOOLS cannot tell good
credentials from bad, and says so whatever they are. The last tests run the
test the way Airflow 3.3 does on a worker: an SDK ``Connection`` held in
memory, never stored anywhere, whose ``test_connection`` finds the hook.
"""

from __future__ import annotations

import base64
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_docstatus.engine.errors import secret_forms
from airflow_docstatus.engine.hook import DocStatusHook
from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook, AzureTranslationBatchHook
from airflow_docstatus.hooks.cora import CoraSequenceOcrHook
from airflow_docstatus.hooks.expertai import ExpertAiExtractHook
from airflow_docstatus.hooks.leadtools import LeadtoolsHook
from airflow_docstatus.hooks.smartdocumentor import SmartDocumentorHook
from tests._compat import WORKER_CONNECTION_TEST

BAD_PASSWORD = "canary-conn-test-pw-7731"


@dataclass(frozen=True)
class Case:
    name: str
    conn_type: str
    hook_class: type[DocStatusHook]
    extra: dict[str, Any] = field(default_factory=dict)
    proves_credentials: bool = True

    def hook(self, conn_id: str) -> DocStatusHook:
        return self.hook_class(conn_id)


CASES = [
    Case("leadtools", "leadtools", LeadtoolsHook, proves_credentials=False),
    Case("expertai", "expertai_extract", ExpertAiExtractHook),
    Case("smartdocumentor", "smartdocumentor", SmartDocumentorHook),
    Case("azure_v1_1", "azure_document_translation", AzureDocumentTranslationHook),
    Case("azure_ga", "azure_document_translation", AzureTranslationBatchHook, {"api_version": "2024-05-01"}),
    Case("cora_soap11", "cora_sequence", CoraSequenceOcrHook),
    Case("cora_soap12", "cora_sequence", CoraSequenceOcrHook, {"auth": "basic", "soap_version": "1.2"}),
]


def define(connection, case: Case, conn_id: str, **fields: Any) -> str:
    """A connection to the simulator for ``case``; the case's extra laid over the vendor's default one."""
    from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS

    spec = next(s for s in SIMULATOR_CONNECTIONS.values() if s["conn_type"] == case.conn_type)
    if case.extra and "extra" not in fields:
        fields["extra"] = {**spec.get("extra", {}), **case.extra}
    return connection(conn_id, case.conn_type, **fields)


def assert_no_secret(message: str, password: str, login: str | None) -> None:
    basic = base64.b64encode(f"{login or ''}:{password}".encode()).decode()
    for secret in (password, basic, *secret_forms(password)):
        assert secret not in message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=CASES, ids=lambda c: c.name)
def case(request, sim_connections) -> Case:
    return request.param


def test_good_credentials_pass(case, connection):
    ok, message = case.hook(define(connection, case, f"good_{case.name}")).test_connection()
    assert ok is True, message
    assert f"connection 'good_{case.name}'" in message
    if case.proves_credentials:
        assert "good" in message
    else:
        assert "NOT checked" in message


def test_bad_credentials_fail_naming_the_connection_and_no_secret(case, connection):
    conn_id = define(connection, case, f"bad_{case.name}", password=BAD_PASSWORD)
    ok, message = case.hook(conn_id).test_connection()
    if case.proves_credentials:
        assert ok is False, message
        assert f"connection '{conn_id}'" in message
        assert "401" in message or "400" in message  # SmartDocumentor's token endpoint answers 400 invalid_client
    else:  # LEADTOOLS: the same answer as for good credentials, and it says it could not tell
        assert ok is True
        assert "NOT checked" in message and "401" in message
    from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS

    login = next(s for s in SIMULATOR_CONNECTIONS.values() if s["conn_type"] == case.conn_type).get("login")
    assert_no_secret(message, BAD_PASSWORD, login)


def test_an_unreachable_host_fails(case, connection):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    extra = {**case.extra}
    if case.conn_type == "expertai_extract":
        extra["auth_url"] = f"{url}/expertai/oauth2/token"
    if case.conn_type == "smartdocumentor":
        extra["token_url"] = f"{url}/smartdocumentor/connect/token"
    conn_id = define(connection, case, f"down_{case.name}", host=f"{url}/somewhere/", extra=extra)
    ok, message = case.hook(conn_id).test_connection()
    assert ok is False
    assert "failed to connect" in message and f"connection '{conn_id}'" in message


def test_nothing_raises_and_unexpected_errors_are_redacted(case, connection, monkeypatch):
    conn_id = define(connection, case, f"boom_{case.name}", password=BAD_PASSWORD)
    hook = case.hook(conn_id)

    def boom(self):
        raise RuntimeError(f"a library quoted the password {BAD_PASSWORD} and its Basic form")

    monkeypatch.setattr(type(hook).protocol_class, "probe_request", boom)
    ok, message = hook.test_connection()
    assert ok is False
    assert "RuntimeError" in message and f"connection '{conn_id}'" in message
    assert BAD_PASSWORD not in message and "***" in message


def test_a_missing_connection_fails_without_raising():
    ok, message = LeadtoolsHook("no_such_connection_here").test_connection()
    assert ok is False
    assert "no_such_connection_here" in message


def test_a_token_vendor_asks_the_token_endpoint_every_time(simulator, connection):
    """A cached token proves nothing about the credentials as they are now: the probe fetches afresh."""
    case = next(c for c in CASES if c.name == "expertai")
    hook = case.hook(define(connection, case, "fresh_token_each_test"))
    before = simulator.token_calls("expertai")
    assert hook.test_connection()[0] and case.hook("fresh_token_each_test").test_connection()[0]
    assert simulator.token_calls("expertai") - before == 2


def test_azure_an_api_version_the_resource_does_not_serve_fails_with_azures_words(sim_connections, connection):
    case = Case("azure_ga_unknown", "azure_document_translation", AzureTranslationBatchHook,
                {"api_version": "2025-01-01"})
    ok, message = case.hook(define(connection, case, "azure_unknown_version")).test_connection()
    assert ok is False
    assert "400" in message and "api-version" in message


def test_azure_lists_batches_in_both_shapes(simulator, sim_connections, connection):
    """The simulator's Get Translations Status: newest first, capped by $top/top, behind the key."""
    import requests

    for _ in range(2):
        simulator.create("azure_translation", [{"status": "Running"}])
    key = {"Ocp-Apim-Subscription-Key": "sim-azure-translation-key"}
    v11 = f"{simulator.url}/azure/translator/text/batch/v1.1/batches"
    ga = f"{simulator.url}/azure/translator/document/batches"
    assert len(requests.get(v11, params={"$top": "1"}, headers=key, timeout=10).json()["value"]) == 1
    answer = requests.get(ga, params={"api-version": "2024-05-01", "top": "1"}, headers=key, timeout=10)
    assert answer.status_code == 200 and len(answer.json()["value"]) == 1
    assert requests.get(v11, params={"$top": "x"}, headers=key, timeout=10).status_code == 400
    assert requests.get(v11, headers={"Ocp-Apim-Subscription-Key": "nope"}, timeout=10).status_code == 401


def test_leadtools_a_wrong_base_url_fails(sim_connections, connection, simulator):
    case = CASES[0]
    conn_id = define(connection, case, "lt_wrong_base", host=f"{simulator.url}/not-leadtools/")
    ok, message = case.hook(conn_id).test_connection()
    assert ok is False and "404" in message


def test_leadtools_an_empty_login_fails_before_any_call(sim_connections, connection):
    case = CASES[0]
    ok, message = case.hook(define(connection, case, "lt_no_login", login="")).test_connection()
    assert ok is False and "Application ID" in message


def test_cora_without_credentials_on_a_server_that_wants_them_fails(sim_connections, connection):
    case = CASES[5]
    conn_id = define(connection, case, "cora_no_auth", login=None, password=None, extra={"auth": "none"})
    ok, message = case.hook(conn_id).test_connection()
    assert ok is False and "401" in message


@pytest.mark.parametrize("good", [True, False], ids=["good", "bad"])
@pytest.mark.skipif(not WORKER_CONNECTION_TEST, reason="Airflow 3.3+: before it, only the api-server tests (below)")
def test_the_worker_path_finds_the_hook_and_an_in_memory_connection(simulator, good):
    """Airflow 3.3 runs a queued test on a worker with an SDK Connection that no backend holds."""
    from airflow.sdk import Connection

    from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS, simulator_connection

    fields = simulator_connection(simulator.url, SIMULATOR_CONNECTIONS["azure_document_translation_default"])
    if not good:
        fields["password"] = BAD_PASSWORD
    conn = Connection(conn_id=f"worker_held_{good}", **{**fields, "extra": json.dumps(fields.get("extra") or {})})
    ok, message = conn.test_connection()
    assert ok is good, message
    assert f"connection 'worker_held_{good}'" in message
    assert BAD_PASSWORD not in message


@pytest.mark.parametrize("good", [True, False], ids=["good", "bad"])
def test_the_api_server_path_finds_the_hook_of_the_connection_it_puts_in_the_environment(simulator, good,
                                                                                          monkeypatch):
    """The api-server's test of a form (every Airflow 3; the only one before 3.3): a metadata-DB
    ``Connection`` built from the form, held in ``AIRFLOW_CONN_<ID>`` for the test only."""
    from airflow.models.connection import Connection

    from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS, simulator_connection

    fields = simulator_connection(simulator.url, SIMULATOR_CONNECTIONS["azure_document_translation_default"])
    if not good:
        fields["password"] = BAD_PASSWORD
    conn = Connection(conn_id=f"form_held_{good}", **{**fields, "extra": json.dumps(fields.get("extra") or {})})
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn.conn_id.upper()}", conn.get_uri())
    ok, message = conn.test_connection()
    assert ok is good, message
    assert f"connection 'form_held_{good}'" in message
    assert BAD_PASSWORD not in message
