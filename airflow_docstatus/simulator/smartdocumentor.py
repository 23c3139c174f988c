"""SmartDocumentor Cloud, simulated under ``/smartdocumentor``.

- ``POST /smartdocumentor/connect/token``: OAuth2 client credentials (form-encoded), an
  opaque bearer token with ``expires_in``;
- ``GET /smartdocumentor/api/v1.0/external/sdtask/status?taskId=..&externalId=..`` (Bearer):
  the task status object of vendor-apis.md section 4;
- ``POST /smartdocumentor/api/v1.0/external/sdtask/process`` (Bearer): creates a task. The
  vendor's body is not public; the simulator takes JSON ``{"externalId", "displayName",
  "script", "document": {"name", "data"}}``, all optional.

A connection's host is ``{simulator}/smartdocumentor``. A step's status is the
``taskStatusText``; ``taskStatus`` comes from :data:`TASK_STATUS_NUMBERS`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import itertools
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .documents import Document, SimulatorState, Step, VendorApi, basic_auth_matches, script_named_by_filename
from .faults import respond
from .tokens import TokenRefused, bearer_token

NAME = "smartdocumentor"
URL_PREFIX = "/smartdocumentor/"
BASE = "/smartdocumentor"
TOKEN_PATH = f"{BASE}/connect/token"
STATUS_PATH = f"{BASE}/api/v1.0/external/sdtask/status"
PROCESS_PATH = f"{BASE}/api/v1.0/external/sdtask/process"
CREDENTIAL_KEYS: tuple[str, ...] = ("client_id", "client_secret", "scope")
TOKEN_LIFETIME = 3600.0

TASK_STATUS_NUMBERS: dict[str, int] = {
    # Documented (vendor-apis.md section 4).
    "Deleting": 19,
    "Deleted": 20,
    "QueuedForPreProcessing": 30,
    "PreProcessingInProgress": 31,
    "PreProcessingFailed": 32,
    "PreProcessingDownloadFailed": 33,
    "PreProcessingSuccessful": 34,
    "PreProcessingGetPagesFailed": 35,
    # From the seed page's example response.
    "InReview": 4,
    # Invented by the simulator (the vendor does not publish them): 9xx, so nobody takes them for real.
    "ToReview": 901,
    "Processed": 902,
    "ExportCompleted": 903,
    "ExportFailed": 904,
}
INTEGRATION_STATUS_NUMBERS: dict[str, int] = {
    "Queued": 1,  # invented
    "Successful": 2,  # invented
    "Failed": 4,  # from the seed page's example response
}
SUCCESS_STATUSES = frozenset({"Processed", "ExportCompleted"})
"""After these, the integration status defaults to Successful (before them, Queued)."""
NOT_YET_PAGED = frozenset({"QueuedForPreProcessing", "PreProcessingInProgress"})
"""While in these, ``totalPages`` defaults to 0, as the vendor warns."""
QUEUED = "QueuedForPreProcessing"
DEFAULT_TOTAL_PAGES = 3
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024 - 1024
DOCUMENT_FIELDS: dict[str, tuple[type, ...]] = {
    "externalId": (str, type(None)),
    "displayName": (str,),
    "description": (str, type(None)),
    "workspaceId": (int,),
    "batchId": (int, type(None)),
    "totalPages": (int,),
    "restartCount": (int,),
    "name": (str,),
}
"""Task facts a test may set (admin ``fields``); ``name`` is the document's file name."""

_ids = itertools.count(1001)
_DIGITS = re.compile(r"[0-9]+")


def _check_text(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a non-empty string, got {value!r}")


def _check_int(value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"must be a whole number >= 0, got {value!r}")


EXTRA_STEP_KEYS = {
    "integration_status": _check_text,
    "task_status": _check_int,
    "total_pages": _check_int,
}
"""``integration_status``: the integrationStatusText (Queued, Successful, Failed);
``task_status``: the taskStatus number, for a status text the simulator has no number for;
``total_pages``: totalPages while this step holds."""


def new_document_id() -> str:
    """A fresh task id: the next integer from 1001 up."""
    return str(next(_ids))


def normalize_document_id(raw: str) -> str:
    """The canonical form of a task id (a positive integer); ValueError otherwise."""
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw.strip()) or int(raw) <= 0:
        raise ValueError(f"not a SmartDocumentor task id: {raw!r}")
    return str(int(raw))


def check_status(value: Any) -> None:
    """A SmartDocumentor status is a taskStatusText such as 'PreProcessingInProgress'."""
    if not isinstance(value, str) or not value:
        raise ValueError(
            f"a smartdocumentor status must be a taskStatusText such as 'Processed', got {value!r}"
        )


def pages_of(data: bytes) -> int:
    """The page count the simulator reports for a document's bytes: 1..9, derived from their SHA-256."""
    return 1 + int(hashlib.sha256(data).hexdigest()[:8], 16) % 9


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z"
    )


def _find_by_external_id(state: SimulatorState, external_id: str) -> Document | None:
    for document in state.store.documents(NAME):
        if document.vendor_state.get("externalId") == external_id:
            return document
    return None


def new_document_state(state: SimulatorState, doc_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A new task's facts (see :data:`DOCUMENT_FIELDS`); ValueError for a bad field or an
    externalId another task already has."""
    for key, value in fields.items():
        types = DOCUMENT_FIELDS.get(key)
        if types is None:
            raise ValueError(f"unknown smartdocumentor field {key!r}; allowed: {sorted(DOCUMENT_FIELDS)}")
        if not isinstance(value, types) or isinstance(value, bool):
            raise ValueError(f"smartdocumentor field {key!r} has the wrong type: {value!r}")
    external_id = fields.get("externalId")
    if external_id is not None:
        holder = _find_by_external_id(state, external_id)
        if holder is not None and holder.id != doc_id:
            raise ValueError(f"externalId {external_id!r} already belongs to task {holder.id}")
    workspace = fields.get("workspaceId", 1)
    numbers = [
        doc.vendor_state.get("taskNumber", 0)
        for doc in state.store.documents(NAME)
        if doc.vendor_state.get("workspaceId") == workspace and doc.id != doc_id
    ]
    name = fields.get("name")
    return {
        "workspaceId": workspace,
        "batchId": fields.get("batchId"),
        "taskNumber": max(numbers, default=0) + 1,
        "externalId": external_id,
        "displayName": fields.get("displayName") or name or f"Task {doc_id}",
        "description": fields.get("description"),
        "createdOn": _iso(state.store.wall_clock()),
        "totalPages": fields.get("totalPages", DEFAULT_TOTAL_PAGES),
        "restartCount": fields.get("restartCount", 0),
        "name": name,
    }


def status_object(document: Document, step: Step, now: float) -> dict[str, Any]:
    """The GetTaskStatusResponse for ``document`` at ``step``; a dict ``payload`` is laid over it."""
    facts = document.vendor_state
    text = step.status
    if text != QUEUED and facts.get("preProcessingStartedOn") is None:
        facts["preProcessingStartedOn"] = _iso(now)
    integration = step.extra.get("integration_status") or (
        "Successful" if text in SUCCESS_STATUSES else "Queued"
    )
    if "total_pages" in step.extra:
        pages = step.extra["total_pages"]
    elif text in NOT_YET_PAGED or (text.startswith("PreProcessing") and text.endswith("Failed")):
        pages = 0
    else:
        pages = facts.get("totalPages", DEFAULT_TOTAL_PAGES)
    body = {
        "taskId": int(document.id),
        "workspaceId": facts.get("workspaceId", 1),
        "batchId": facts.get("batchId"),
        "taskNumber": facts.get("taskNumber", 1),
        "externalId": facts.get("externalId"),
        "displayName": facts.get("displayName") or f"Task {document.id}",
        "description": facts.get("description"),
        "createdOn": facts.get("createdOn"),
        "taskStatus": step.extra.get("task_status", TASK_STATUS_NUMBERS.get(text)),
        "integrationStatus": INTEGRATION_STATUS_NUMBERS.get(integration),
        "taskStatusText": text,
        "integrationStatusText": integration,
        "totalPages": pages,
        "restartCount": facts.get("restartCount", 0),
        "preProcessingStartedOn": facts.get("preProcessingStartedOn"),
    }
    if isinstance(step.payload, Mapping):
        body.update(step.payload)
    return body


# -- HTTP -------------------------------------------------------------------------


def _oauth_error(error: str) -> web.Response:
    return web.json_response({"error": error}, status=400, headers={"Cache-Control": "no-store"})


def _empty(status: int) -> web.Response:
    return web.Response(status=status)


def _problem(status: int, title: str) -> web.Response:
    return web.json_response({"title": title, "status": status}, status=status)


class SmartDocumentorApi(VendorApi):
    """Request handlers sharing the simulator state."""

    vendor = NAME



    def _refused(self, request: web.Request) -> web.Response | None:
        """None if the request carries a live token; else a 401 with an empty body, as ASP.NET does."""
        token = bearer_token(request.headers)
        try:
            self.state.tokens.check(NAME, token)
        except TokenRefused as refused:
            self.counters.auth_failures += 1
            challenge = "Bearer" if token is None else (
                f'Bearer error="invalid_token", error_description="{refused.reason}"'
            )
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        return None

    async def token(self, request: web.Request) -> web.Response:
        """``POST connect/token``: client credentials grant, checked in IdentityServer's order
        (client, then grant type, then scope)."""
        self.counters.token_calls += 1
        self.state.tokens.count_request(NAME, request.headers.get("User-Agent"))
        if request.content_type != "application/x-www-form-urlencoded":
            return _oauth_error("invalid_request")
        form = await request.post()
        credentials = self.config.credentials
        authorization = request.headers.get("Authorization")
        if authorization:  # client_secret_basic
            client_ok = basic_auth_matches(
                authorization, credentials["client_id"], credentials["client_secret"]
            )
        else:  # client_secret_post
            client_id, client_secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
            id_ok = hmac.compare_digest(client_id.encode(), credentials["client_id"].encode())
            secret_ok = hmac.compare_digest(client_secret.encode(), credentials["client_secret"].encode())
            client_ok = id_ok and secret_ok
        if not client_ok:
            self.counters.auth_failures += 1
            return _oauth_error("invalid_client")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type")
        allowed = credentials["scope"].split()
        requested = str(form.get("scope", "")).split()
        if any(scope not in allowed for scope in requested):
            return _oauth_error("invalid_scope")
        granted = " ".join(requested or allowed)
        token, _ = self.state.tokens.issue_opaque(NAME, credentials["client_id"])
        return web.json_response(
            {
                "access_token": token,
                "expires_in": math.floor(self.state.tokens.lifetime(NAME)),
                "token_type": "Bearer",
                "scope": granted,
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    async def status(self, request: web.Request) -> web.Response:
        """``GET sdtask/status``: 400 without ids, 404 when no task matches them all."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        self.counters.status_calls += 1
        query = {key.lower(): value for key, value in reversed(list(request.query.items()))}
        raw_task_id = query.get("taskid", "").strip()
        external_id = query.get("externalid", "")
        if not raw_task_id and not external_id:
            return _empty(400)
        document = None
        if raw_task_id:
            if not _DIGITS.fullmatch(raw_task_id):
                return _empty(400)  # ASP.NET refuses a taskId that is not an integer
            document = self.state.store.get(NAME, str(int(raw_task_id)))
            if document is not None and external_id and document.vendor_state.get("externalId") != external_id:
                document = None
        else:
            document = _find_by_external_id(self.state, external_id)
        if document is None:
            return _empty(404)
        step = document.answer_status_call(request.method, request.path_qs, request.headers)
        now = self.state.store.wall_clock()
        return await respond(request, step, lambda: web.json_response(status_object(document, step, now)))

    async def process(self, request: web.Request) -> web.Response:
        """``POST sdtask/process``: a new task; 409 for an externalId already in use."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        raw = await request.read()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _problem(400, "the body must be JSON")
        if not isinstance(body, dict):
            return _problem(400, "the body must be a JSON object")
        fields = {key: body[key] for key in DOCUMENT_FIELDS if key in body and key != "name"}
        document = body.get("document")
        if document is not None:
            if not isinstance(document, dict) or not isinstance(document.get("name"), str):
                return _problem(400, 'document must be {"name": ..., "data": base64}')
            data = document.get("data", "")
            try:
                decoded = base64.b64decode("".join(str(data).split()), validate=True)
            except (binascii.Error, ValueError):
                return _problem(400, "document.data is not valid base64")
            if len(decoded) > MAX_DOCUMENT_BYTES:
                return _problem(413, "the document is too large")
            fields["name"] = document["name"]
            fields.setdefault("totalPages", pages_of(decoded))
        script_name = body.get("script")
        if script_name is not None and not isinstance(script_name, str):
            return _problem(400, "script must be the name of a script")
        if script_name is None and "name" in fields:
            script_name = script_named_by_filename(fields["name"], self.config.scripts)
        external_id = fields.get("externalId")
        if isinstance(external_id, str) and _find_by_external_id(self.state, external_id) is not None:
            return _problem(409, f"a task with externalId {external_id!r} already exists")
        task_id = new_document_id()
        while self.state.store.get(NAME, task_id) is not None:
            task_id = new_document_id()
        try:
            script = self.config.resolve_script(script_name)
            facts = new_document_state(self.state, task_id, fields)
        except ValueError as exc:
            return _problem(400, str(exc))
        created = self.state.store.create(NAME, task_id, script)
        created.vendor_state.update(facts)
        source = external_id if isinstance(external_id, str) else fields.get("name")
        self.count_start(source)
        return await self.answer_start(
            request, web.json_response({"taskId": int(task_id), "externalId": external_id}, status=201), source
        )


def add_routes(app: web.Application, state: SimulatorState) -> None:
    """Mount the SmartDocumentor token endpoint and task API (wrong methods get 405)."""
    api = SmartDocumentorApi(state)
    app.router.add_post(TOKEN_PATH, api.token)
    app.router.add_get(STATUS_PATH, api.status, allow_head=False)
    app.router.add_post(PROCESS_PATH, api.process)
