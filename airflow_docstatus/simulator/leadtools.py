"""LEADTOOLS Cloud Services, simulated under ``/leadtools/api/``.

Speaks ``Query`` (GET or POST), the single-service calls
``Recognition/ExtractText`` and ``Recognition/ExtractAllBarcodes``, ``UploadFile``,
``Run`` and ``DeleteRequest``, all behind HTTP Basic auth (AppID / Password).
Paths are matched case-insensitively, as the vendor's IIS does.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web

from .documents import (
    VendorApi,
    Document,
    Script,
    SimulatorState,
    Step,
    basic_auth_matches,
    script_named_by_url,
)
from .faults import respond

NAME = "leadtools"
URL_PREFIX = "/leadtools/api/"
CREDENTIAL_KEYS: tuple[str, ...] = ("app_id", "password")

PROCESSING = 100
UPLOADED_NOT_RUN = 122
VERIFYING = 123
DONE = 200
DELETED = 501
TERMINAL_STATUSES: frozenset[int] = frozenset({200, 500, 501, 502, 600})
"""FileStatus values after which a file never changes (the admin ``ready`` endpoint reads them)."""

BAD_CREDENTIALS = "The AppID/Password combination is not valid"
BAD_CREDENTIALS_FOR_GUID = (
    "The AppID/Password combination is not valid, or does not correspond with the GUID provided."
)
INVALID_GUID = "Invalid GUID was provided"
DELETED_FOREVER: Script = (Step(status=DELETED),)

SINGLE_SERVICE_SCRIPTS: dict[str, str | None] = {
    "recognition/extracttext": None,  # None: the scenario's default script
    "recognition/extractallbarcodes": "barcode",
}
"""Single-service calls (lower-case path) and the script a new file runs when its
``fileurl`` names no script."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BARCODE_SERVICE = "recognition/extractallbarcodes"


def file_name_of(fileurl: str) -> str:
    """The last path segment of a file URL (``https://example.com/scans/a.pdf`` -> ``a.pdf``)."""
    return unquote(urlsplit(fileurl).path.rstrip("/").rsplit("/", 1)[-1]) or "document"


def recognized_text(fileurl: str) -> str:
    """The text "recognized" in the file at ``fileurl``: made from its name and a hash of the URL.

    Deterministic, and different for every URL: the file name's stem as a title, the
    file name, a reference and an amount derived from the URL's SHA-256.
    """
    name = file_name_of(fileurl)
    digest = hashlib.sha256(fileurl.encode("utf-8")).hexdigest()
    title = re.sub(r"[-_.\s]+", " ", PurePosixPath(name).stem).strip().upper() or "DOCUMENT"
    total = int(digest[:8], 16) % 10_000_000 / 100
    return f"{title}\nFile: {name}\nReference: {digest[:12].upper()}\nTotal due: {total:,.2f} EUR"


def synthesized_request_data(fileurl: str | None, services: Iterable[str]) -> list[dict[str, Any]]:
    """``RequestData`` for a file started from ``fileurl`` whose done step gives no payload.

    One entry per service run on it: ``ExtractText`` gives a page of :func:`recognized_text`,
    ``ExtractAllBarcodes`` a QR code whose value names the file. A file created through the
    admin API (no ``fileurl``) gets ``[]``.
    """
    if not fileurl:
        return []
    data: list[dict[str, Any]] = []
    for service in dict.fromkeys(s.lower() for s in services) or ["recognition/extracttext"]:
        if service == BARCODE_SERVICE:
            digest = hashlib.sha256(fileurl.encode("utf-8")).hexdigest()
            data.append({"ServiceType": "Recognition", "RecognitionType": "Barcode", "data": [
                {"Symbology": "QR", "Value": f"{file_name_of(fileurl)}#{digest[:8]}",
                 "Bounds": {"X": 10, "Y": 10, "Width": 100, "Height": 100}, "RotationAngle": 0}]})
        else:
            data.append({"ServiceType": "Recognition", "RecognitionType": "Text",
                         "data": [{"PageNumber": 1, "Text": recognized_text(fileurl)}]})
    return data


def new_document_id() -> str:
    """A fresh GUID, the id of a new LEADTOOLS file."""
    return str(uuid.uuid4())


def normalize_document_id(raw: str) -> str:
    """The canonical GUID form of ``raw``; ValueError if it is not a GUID."""
    return str(uuid.UUID(raw))


def check_status(value: Any) -> None:
    """A LEADTOOLS FileStatus is an integer."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"a LEADTOOLS status must be an integer FileStatus, got {value!r}")


def _text(status: int, text: str = "") -> web.Response:
    return web.Response(status=status, text=text)


class _Rejected(Exception):
    """Stops a request early with a ready response (bad GUID, unknown GUID...)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.text)
        self.response = response


@dataclass(frozen=True)
class _Route:
    methods: frozenset[str]
    handler: Handler


class LeadtoolsApi(VendorApi):
    """Request handlers sharing the simulator state."""

    vendor = NAME

    def __init__(self, state: SimulatorState) -> None:
        super().__init__(state)
        post = frozenset({"POST"})
        self.routes: dict[str, _Route] = {
            "query": _Route(frozenset({"GET", "POST"}), self.query),
            "uploadfile": _Route(post, self.upload_file),
            "run": _Route(post, self.run),
            "deleterequest": _Route(post, self.delete_request),
        }
        for path, script in SINGLE_SERVICE_SCRIPTS.items():
            self.routes[path] = _Route(post, partial(self.single_service, service_script=script))


    # -- plumbing -------------------------------------------------------------

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Find the handler for the path (any casing), check auth, then run it."""
        route = self.routes.get(request.match_info["tail"].strip("/").lower())
        if route is None:
            return _text(404, "Not Found")
        if request.method not in route.methods:
            return web.Response(
                status=405, text="Method Not Allowed", headers={"Allow": ", ".join(sorted(route.methods))}
            )
        if not self._authorized(request):
            self.counters.auth_failures += 1
            return web.Response(
                status=401,
                text=BAD_CREDENTIALS,
                headers={"WWW-Authenticate": 'Basic realm="LEADTOOLS Cloud Services"'},
            )
        try:
            return await route.handler(request)
        except _Rejected as rejected:
            return rejected.response

    def _authorized(self, request: web.Request) -> bool:
        """True if the request carries the scenario's AppID/Password as HTTP Basic auth."""
        credentials = self.config.credentials
        return basic_auth_matches(
            request.headers.get("Authorization"), credentials["app_id"], credentials["password"]
        )

    def _document(self, request: web.Request) -> Document:
        """The file named by ``?id=``; rejects a malformed GUID (400) or an unknown one (401)."""
        try:
            doc_id = normalize_document_id(request.query.get("id", ""))
        except ValueError:
            raise _Rejected(_text(400, INVALID_GUID)) from None
        document = self.state.store.get(NAME, doc_id)
        if document is None:
            raise _Rejected(_text(401, BAD_CREDENTIALS_FOR_GUID))
        return document

    def _start_document(self, script: Script, source: str | None = None) -> Document:
        self.count_start(source)
        return self.state.store.create(NAME, new_document_id(), script)

    def _script_for_url(self, fileurl: str) -> str | None:
        return script_named_by_url(fileurl, self.config.scripts)

    def _require_uploaded_and_waiting(self, document: Document, action: str) -> None:
        """Queueing services and Run need an uploaded file that has not run yet."""
        state = document.vendor_state
        status = document.current_step().status
        if (
            not state.get("uploaded")
            or state.get("ran")
            or status not in (UPLOADED_NOT_RUN, VERIFYING)
        ):
            raise _Rejected(
                _text(400, f"{action} needs a file uploaded with UploadFile that has not run yet")
            )

    # -- endpoints ------------------------------------------------------------

    async def query(self, request: web.Request) -> web.StreamResponse:
        """``Query?id=``: the file's FileStatus, and RequestData once it is 200."""
        self.counters.status_calls += 1
        document = self._document(request)
        step = document.answer_status_call(request.method, request.path_qs, request.headers)

        def normal() -> web.Response:
            request_data: Any = []
            if step.status == DONE:
                state = document.vendor_state
                request_data = step.payload if step.payload is not None else synthesized_request_data(
                    state.get("fileurl"), state.get("services") or []
                )
            return web.json_response({"FileStatus": step.status, "RequestData": request_data})

        return await respond(request, step, normal)

    async def single_service(self, request: web.Request, service_script: str | None) -> web.Response:
        """``Recognition/...?fileurl=``: a new file going 123 -> 100 -> done; or, with
        ``?id=``, queue the service on an uploaded file."""
        if "id" in request.query:
            document = self._document(request)
            self._require_uploaded_and_waiting(document, "queueing a service")
            state = document.vendor_state
            state["services"].append(request.path.rsplit("/api/", 1)[-1])
            if state.get("run_script") is None:
                state["run_script"] = service_script
            return _text(200)
        fileurl = request.query.get("fileurl")
        if not fileurl:
            return _text(400, "fileurl is required")
        name = self._script_for_url(fileurl) or service_script
        document = self._start_document(self.config.resolve_script(name), fileurl)
        document.vendor_state.update(fileurl=fileurl, services=[request.path.rsplit("/api/", 1)[-1]])
        return await self.answer_start(request, _text(200, document.id), fileurl)

    async def upload_file(self, request: web.Request) -> web.Response:
        """``UploadFile?fileurl=``: a new file going 123 -> 122 until ``Run``."""
        fileurl = request.query.get("fileurl")
        if not fileurl:
            return _text(400, "fileurl is required")
        document = self._start_document(self.config.resolve_script("upload"), fileurl)
        document.vendor_state.update(
            uploaded=True, ran=False, services=[], run_script=self._script_for_url(fileurl), fileurl=fileurl
        )
        return _text(200, document.id)

    async def run(self, request: web.Request) -> web.Response:
        """``Run?id=``: start processing an uploaded file (its script, past the 123 steps)."""
        document = self._document(request)
        self._require_uploaded_and_waiting(document, "Run")
        script = self.config.resolve_script(document.vendor_state.get("run_script"))
        document.restart(_skip_verification(script))
        document.vendor_state["ran"] = True
        return _text(200)

    async def delete_request(self, request: web.Request) -> web.Response:
        """``DeleteRequest?id=``: refused while processing (100/123); then 501 for good."""
        document = self._document(request)
        status = document.current_step().status
        if status in (PROCESSING, VERIFYING):
            return _text(400, f"The file cannot be deleted while its status is {status}")
        document.restart(DELETED_FOREVER)
        return _text(200)


def _skip_verification(script: Script) -> Script:
    """``script`` without its leading 123 (verification) steps, keeping at least one step."""
    index = 0
    while index < len(script) - 1 and script[index].status == VERIFYING:
        index += 1
    return script[index:]


def add_routes(app: web.Application, state: SimulatorState) -> None:
    """Mount the LEADTOOLS API on ``app`` under :data:`URL_PREFIX`."""
    api = LeadtoolsApi(state)
    app.router.add_route("*", URL_PREFIX + "{tail:.*}", api.dispatch)
