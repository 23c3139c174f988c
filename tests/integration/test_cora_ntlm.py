"""NTLM in poke/reschedule mode: the hook does a real NTLM handshake over a kept-alive loopback connection.

The simulator speaks Basic auth only, so this test runs a small NTLM-only
.asmx stand-in on 127.0.0.1 (pyspnego as the acceptor, with a credential file
in ``NTLM_USER_FILE``), the way IIS with Windows authentication answers: 401
``WWW-Authenticate: NTLM``, the challenge on the same connection, then the call.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import spnego  # installed with requests-ntlm (the test extra)

from airflow_docstatus.engine.errors import AuthenticationError
from airflow_docstatus.engine.status import State
from airflow_docstatus.hooks.cora import CoraSequenceOcrHook

NS = "http://genpact.com/cora/orchestration/ocr/1.0.0/api/"
COMPLETED = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    f'<soap:Body><GetStatusResponse xmlns="{NS}"><GetStatusResult><Status>Completed</Status>'
    "<ErrorCode>NoError</ErrorCode><ExternalContext>ntlm-ok</ExternalContext></GetStatusResult>"
    "</GetStatusResponse></soap:Body></soap:Envelope>"
).encode()


class NtlmAsmx(BaseHTTPRequestHandler):
    """One instance per TCP connection: the NTLM context lives as long as the connection, as in IIS."""

    protocol_version = "HTTP/1.1"
    seen: list[dict] = []

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass

    def _answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        self.seen.append({"connection": id(self), "scheme": scheme, "has_body": bool(body)})
        if scheme != "NTLM":
            return self._answer(401, b"401 - Unauthorized", {"WWW-Authenticate": "NTLM"})
        if not hasattr(self, "ntlm"):
            self.ntlm = spnego.server(protocol="ntlm")
        try:
            out = self.ntlm.step(base64.b64decode(token))
        except spnego.exceptions.SpnegoError:
            del self.ntlm
            return self._answer(401, b"401 - Unauthorized: bad credentials", {"WWW-Authenticate": "NTLM"})
        if not self.ntlm.complete:
            return self._answer(401, b"", {"WWW-Authenticate": "NTLM " + base64.b64encode(out).decode()})
        assert b"<ns0:MasterWorkflowInstanceId>77</ns0:MasterWorkflowInstanceId>" in body
        self._answer(200, COMPLETED, {"Content-Type": "text/xml; charset=utf-8"})


@pytest.fixture
def ntlm_server(tmp_path, monkeypatch):
    users = tmp_path / "ntlm-users"
    users.write_text("CORP:svc-ocr:Ntlm-Pass-123\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    NtlmAsmx.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), NtlmAsmx)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def define(monkeypatch, conn_id: str, url: str, password: str) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({
        "conn_type": "cora_sequence", "host": url, "login": "CORP\\svc-ocr", "password": password,
        "extra": {"auth": "ntlm"},
    }))
    return conn_id


def test_the_hook_completes_an_ntlm_handshake(ntlm_server, monkeypatch):
    conn_id = define(monkeypatch, "cora_ntlm_ok", ntlm_server, "Ntlm-Pass-123")
    result = CoraSequenceOcrHook(conn_id).check_status(master_workflow_instance_id=77)
    assert result.state is State.SUCCEEDED and result.payload["ExternalContext"] == "ntlm-ok"
    assert [call["scheme"] for call in NtlmAsmx.seen] == ["", "NTLM", "NTLM"]
    assert NtlmAsmx.seen[1]["connection"] == NtlmAsmx.seen[2]["connection"]  # one kept-alive connection
    assert all(call["has_body"] for call in NtlmAsmx.seen)


def test_a_wrong_ntlm_password_is_an_authentication_error(ntlm_server, monkeypatch):
    conn_id = define(monkeypatch, "cora_ntlm_bad", ntlm_server, "canary-ntlm-pw-404")
    with pytest.raises(AuthenticationError, match="HTTP 401") as caught:
        CoraSequenceOcrHook(conn_id).check_status(master_workflow_instance_id=77)
    assert "'cora_ntlm_bad'" in str(caught.value) and "canary-ntlm-pw-404" not in str(caught.value)
