"""Azure AI Document Translation, simulated under ``/azure/``.

Both API shapes are served, so ``/azure/`` is the resource's endpoint:

- v1.1: ``/azure/translator/text/batch/v1.1/batches[/{id}[/documents[/{documentId}]]]``;
- GA: ``/azure/translator/document/batches[...]?api-version=`` one of :data:`GA_API_VERSIONS`.

``GET .../batches`` lists the batches (Get Translations Status), ``POST`` starts one.

Every call needs the scenario's key in ``Ocp-Apim-Subscription-Key``.

Simulated ids: a *document* is stored as ``"<batch-id>:<document-id>"`` and
runs a script of document statuses. A *batch* is the set of documents whose
ids start with its id: its status and summary derive from theirs. A batch can
also be scripted itself, under the plain ``"<batch-id>"``: its steps then give
the batch status (the summary still derives from its documents unless the
step's payload gives one).

A step's ``payload`` is an object laid over the status body (``path``,
``progress``, ``error``, ``summary``...). Its ``retry_after`` key is not part of
the body: it sets the ``Retry-After`` header of the 200 (default 1 second).
Every 200 status answer carries ``Retry-After`` and an ``ETag``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from .documents import Document, SimulatorState, Step, VendorApi, script_named_by_url
from .faults import respond

NAME = "azure_translation"
URL_PREFIX = "/azure/"
CREDENTIAL_KEYS: tuple[str, ...] = ("subscription_key",)
LISTS_DOCUMENTS = True

V1_1_ROOT = "translator/text/batch/v1.1/"
GA_ROOT = "translator/document/"
GA_API_VERSIONS = ("2024-05-01", "2026-03-01")
KEY_HEADER = "Ocp-Apim-Subscription-Key"
SEPARATOR = ":"
DEFAULT_RETRY_AFTER_SECONDS = 1
DEFAULT_CHARACTERS_CHARGED = 1200
DEFAULT_TARGET_LANGUAGE = "fr"
DOCUMENTS_PER_FOLDER = 2
SIM_STORAGE = "https://simstorage.blob.core.windows.net"
CANCELLING_SECONDS = 1.0
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

_WAITING = {"notstarted": "notYetStarted", "running": "inProgress", "cancelling": "inProgress", "canceling": "inProgress"}
_DONE = {"succeeded": "success", "failed": "failed", "validationfailed": "failed", "cancelled": "cancelled",
         "canceled": "cancelled"}
_FAULT_ERRORS = {
    429: ("RequestRateTooHigh", "The user has sent too many requests in a given amount of time."),
    500: ("InternalServerError", "An unexpected error occurred."),
    502: ("InternalServerError", "An unexpected error occurred upstream."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
}


def new_document_id() -> str:
    """A document in a batch of its own: ``"<batch-guid>:<document-guid>"``."""
    return f"{uuid.uuid4()}{SEPARATOR}{uuid.uuid4()}"


def normalize_document_id(raw: str) -> str:
    """``"<batch-guid>"`` (a scripted batch) or ``"<batch-guid>:<document-guid>"``, lower-case; else ValueError."""
    parts = raw.split(SEPARATOR)
    if len(parts) > 2:
        raise ValueError(f"{raw!r}: expected BATCH or BATCH:DOCUMENT")
    return SEPARATOR.join(str(uuid.UUID(part)) for part in parts)


def check_status(value: Any) -> None:
    """An Azure status is a non-empty string (any casing, so clients' case handling can be tested)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"an Azure Document Translation status must be a non-empty string, got {value!r}")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error_response(status: int, code: str, message: str, target: str | None = None,
                   inner: tuple[str, str] | None = None) -> web.Response:
    """Azure's error answer: ``{"error": {"code", "message", "target"?, "innerError"?}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if target:
        error["target"] = target
    if inner:
        error["innerError"] = {"code": inner[0], "message": inner[1]}
    return web.json_response({"error": error}, status=status)


def _fault_error(status: int) -> web.Response:
    code, message = _FAULT_ERRORS.get(status, ("InternalServerError", "An unexpected error occurred."))
    return error_response(status, code, message)


def _not_found(what: str) -> web.Response:
    return error_response(404, "ResourceNotFound", f"The {what} was not found.", target=what.split()[0].title(),
                          inner=("ResourceNotFound", f"The {what} was not found."))


def _strip_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class _Body:
    """A status body with the step's payload laid over it, plus the headers of its 200."""

    def __init__(self, body: dict[str, Any], payload: Any) -> None:
        self.retry_after = DEFAULT_RETRY_AFTER_SECONDS
        if isinstance(payload, Mapping):
            extra = dict(payload)
            self.retry_after = extra.pop("retry_after", DEFAULT_RETRY_AFTER_SECONDS)
            summary = extra.pop("summary", None)
            body.update(extra)
            if isinstance(summary, Mapping):
                body["summary"] = {**body.get("summary", {}), **summary}
        self.body = body

    def response(self) -> web.Response:
        raw = json.dumps(self.body, sort_keys=True).encode()
        headers = {"Retry-After": str(self.retry_after), "ETag": '"' + hashlib.sha1(raw).hexdigest()[:20] + '"'}
        return web.Response(status=200, body=raw, content_type="application/json", headers=headers)


class AzureTranslationApi(VendorApi):
    """Request handlers sharing the simulator state."""

    vendor = NAME


    # -- plumbing -------------------------------------------------------------

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Find the API shape, check the key and the api-version, then route by path."""
        tail = request.match_info["tail"]
        if tail.startswith(V1_1_ROOT):
            root, rest = V1_1_ROOT, tail[len(V1_1_ROOT):]
        elif tail.startswith(GA_ROOT):
            root, rest = GA_ROOT, tail[len(GA_ROOT):]
        else:
            return error_response(404, "ResourceNotFound", "Resource not found.")
        if not self._authorized(request):
            self.counters.auth_failures += 1
            return error_response(401, "Unauthorized", "User is not authorized", target="Document",
                                  inner=("Unauthorized", "Operation is not authorized"))
        if root == GA_ROOT:
            version = request.query.get("api-version")
            if version not in GA_API_VERSIONS:
                said = "is missing" if version is None else f"{version!r} is not supported"
                return error_response(400, "InvalidRequest", f"The api-version query parameter {said}.",
                                      inner=("InvalidApiVersion", f"Supported: {', '.join(GA_API_VERSIONS)}."))
        segments = rest.strip("/").split("/")
        if segments[0] != "batches" or len(segments) > 4 or (len(segments) > 2 and segments[2] != "documents"):
            return error_response(404, "ResourceNotFound", "Resource not found.")
        ids = segments[1::2]
        try:
            ids = [str(uuid.UUID(value)) for value in ids]
        except ValueError:
            return _not_found("batch or document")
        if len(segments) == 2 and request.method == "DELETE":
            return self.cancel_batch(ids[0])
        methods = ("GET", "POST") if len(segments) == 1 else ("GET",)
        if request.method not in methods:
            allow = "GET, DELETE" if len(segments) == 2 else ", ".join(methods)
            return web.Response(status=405, text="Method Not Allowed", headers={"Allow": allow})
        if len(segments) == 1:
            if request.method == "GET":
                return self.list_batches(request, root)
            return await self.start_translation(request, root)
        if len(segments) == 2:
            return await self.batch_status(request, ids[0])
        if len(segments) == 3:
            return await self.list_documents(request, root, ids[0])
        return await self.document_status(request, ids[0], ids[1])

    def _authorized(self, request: web.Request) -> bool:
        given = request.headers.get(KEY_HEADER, "")
        return hmac.compare_digest(given.encode(), self.config.credentials["subscription_key"].encode())

    def _documents_of(self, batch_id: str) -> list[Document]:
        prefix = batch_id + SEPARATOR
        return [document for document in self.state.store.documents(NAME) if document.id.startswith(prefix)]

    # -- bodies ---------------------------------------------------------------

    def _document_body(self, document: Document, step: Step) -> _Body:
        info = document.vendor_state
        doc_id = document.id.split(SEPARATOR)[1]
        created = info.setdefault("created", _now())
        # Only a first step that is a fault has no status: the document has not started then.
        status = step.status or info.get("last_status") or "NotStarted"
        if info.get("last_status") != status:
            info.update(last_status=status, last_action=_now())
        language = info.get("to", DEFAULT_TARGET_LANGUAGE)
        name = info.get("name", f"{doc_id}.txt")
        succeeded = status.casefold() == "succeeded"
        body: dict[str, Any] = {
            "path": info.get("path", f"{SIM_STORAGE}/target/{language}/{name}"),
            "sourcePath": info.get("sourcePath", f"{SIM_STORAGE}/source/{name}"),
            "createdDateTimeUtc": created,
            "lastActionDateTimeUtc": info["last_action"],
            "status": status,
            "to": language,
            "progress": 1.0 if succeeded else 0.0,
            "id": doc_id,
            "characterCharged": DEFAULT_CHARACTERS_CHARGED if succeeded else 0,
        }
        if _DONE.get(status.casefold()) == "failed":
            body["error"] = {
                "code": "InternalServerError",
                "message": step.message or "The document could not be translated.",
                "target": "Document",
                "innerError": {"code": "DocumentTranslationFailed", "message": "Translation of the document failed."},
            }
        return _Body(body, step.payload)

    def _summary(self, documents: list[Document]) -> tuple[dict[str, int], list[dict[str, Any]]]:
        summary = {"total": len(documents), "failed": 0, "success": 0, "inProgress": 0, "notYetStarted": 0,
                   "cancelled": 0, "totalCharacterCharged": 0}
        bodies = [self._document_body(document, document.current_step()).body for document in documents]
        for body in bodies:
            status = body["status"].casefold()
            summary[_DONE.get(status) or _WAITING.get(status, "inProgress")] += 1
            summary["totalCharacterCharged"] += int(body.get("characterCharged") or 0)
        return summary, bodies

    @staticmethod
    def _derived_status(summary: Mapping[str, int]) -> str:
        if summary["notYetStarted"] == summary["total"]:
            return "NotStarted"
        if summary["inProgress"] or summary["notYetStarted"]:
            return "Running"
        if summary["cancelled"] == summary["total"]:
            return "Cancelled"
        return "Succeeded" if summary["success"] else "Failed"

    def _batch_body(self, batch_id: str, documents: list[Document], scripted: Document | None,
                    step: Step | None) -> _Body:
        summary, bodies = self._summary(documents)
        status = step.status if step is not None else self._derived_status(summary)
        if step is None and any(document.vendor_state.get("cancelled_by_request") for document in documents):
            status = "Cancelling" if summary["inProgress"] or summary["notYetStarted"] else "Cancelled"
        holder = scripted.vendor_state if scripted is not None else {}
        created = min((body["createdDateTimeUtc"] for body in bodies), default=None)
        created = holder.setdefault("created", created or _now())
        last = max((body["lastActionDateTimeUtc"] for body in bodies), default=created)
        body: dict[str, Any] = {
            "id": batch_id,
            "createdDateTimeUtc": created,
            "lastActionDateTimeUtc": last,
            "status": status,
            "summary": summary,
        }
        if status.casefold() in ("failed", "validationfailed"):
            body["error"] = {
                "code": "InvalidRequest",
                "message": (step.message if step is not None and step.message else "The batch failed."),
                "target": "Operation",
                "innerError": {"code": "NoTranslatableDocuments" if not documents else "AllDocumentsFailed",
                               "message": "No document of the batch was translated."},
            }
        return _Body(body, step.payload if step is not None else None)

    # -- endpoints ------------------------------------------------------------

    async def document_status(self, request: web.Request, batch_id: str, doc_id: str) -> web.StreamResponse:
        """``GET .../batches/{id}/documents/{documentId}``: the document's scripted status."""
        self.counters.status_calls += 1
        document = self.state.store.get(NAME, f"{batch_id}{SEPARATOR}{doc_id}")
        if document is None:
            return _not_found("document")
        step = document.answer_status_call(request.method, request.path_qs, request.headers)
        return await respond(request, step, lambda: self._document_body(document, step).response(), _fault_error)

    async def batch_status(self, request: web.Request, batch_id: str) -> web.StreamResponse:
        """``GET .../batches/{id}``: the scripted batch, or the status derived from its documents."""
        self.counters.status_calls += 1
        scripted = self.state.store.get(NAME, batch_id)
        documents = self._documents_of(batch_id)
        if scripted is None and not documents:
            return _not_found("batch")
        if scripted is None:
            return self._batch_body(batch_id, documents, None, None).response()
        step = scripted.answer_status_call(request.method, request.path_qs, request.headers)
        return await respond(
            request, step, lambda: self._batch_body(batch_id, documents, scripted, step).response(), _fault_error
        )

    def cancel_batch(self, batch_id: str) -> web.Response:
        """``DELETE .../batches/{id}``: the batch goes Cancelling, then Cancelled.

        Each of its documents not finished yet (and a scripted batch) runs
        Cancelling for :data:`CANCELLING_SECONDS`, then Cancelled; finished ones
        keep their status. The answer is the batch status, as Azure's.
        """
        self.state.cancels[NAME] = self.state.cancels.get(NAME, 0) + 1
        scripted = self.state.store.get(NAME, batch_id)
        documents = self._documents_of(batch_id)
        if scripted is None and not documents:
            return _not_found("batch")
        cancelling = self.config.resolve_script(
            [{"status": "Cancelling", "seconds": CANCELLING_SECONDS}, {"status": "Cancelled"}]
        )
        for document in [*documents, *([scripted] if scripted is not None else [])]:
            status = str(document.current_step().status or "")
            if status.casefold() not in _DONE:
                document.restart(cancelling)
                document.vendor_state["cancelled_by_request"] = True
        scripted_step = scripted.current_step() if scripted is not None else None
        return self._batch_body(batch_id, documents, scripted, scripted_step).response()

    async def list_documents(self, request: web.Request, root: str, batch_id: str) -> web.StreamResponse:
        """``GET .../batches/{id}/documents``: the document statuses of the batch, in creation order, a page at a time.

        ``$maxpagesize`` (default :data:`DEFAULT_PAGE_SIZE`, at most
        :data:`MAX_PAGE_SIZE`), ``$skip`` and ``$top`` page the list as Azure
        does (GA also takes them without ``$``); a page that is not the last
        carries an absolute ``@nextLink``. Each page counts as one ``list_calls``,
        and is a look at each document on it: a poll-counted step advances, as
        on its own status call. When a document on the page is on a fault step,
        the page answers with that fault (the whole list fails, as a service
        hiccup would), so a shared list call can be made to fail.
        """
        self.counters.list_calls += 1
        documents = self._documents_of(batch_id)
        if not documents and self.state.store.get(NAME, batch_id) is None:
            return _not_found("batch")
        numbers: dict[str, int | None] = {}
        for name in ("top", "skip", "maxpagesize"):
            spellings = ("$" + name,) if root == V1_1_ROOT else (name, "$" + name)
            raw = next((request.query[key] for key in spellings if key in request.query), None)
            if raw is not None and not raw.isdigit():
                return error_response(400, "InvalidRequest", f"The value {raw!r} of {name} is not a non-negative integer.",
                                      target="Operation")
            numbers[name] = None if raw is None else int(raw)
        skip = numbers["skip"] or 0
        size = min(max(numbers["maxpagesize"] or DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
        end = len(documents) if numbers["top"] is None else min(len(documents), numbers["top"])
        page = documents[skip:min(skip + size, end)]
        steps = [document.answer_status_call(request.method, request.path_qs, request.headers) for document in page]
        body: dict[str, Any] = {"value": [self._document_body(d, step).body for d, step in zip(page, steps)]}
        if skip + size < end:
            query = {**request.query, "$skip": str(skip + size), "$maxpagesize": str(size)}
            for plain in ("skip", "maxpagesize"):
                query.pop(plain, None)
            body["@nextLink"] = str(request.url.with_query(query))
        fault = next((step for step in steps if step.fault), None)
        if fault is None:
            return web.json_response(body)
        return await respond(request, fault, lambda: web.json_response(body), _fault_error)

    async def start_translation(self, request: web.Request, root: str) -> web.Response:
        """``POST .../batches``: a new batch, one document per source document and target language.

        A container source (the default ``storageType``) holds two documents, a
        ``File`` source one. The source URL's last path segment may name a
        script of the scenario (``.../failed`` runs ``failed``); otherwise the
        default script runs.
        """
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        inputs: Any = body.get("inputs") if isinstance(body, dict) else None
        problem = _check_inputs(inputs)
        if problem:
            return error_response(400, "InvalidRequest", problem, target="Operation",
                                  inner=("InvalidDocumentTranslationRequest", problem))
        source = inputs[0]["source"]["sourceUrl"].split("?", 1)[0]
        self.count_start(source)
        batch_id = str(uuid.uuid4())
        for batch in inputs:
            source_url = batch["source"]["sourceUrl"]
            script = self.config.resolve_script(script_named_by_url(source_url, self.config.scripts))
            source = _strip_query(source_url)
            if str(batch.get("storageType", "Folder")).casefold() == "file":
                names = [PurePosixPath(urlsplit(source).path).name or "document.txt"]
                sources = [source]
            else:
                names = [f"document-{n}.txt" for n in range(1, DOCUMENTS_PER_FOLDER + 1)]
                sources = [f"{source}/{name}" for name in names]
            for target in batch["targets"]:
                for name, source_path in zip(names, sources):
                    document = self.state.store.create(NAME, f"{batch_id}{SEPARATOR}{uuid.uuid4()}", script)
                    document.vendor_state.update(
                        name=name, sourcePath=source_path, to=target["language"], created=_now(),
                        path=f"{_strip_query(target['targetUrl'])}/{name}",
                    )
        location = f"{request.scheme}://{request.host}{URL_PREFIX}{root}batches/{batch_id}"
        if root == GA_ROOT:
            location += f"?api-version={request.query['api-version']}"
        return await self.answer_start(
            request, web.Response(status=202, headers={"Operation-Location": location}), source
        )

    def list_batches(self, request: web.Request, root: str) -> web.Response:
        """``GET .../batches``: Get Translations Status, newest batch first, on one page.

        ``$top`` (v1.1; GA takes ``top`` or ``$top``) caps the count; a value
        that is not a non-negative integer is a 400, as Azure refuses what it
        cannot honor. Scripted batches show their current step, not advancing it.
        """
        names = ("$top",) if root == V1_1_ROOT else ("top", "$top")
        raw = next((request.query[name] for name in names if name in request.query), None)
        if raw is not None and not raw.isdigit():
            return error_response(400, "InvalidRequest", f"The value {raw!r} of top is not a non-negative integer.",
                                  target="Operation")
        batches: dict[str, str] = {}  # batch id -> created, newest first once sorted
        for document in self.state.store.documents(NAME):
            batch_id = document.id.split(SEPARATOR)[0]
            created = str(document.vendor_state.get("created", ""))
            batches[batch_id] = max(batches.get(batch_id, ""), created)
        newest = sorted(batches, key=lambda batch_id: batches[batch_id], reverse=True)
        if raw is not None:
            newest = newest[: int(raw)]
        value = []
        for batch_id in newest:
            scripted = self.state.store.get(NAME, batch_id)
            step = scripted.current_step() if scripted is not None else None
            value.append(self._batch_body(batch_id, self._documents_of(batch_id), scripted, step).body)
        return web.json_response({"value": value})

def _check_inputs(inputs: Any) -> str | None:
    """What is wrong with a start request's ``inputs``, or None."""
    if not isinstance(inputs, list) or not inputs:
        return "The request needs a non-empty 'inputs' list."
    for index, batch in enumerate(inputs):
        source = batch.get("source") if isinstance(batch, dict) else None
        if not isinstance(source, dict) or not isinstance(source.get("sourceUrl"), str) or not source["sourceUrl"]:
            return f"inputs[{index}].source.sourceUrl is required."
        targets = batch.get("targets")
        if not isinstance(targets, list) or not targets:
            return f"inputs[{index}].targets must be a non-empty list."
        for number, target in enumerate(targets):
            if not isinstance(target, dict) or not all(
                isinstance(target.get(key), str) and target[key] for key in ("targetUrl", "language")
            ):
                return f"inputs[{index}].targets[{number}] needs targetUrl and language."
    return None


def add_routes(app: web.Application, state: SimulatorState) -> None:
    """Mount the Azure Document Translation API on ``app`` under :data:`URL_PREFIX`."""
    api = AzureTranslationApi(state)
    app.router.add_route("*", URL_PREFIX + "{tail:.*}", api.dispatch)
