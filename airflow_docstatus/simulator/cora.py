"""Genpact Cora SeQuence OCR, simulated under ``/cora/``: the .asmx SOAP service.

``/cora/SequenceServices/coraOcrIntegration_v1.0.0.asmx`` speaks SOAP 1.1
(``text/xml`` + ``SOAPAction``) and SOAP 1.2 (``application/soap+xml`` with the
``action`` parameter), serves the WSDL the provider ships at ``?WSDL`` (its
address rewritten to this server, as .asmx does), and sits behind HTTP Basic
auth, as an IIS site would. ``GetStatus`` needs the ``ActivityMetadata`` header
with a ``MasterWorkflowInstanceId``; ``FileBatch`` creates a scripted document
whose id is the MasterWorkflowInstanceId it returns.
"""

from __future__ import annotations

import importlib.resources
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from .documents import (
    Document,
    SimulatorState,
    Step,
    VendorApi,
    basic_auth_matches,
    script_named_by_url,
)
from .faults import respond

NAME = "cora"
URL_PREFIX = "/cora/"
SERVICE_PATH = URL_PREFIX + "SequenceServices/coraOcrIntegration_v1.0.0.asmx"
CREDENTIAL_KEYS: tuple[str, ...] = ("login", "password")

NS = "http://genpact.com/cora/orchestration/ocr/1.0.0/api/"
SOAP_ENV = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}
CONTENT_TYPES = {"1.1": "text/xml", "1.2": "application/soap+xml"}
OPERATIONS = ("GetStatus", "FileBatch")
WSDL_FILE = "coraOcrIntegration_v1.0.0.wsdl"
WSDL_ADDRESS = "https://cora.example.com/SequenceServices/coraOcrIntegration_v1.0.0.asmx"

UNAUTHORIZED_PAGE = (
    "<!DOCTYPE html><html><head><title>401 - Unauthorized: Access is denied due to invalid credentials."
    "</title></head><body><h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>"
    "<h3>You do not have permission to view this directory or page using the credentials that you supplied."
    "</h3></body></html>"
)
SERVER_FAULT_TEXT = "Server was unable to process request. ---> simulated server fault"
CLIENT_FAULT_TEXT = "Server was unable to read request. ---> simulated client fault"

_ids = itertools.count(100001)


def new_document_id() -> str:
    """A fresh MasterWorkflowInstanceId."""
    return str(next(_ids))


def normalize_document_id(raw: str) -> str:
    """A MasterWorkflowInstanceId is a positive integer; ValueError otherwise."""
    text = str(raw).strip()
    if not re.fullmatch(r"\d+", text) or int(text) < 1:
        raise ValueError(f"a Cora MasterWorkflowInstanceId is a positive integer, got {raw!r}")
    return str(int(text))


def check_status(value: Any) -> None:
    """A Cora Status is a non-empty string (Queued, ProcessingInput, ... or any other, to test the unexpected)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"a Cora status must be a Status string such as 'Queued', got {value!r}")


def shipped_wsdl() -> str:
    """The WSDL the provider ships: served at ``?WSDL`` so both sides use the same contract."""
    return importlib.resources.files("airflow_docstatus").joinpath("wsdl", WSDL_FILE).read_text(encoding="utf-8")


# -- SOAP messages ------------------------------------------------------------------


def _envelope(version: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV[version]}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>{body}</soap:Body></soap:Envelope>'
    )


def soap_response(version: str, body: str, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=_envelope(version, body), content_type=CONTENT_TYPES[version], charset="utf-8"
    )


def fault_response(version: str, client: bool, message: str) -> web.Response:
    """HTTP 500 with a SOAP Fault, shaped as .asmx sends it for the version."""
    text = escape(message)
    if version == "1.1":
        code = "soap:Client" if client else "soap:Server"
        fault = f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring><detail /></soap:Fault>"
    else:
        code = "soap:Sender" if client else "soap:Receiver"
        fault = (
            f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="en">{text}</soap:Text></soap:Reason><soap:Detail /></soap:Fault>'
        )
    return soap_response(version, fault, status=500)


def _element(tag: str, value: Any) -> str:
    return "" if value is None else f"<{tag}>{escape(str(value))}</{tag}>"


def get_status_body(
    status: str, error_code: str, external_context: str | None, extra_elements: Mapping[str, Any] | None = None
) -> str:
    """A GetStatusResponse; ``extra_elements`` (name -> text) go right after Status, as a newer service might add them."""
    extra = "".join(_element(str(name), value) for name, value in (extra_elements or {}).items())
    return (
        f'<GetStatusResponse xmlns="{NS}"><GetStatusResult>'
        f"{_element('Status', status)}{extra}{_element('ErrorCode', error_code)}"
        f"{_element('ExternalContext', external_context)}"
        "</GetStatusResult></GetStatusResponse>"
    )


class _Fault(Exception):
    """Stops a SOAP call early with a Client/Sender (or Server/Receiver) fault."""

    def __init__(self, message: str, client: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.client = client


def _soap_version(content_type: str) -> tuple[str | None, dict[str, str]]:
    """The SOAP version a Content-Type stands for, and its parameters."""
    media, *raw_params = [part.strip() for part in content_type.split(";")]
    params = {}
    for raw in raw_params:
        key, _, value = raw.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    version = {"text/xml": "1.1", "application/soap+xml": "1.2"}.get(media.lower())
    return version, params


def _child(parent: ET.Element | None, name: str) -> ET.Element | None:
    return None if parent is None else parent.find(f"{{{NS}}}{name}")


def _text(parent: ET.Element | None, name: str) -> str | None:
    node = _child(parent, name)
    return None if node is None or node.text is None else node.text.strip()


class CoraApi(VendorApi):
    """The .asmx endpoint, sharing the simulator state."""

    vendor = NAME

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path.rstrip("/").lower() != SERVICE_PATH.lower():
            return web.Response(status=404, text="404 - File or directory not found.", content_type="text/html")
        if not self._authorized(request):
            self.counters.auth_failures += 1
            return web.Response(
                status=401,
                text=UNAUTHORIZED_PAGE,
                content_type="text/html",
                headers={"WWW-Authenticate": 'Basic realm="cora"'},
            )
        if request.method == "GET":
            if any(key.lower() == "wsdl" for key in request.query):
                return self.wsdl(request)
            return web.Response(
                text="<html><body><h1>coraOcrIntegration</h1><p>Operations: GetStatus, FileBatch. "
                'See the <a href="?WSDL">service description</a>.</p></body></html>',
                content_type="text/html",
            )
        if request.method != "POST":
            return web.Response(status=405, text="Method Not Allowed", headers={"Allow": "GET, POST"})
        return await self.soap(request)

    def _authorized(self, request: web.Request) -> bool:
        credentials = self.config.credentials
        return basic_auth_matches(request.headers.get("Authorization"), credentials["login"], credentials["password"])

    def wsdl(self, request: web.Request) -> web.Response:
        """The shipped WSDL, its soap:address pointing at this server (as .asmx rewrites it)."""
        here = f"{request.scheme}://{request.host}{SERVICE_PATH}"
        return web.Response(text=shipped_wsdl().replace(WSDL_ADDRESS, here), content_type="text/xml", charset="utf-8")

    async def soap(self, request: web.Request) -> web.StreamResponse:
        version, params = _soap_version(request.headers.get("Content-Type", ""))
        if version is None:
            return web.Response(status=415, text="Unsupported Media Type: use text/xml (SOAP 1.1) or "
                                "application/soap+xml (SOAP 1.2)")
        raw = await request.read()
        try:
            operation, header, body = self._read_envelope(version, raw, request, params)
            if operation == "GetStatus":
                return await self.get_status(request, version, header, raw)
            return await self.file_batch(request, version, header, body)
        except _Fault as fault:
            return fault_response(version, fault.client, fault.message)

    def _read_envelope(
        self, version: str, raw: bytes, request: web.Request, params: Mapping[str, str]
    ) -> tuple[str, ET.Element | None, ET.Element]:
        """The operation, the ActivityMetadata header (or None) and the body element; faults on anything amiss."""
        try:
            root = ET.fromstring(raw)
        except ET.ParseError as exc:
            raise _Fault(f"Server was unable to read request. ---> There is an error in XML document ({exc}).")
        env = SOAP_ENV[version]
        if root.tag != f"{{{env}}}Envelope":
            other = "1.2" if version == "1.1" else "1.1"
            if root.tag == f"{{{SOAP_ENV[other]}}}Envelope":
                raise _Fault(f"a SOAP {other} envelope was sent with the SOAP {version} content type "
                             f"{CONTENT_TYPES[version]} (VersionMismatch)")
            raise _Fault(f"Server was unable to read request: the root element {root.tag} is not a SOAP Envelope")
        body = root.find(f"{{{env}}}Body")
        element = next(iter(body), None) if body is not None else None
        if element is None:
            raise _Fault("Server was unable to read request: the SOAP Body is empty")
        operation = element.tag.removeprefix(f"{{{NS}}}")
        if operation not in OPERATIONS:
            raise _Fault(f"Server did not recognize the value of the request element: {element.tag}")
        if version == "1.1":
            action = (request.headers.get("SOAPAction") or "").strip().strip('"')
            where = "HTTP Header SOAPAction"
        else:
            action = params.get("action", "")
            where = "the action parameter of the Content-Type"
        if action != NS + operation:
            raise _Fault(f"Server did not recognize the value of {where}: {action}.")
        header = root.find(f"{{{env}}}Header/{{{NS}}}ActivityMetadata")
        return operation, header, element

    async def get_status(
        self, request: web.Request, version: str, header: ET.Element | None, raw: bytes
    ) -> web.StreamResponse:
        self.counters.status_calls += 1
        value = _text(header, "MasterWorkflowInstanceId")
        if value is None:
            raise _Fault("SoapHeader ActivityMetadata with a MasterWorkflowInstanceId is required.")
        try:
            doc_id = normalize_document_id(value)
        except ValueError:
            if re.fullmatch(r"\s*[-+]?\d+\s*", value) and -(2**63) <= int(value) < 2**63:
                # a long no workflow has (0, negative): the service finds nothing, as for any unknown id
                return soap_response(version, get_status_body("NotFound", "NoError", None))
            raise _Fault(f"Server was unable to read request: MasterWorkflowInstanceId {value!r} is not a long.")
        document = self.state.store.get(NAME, doc_id)
        if document is None:
            return soap_response(version, get_status_body("NotFound", "NoError", None))
        step = document.answer_status_call(
            request.method, request.path_qs, request.headers, body=raw.decode("utf-8", "replace")
        )
        return await respond(
            request,
            step,
            lambda: soap_response(version, self._status_body(document, step)),
            soap_fault=lambda fault_step: fault_response(
                version,
                fault_step.fault == "soap_client_fault",
                fault_step.message
                or (CLIENT_FAULT_TEXT if fault_step.fault == "soap_client_fault" else SERVER_FAULT_TEXT),
            ),
        )

    @staticmethod
    def _status_body(document: Document, step: Step) -> str:
        payload = step.payload if isinstance(step.payload, Mapping) else {}
        context = payload.get("ExternalContext", document.vendor_state.get("external_context"))
        extra = payload.get("extra_elements")
        return get_status_body(
            str(step.status),
            str(payload.get("ErrorCode", "NoError")),
            context,
            extra if isinstance(extra, Mapping) else None,
        )

    async def file_batch(
        self, request: web.Request, version: str, header: ET.Element | None, body: ET.Element
    ) -> web.Response:
        timeout = _text(body, "TimeOut")
        if timeout is None or not re.fullmatch(r"-?\d+", timeout):
            raise _Fault(f"Server was unable to read request: TimeOut {timeout!r} is not an int.")
        input_file = _child(body, "InputFile")
        file_name = _text(input_file, "FileName")
        if not file_name:
            raise _Fault("Server was unable to read request: InputFile/FileName is required.")
        if not _text(body, "OCRProfile"):
            raise _Fault("Server was unable to read request: OCRProfile is required.")
        self.count_start(file_name)
        script = script_named_by_url(file_name, self.config.scripts)
        document = self.state.store.create(NAME, new_document_id(), self.config.resolve_script(script))
        document.vendor_state.update(
            external_context=_text(body, "ExternalContext"),
            input_file={key: _text(input_file, key) for key in ("Connection", "RelativeLocation", "FileName")},
            ocr_profile=_text(body, "OCRProfile"),
            activity_metadata={
                child.tag.removeprefix(f"{{{NS}}}"): child.text for child in (list(header) if header is not None else [])
            },
        )
        return await self.answer_start(request, soap_response(
            version,
            f'<FileBatchResponse xmlns="{NS}"><FileBatchResult>{document.id}</FileBatchResult></FileBatchResponse>',
        ), file_name)


def add_routes(app: web.Application, state: SimulatorState) -> None:
    """Mount the Cora .asmx endpoint on ``app`` under :data:`URL_PREFIX`."""
    api = CoraApi(state)
    app.router.add_route("*", URL_PREFIX + "{tail:.*}", api.dispatch)
