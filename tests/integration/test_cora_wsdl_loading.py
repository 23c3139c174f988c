"""Loading a Cora WSDL over real loopback sockets: where credentials go, what imports may load, hung servers, echoed secrets.

Each test runs its own small HTTP servers on 127.0.0.1 (a different port is a
different origin) and records every request they get.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airflow_docstatus.engine.errors import (
    AuthenticationError,
    BodyTooLargeError,
    PermanentError,
    TransientError,
)
from airflow_docstatus.hooks.cora import CoraSequenceOcrHook
from airflow_docstatus.protocols.cora import SERVICE_PATH, shipped_wsdl_path
from airflow_docstatus.triggers.cora import CoraOcrStatusTrigger
from tests.support import FakeClock, events_of, with_clock

LOGIN, PASSWORD = "svc-wsdl", "canary-wsdl-secret-4417"
BASIC = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
ANCHOR = '<s:import namespace="http://microsoft.com/wsdl/types/"/>'
SCHEMA = ('<s:schema xmlns:s="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:extra" '
          'elementFormDefault="qualified"><s:element name="X" type="s:string"/></s:schema>')


def wsdl_importing(location: str) -> str:
    """The shipped WSDL with one more ``xsd:import`` of ``location``."""
    text = open(shipped_wsdl_path(), encoding="utf-8").read()
    assert ANCHOR in text
    return text.replace(ANCHOR, f'{ANCHOR}<s:import namespace="urn:extra" schemaLocation="{location}"/>')


class Loopback:
    """A threaded HTTP server on 127.0.0.1.

    ``routes`` maps a path (no query) to ``(status, body[, headers])``, a callable
    returning one, or ``"hang"`` (no answer until the test ends).
    """

    def __init__(self) -> None:
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.requests.append(("GET", self.path, dict(self.headers)))
                route = owner.routes.get(self.path.split("?", 1)[0])
                if route == "hang":
                    owner.release.wait(60)
                    return
                status, body, *headers = route(self) if callable(route) else (route or (404, "not here"))
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                for key, value in (headers[0] if headers else {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    started: list[Loopback] = []

    def start() -> Loopback:
        started.append(Loopback())
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture
def cora_at(connection):
    """A Basic-auth Cora connection whose host is ``server``: ``cora_at(server, wsdl=..., **extra)`` -> conn id."""

    def define(server: Loopback, **extra) -> str:
        conn_id = f"cora_w_{uuid.uuid4().hex[:8]}"
        return connection(conn_id, "cora_sequence", host=server.url + "/", login=LOGIN, password=PASSWORD,
                          extra={"auth": "basic", **extra})

    return define


def wsdl_url(server: Loopback) -> str:
    """The server's ``?WSDL``, unique per test (the WSDL cache is per location)."""
    return f"{server.url}/{SERVICE_PATH}?WSDL&case={uuid.uuid4().hex}"


def serve_wsdl(server: Loopback, text: str) -> str:
    server.routes["/" + SERVICE_PATH] = (200, text)
    return wsdl_url(server)


# 1. credentials and imports --------------------------------------------------------------
def test_an_import_from_another_origin_is_refused_and_gets_no_credentials(servers, cora_at):
    cora, other = servers(), servers()
    other.routes["/x.xsd"] = (200, SCHEMA)
    conn_id = cora_at(cora, wsdl=serve_wsdl(cora, wsdl_importing(f"{other.url}/x.xsd")))
    with pytest.raises(PermanentError, match=r"not one the connection allows.*`wsdl_allowed_origins`") as caught:
        CoraSequenceOcrHook(conn_id).protocol  # noqa: B018 - loads the WSDL
    assert other.requests == []
    assert other.url.removeprefix("http://") in str(caught.value) and BASIC not in str(caught.value)
    assert cora.requests[0][2].get("Authorization") == f"Basic {BASIC}"  # its own origin gets them


def test_an_allowed_other_origin_is_asked_without_credentials(servers, cora_at):
    cora, other = servers(), servers()
    other.routes["/x.xsd"] = (200, SCHEMA)
    conn_id = cora_at(cora, wsdl=serve_wsdl(cora, wsdl_importing(f"{other.url}/x.xsd")),
                      wsdl_allowed_origins=[other.url + "/anything"])
    assert CoraSequenceOcrHook(conn_id).protocol.service.operation_names() == ["FileBatch", "GetStatus"]
    assert [(method, path) for method, path, _ in other.requests] == [("GET", "/x.xsd")]
    assert "Authorization" not in other.requests[0][2]


def test_a_wsdl_on_another_origin_than_the_host_gets_no_credentials(servers, cora_at):
    cora, docs = servers(), servers()
    conn_id = cora_at(cora, wsdl=serve_wsdl(docs, open(shipped_wsdl_path(), encoding="utf-8").read()))
    CoraSequenceOcrHook(conn_id).protocol  # noqa: B018 - loads the WSDL
    assert len(docs.requests) == 1 and "Authorization" not in docs.requests[0][2]


def test_a_redirect_to_another_origin_is_checked_too(servers, cora_at):
    cora, other = servers(), servers()
    other.routes["/x.xsd"] = (200, SCHEMA)
    cora.routes["/moved.xsd"] = (302, "", {"Location": f"{other.url}/x.xsd"})
    conn_id = cora_at(cora, wsdl=serve_wsdl(cora, wsdl_importing(f"{cora.url}/moved.xsd")))
    with pytest.raises(PermanentError, match="not one the connection allows"):
        CoraSequenceOcrHook(conn_id).protocol  # noqa: B018
    assert other.requests == []


@pytest.mark.parametrize("where", ["file", "dev_zero"])
def test_a_remote_wsdl_may_not_import_local_files(servers, cora_at, tmp_path, where):
    canary = tmp_path / "local.xsd"
    canary.write_text(SCHEMA)
    target = canary.as_uri() if where == "file" else "file:///dev/zero"
    cora = servers()
    conn_id = cora_at(cora, wsdl=serve_wsdl(cora, wsdl_importing(target)))
    result: list[BaseException] = []

    def load() -> None:
        try:
            CoraSequenceOcrHook(conn_id).protocol  # noqa: B018
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            result.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(15)
    assert not worker.is_alive(), "the WSDL load kept reading a local file"
    assert len(result) == 1 and isinstance(result[0], PermanentError), result
    assert "never local files" in str(result[0])


def _local_wsdl(tmp_path, imported: str):
    folder = tmp_path / "wsdl"
    folder.mkdir()
    (folder / "types.xsd").write_text(SCHEMA)
    (tmp_path / "outside.xsd").write_text(SCHEMA)
    (folder / "big.xsd").write_text(SCHEMA.replace('type="s:string"/>', 'type="s:string"/>' + " " * 8000))
    wsdl = folder / f"cora-{uuid.uuid4().hex[:6]}.wsdl"
    wsdl.write_text(wsdl_importing(imported))
    return str(wsdl)


def test_a_local_wsdl_imports_files_beside_it(servers, cora_at, tmp_path):
    conn_id = cora_at(servers(), wsdl=_local_wsdl(tmp_path, "types.xsd"))
    assert CoraSequenceOcrHook(conn_id).protocol.service.version == "1.1"


@pytest.mark.parametrize("imported", ["../outside.xsd", "file:///dev/zero", "/etc/hostname"])
def test_a_local_wsdl_may_not_import_files_elsewhere(servers, cora_at, tmp_path, imported):
    conn_id = cora_at(servers(), wsdl=_local_wsdl(tmp_path, imported))
    with pytest.raises(PermanentError, match="may import only files in its own directory"):
        CoraSequenceOcrHook(conn_id).protocol  # noqa: B018


def test_a_local_import_is_read_under_the_body_cap(servers, cora_at, tmp_path):
    conn_id = cora_at(servers(), wsdl=_local_wsdl(tmp_path, "big.xsd"), max_body_bytes=4096)
    with pytest.raises(BodyTooLargeError, match="over the cap of 4096 bytes"):
        CoraSequenceOcrHook(conn_id).protocol  # noqa: B018


def test_an_endless_remote_import_is_cut_at_the_body_cap(servers, cora_at):
    cora = servers()
    cora.routes["/huge.xsd"] = (200, SCHEMA + " " * 20000)
    conn_id = cora_at(cora, wsdl=serve_wsdl(cora, wsdl_importing(f"{cora.url}/huge.xsd")), max_body_bytes=8192)
    with pytest.raises(BodyTooLargeError, match="8192 bytes"):
        CoraSequenceOcrHook(conn_id).protocol  # noqa: B018


# 2. a hung ?WSDL --------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_thirty_triggers_against_a_hung_wsdl_end_within_one_budget_with_one_request(servers, cora_at):
    cora = servers()
    cora.routes["/" + SERVICE_PATH] = "hang"
    conn_id = cora_at(cora, wsdl=wsdl_url(cora), call_timeout=1.5)
    clock = FakeClock()
    triggers = [with_clock(CoraOcrStatusTrigger(master_workflow_instance_id=1000 + i, cora_conn_id=conn_id,
                                                poll_interval=5, max_consecutive_errors=3), clock)
                for i in range(30)]
    started = time.monotonic()
    results = await asyncio.wait_for(asyncio.gather(*(events_of(t) for t in triggers)), timeout=20)
    took = time.monotonic() - started
    assert took < 5, f"the triggers took {took:.1f}s"
    kinds = {(events[0]["status"], events[0]["kind"]) for events in results}
    assert kinds == {("error", "exhausted")}
    assert all("loading the WSDL" in events[0]["message"] for events in results)
    assert len(cora.requests) == 1


def test_a_hung_wsdl_is_loaded_once_by_concurrent_hooks_and_its_failure_shared(servers, cora_at):
    cora = servers()
    cora.routes["/" + SERVICE_PATH] = "hang"
    conn_id = cora_at(cora, wsdl=wsdl_url(cora), call_timeout=1.0)

    def load() -> BaseException | None:
        try:
            CoraSequenceOcrHook(conn_id).protocol  # noqa: B018
        except Exception as exc:  # noqa: BLE001
            return exc
        return None

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        errors = list(pool.map(lambda _: load(), range(8)))
    assert time.monotonic() - started < 4
    assert all(isinstance(error, TransientError) for error in errors), errors
    again = time.monotonic()
    with pytest.raises(TransientError, match="loading the WSDL") as caught:
        CoraSequenceOcrHook(conn_id).protocol  # noqa: B018 - within the backoff: the same failure, no new request
    assert time.monotonic() - again < 0.5 and caught.value.retry_after > 0
    assert len(cora.requests) == 1


# 4. secrets echoed back ---------------------------------------------------------------------
def _echo(status: int):
    def answer(handler):
        echoed = "".join(f"{key}: {value}\n" for key, value in handler.headers.items())
        return status, f"<html><body><pre>{echoed}</pre></body></html>"

    return answer


def _fault_echo(handler):
    echoed = " ".join(f"{key}: {value}" for key, value in handler.headers.items())
    return 500, ('<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                 f"<soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>Request was {echoed} "
                 f"(password {PASSWORD})</faultstring></soap:Fault></soap:Body></soap:Envelope>")


@pytest.mark.parametrize("answer", ["401", "fault"])
def test_an_echoed_authorization_header_never_reaches_an_error_sync(servers, cora_at, answer):
    cora = servers()
    cora.routes["/" + SERVICE_PATH] = _echo(401) if answer == "401" else _fault_echo
    conn_id = cora_at(cora)  # the shipped WSDL: the status call itself gets the echo
    with pytest.raises((AuthenticationError, TransientError)) as caught:
        CoraSequenceOcrHook(conn_id).check_status(master_workflow_instance_id=7)
    assert "Basic" in cora.requests[0][2]["Authorization"]
    text = str(caught.value)
    assert ("HTTP 401" if answer == "401" else "SOAP Fault") in text
    assert BASIC not in text and PASSWORD not in text


@pytest.mark.asyncio
@pytest.mark.parametrize("answer", ["401", "fault"])
async def test_an_echoed_authorization_header_never_reaches_an_event_async(servers, cora_at, answer):
    cora = servers()
    cora.routes["/" + SERVICE_PATH] = _echo(401) if answer == "401" else _fault_echo
    trigger = with_clock(CoraOcrStatusTrigger(master_workflow_instance_id=7, cora_conn_id=cora_at(cora),
                                              max_consecutive_errors=1), FakeClock())
    events = await events_of(trigger)
    assert events[0]["status"] == "error" and events[0]["kind"] in ("auth", "exhausted")
    assert BASIC not in repr(events) and PASSWORD not in repr(events)
    assert any("Basic" in headers.get("Authorization", "") for _, _, headers in cora.requests)


def test_an_echoed_authorization_header_on_the_wsdl_never_reaches_an_error(servers, cora_at):
    cora = servers()
    cora.routes["/" + SERVICE_PATH] = _echo(401)
    with pytest.raises(AuthenticationError, match="loading the WSDL .* failed with HTTP 401") as caught:
        CoraSequenceOcrHook(cora_at(cora, wsdl=wsdl_url(cora))).protocol  # noqa: B018
    assert BASIC not in str(caught.value) and PASSWORD not in str(caught.value)
