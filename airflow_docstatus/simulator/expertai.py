"""expert.ai Extract (Beta), simulated under ``/expertai/``.

- ``POST /expertai/oauth2/token`` with JSON ``{"username", "password"}``: the bare JWT as text;
- ``POST /expertai/beta/layout-document-async`` (Bearer): starts a layout task, ``202 {"taskId"}``;
- ``GET /expertai/beta/status/{taskId}`` (Bearer): ``{"current", "message", "state"}``, plus
  ``result`` (``header``, ``layout``, ``words``) once the state is ``SUCCESS``.

A connection's host is ``{simulator}/expertai/beta`` and its ``auth_url`` is
``{simulator}/expertai/oauth2/token``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aiohttp import web

from .documents import Document, SimulatorState, Step, VendorApi, script_named_by_filename
from .faults import respond
from .tokens import TokenRefused, bearer_token

NAME = "expertai"
URL_PREFIX = "/expertai/"
API_BASE = "/expertai/beta"
TOKEN_PATH = "/expertai/oauth2/token"
CREDENTIAL_KEYS: tuple[str, ...] = ("username", "password")
TOKEN_LIFETIME = 3600.0
JWT_ISSUER = "docstatus-simulator/expertai"

STATES = ("PENDING", "PROGRESS", "SUCCESS", "FAILURE", "ABORTED")
"""The documented task states. Scripts may use any other string, to imitate a surprise."""
SUCCESS = "SUCCESS"
DEFAULT_CURRENT = {"PENDING": 0, "PROGRESS": 50, "SUCCESS": 100, "FAILURE": 0, "ABORTED": 0}
DEFAULT_MESSAGE = {
    "PENDING": "queued",
    "PROGRESS": "processing",
    "SUCCESS": "completed",
    "FAILURE": "error",
    "ABORTED": "aborted",
}
MAX_DOCUMENT_BYTES = 14 * 1024 * 1024
"""The vendor's 14 MB per request, taken as MiB, applied to the decoded document."""
MAX_RESULT_PAGES = 2000
DEFAULT_RESULT_PAGES = 2
DEFAULT_DOCUMENT_NAME = "document.pdf"
PAGE_BBOX = [0, 0, 850, 1100]
"""A Letter page in pixels at 100 DPI, the unit of the vendor's bbox."""
ENGINE_VERSION = "docstatus-simulator extract 1.0"


def _check_percent(value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ValueError(f"must be a whole percentage 0..100, got {value!r}")


def _check_pages(value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_RESULT_PAGES:
        raise ValueError(f"must be a whole number of pages 1..{MAX_RESULT_PAGES}, got {value!r}")


EXTRA_STEP_KEYS = {
    "current": _check_percent,
    "progress": _check_percent,  # an alias of "current"
    "result_pages": _check_pages,
}
"""``current`` (alias ``progress``): the percentage answered; ``result_pages``: the
number of pages of the result synthesized for a SUCCESS step without a payload."""


def new_document_id() -> str:
    """A fresh task id (a uuid4)."""
    return str(uuid.uuid4())


def normalize_document_id(raw: str) -> str:
    """The canonical (lower-case) form of a task id; ValueError if it is not a uuid."""
    return str(uuid.UUID(raw))


def check_status(value: Any) -> None:
    """An expert.ai state is a non-empty string (normally one of :data:`STATES`)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"an expert.ai status must be a state string such as 'PROGRESS', got {value!r}")


def new_document_state(state: SimulatorState, doc_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A task's facts: ``name`` (the document's name, reported as ``documentName``)."""
    unknown = sorted(set(fields) - {"name"})
    if unknown:
        raise ValueError(f"unknown expertai field(s) {unknown}; allowed: ['name']")
    name = fields.get("name", DEFAULT_DOCUMENT_NAME)
    if not isinstance(name, str) or not name:
        raise ValueError(f"expertai field 'name' must be a non-empty string, got {name!r}")
    return {"name": name}


# -- the synthesized result -----------------------------------------------------

_WORDS = (
    "invoice total amount due date payment terms customer supplier order quantity unit price "
    "net tax vat discount shipping address reference account bank transfer contract clause "
    "party agreement signature page section schedule annex delivery item description"
).split()


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z"
    )


def _page_words(rng: random.Random, page: int) -> str:
    """One page's words as the vendor ships them: base64 of gzip (here of a JSON word list)."""
    words = []
    y = 60
    while y < 1040:
        x = 50
        while x < 780:
            text = rng.choice(_WORDS) if rng.random() < 0.8 else f"{rng.randint(0, 99999):05d}"
            width = 7 * len(text)
            words.append({"text": text, "bbox": [x, y, x + width, y + 12], "conf": round(rng.uniform(0.8, 1), 3)})
            x += width + 6
        y += 18
    return base64.b64encode(gzip.compress(json.dumps(words).encode(), mtime=0)).decode("ascii")


def title_of(document_name: str) -> str:
    """The title the synthesized layout gives a document: its name's stem in capitals."""
    stem = PurePosixPath(document_name).stem or "document"
    return " ".join(stem.replace("_", " ").replace("-", " ").split()).upper() or "DOCUMENT"


def synthesize_result(document_name: str, pages: int, converted_at: float, seed: str = "") -> dict[str, Any]:
    """A realistic Extract result: a header, a layout tree per page and one words blob per page.

    The shapes follow vendor-apis.md section 3. About 10 KB per page; 500 pages make a
    result of several MB, like the real service's. The content follows from the name and
    ``seed`` alone (the simulator passes a hash of the document's bytes): the same document
    gives the same layout, two different ones differ.
    """
    rng = random.Random(f"{seed}:{document_name}:{pages}")
    stem = PurePosixPath(document_name).stem or "document"
    layout: list[dict[str, Any]] = []

    def add(page: int, kind: str, parent: int | None, content: str, bbox: list[int]) -> dict[str, Any]:
        item = {"id": len(layout), "page": page, "type": kind, "children": [], "parent": parent,
                "content": content, "bbox": bbox}
        layout.append(item)
        if parent is not None:
            layout[parent]["children"].append(item["id"])
        return item

    for page in range(1, pages + 1):
        page_item = add(page, "page", None, "", list(PAGE_BBOX))
        pid = page_item["id"]
        add(page, "header", pid, f"{stem} - ACME Corp", [50, 20, 800, 45])
        if page == 1:
            add(page, "title", pid, title_of(document_name), [50, 70, 600, 110])
        for paragraph in range(3):
            top = 130 + paragraph * 120
            text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(25, 45)))
            add(page, "text", pid, text.capitalize() + ".", [50, top, 800, top + 100])
        table = add(page, "table", pid, "", [50, 520, 800, 700])
        for row in range(3):
            for column in range(3):
                left, top = 50 + column * 250, 520 + row * 60
                content = ("Item", "Quantity", "Amount")[column] if row == 0 else str(rng.randint(1, 9999))
                add(page, "cell", table["id"], content, [left, top, left + 250, top + 60])
        add(page, "footer", pid, f"Page {page} of {pages}", [350, 1060, 500, 1085])

    return {
        "header": {
            "conversionDateTime": _iso(converted_at),
            "customInfo": {"producer": "docstatus simulator"},
            "documentName": document_name,
            "errorPages": 0,
            "totPages": pages,
            "version": ENGINE_VERSION,
            "metadata": [{"name": "Title", "value": stem}, {"name": "Pages", "value": str(pages)}],
        },
        "layout": layout,
        "words": [_page_words(rng, page) for page in range(1, pages + 1)],
    }


# -- HTTP -------------------------------------------------------------------------


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


class ExpertAiApi(VendorApi):
    """Request handlers sharing the simulator state."""

    vendor = NAME



    def _refused(self, request: web.Request) -> web.Response | None:
        """None if the request carries a live token; else the 401 to send."""
        try:
            self.state.tokens.check(NAME, bearer_token(request.headers))
        except TokenRefused as refused:
            self.counters.auth_failures += 1
            return _error(
                401,
                refused.reason,
                {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{refused.reason}"'},
            )
        return None

    async def token(self, request: web.Request) -> web.Response:
        """``POST oauth2/token`` with JSON ``{"username", "password"}``: the bare JWT as text."""
        self.counters.token_calls += 1
        self.state.tokens.count_request(NAME, request.headers.get("User-Agent"))
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("username"), str)
            or not isinstance(body.get("password"), str)
        ):
            return web.Response(status=400, text='the body must be JSON {"username": ..., "password": ...}')
        credentials = self.config.credentials
        user_ok = hmac.compare_digest(body["username"].encode(), credentials["username"].encode())
        password_ok = hmac.compare_digest(body["password"].encode(), credentials["password"].encode())
        if not (user_ok and password_ok):
            self.counters.auth_failures += 1
            return web.Response(status=401, text="invalid credentials")
        token, _ = self.state.tokens.issue_jwt(NAME, body["username"], JWT_ISSUER)
        return web.Response(text=token, content_type="text/plain")

    async def start(self, request: web.Request) -> web.Response:
        """``POST layout-document-async``: a new task running the script named by the document."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "the body must be JSON")
        document = body.get("document") if isinstance(body, dict) else None
        if not isinstance(document, dict):
            return _error(400, 'the body must be {"document": {"name": ..., "data": base64}}')
        name, data = document.get("name"), document.get("data")
        if not isinstance(name, str) or not name.strip():
            return _error(400, "document.name must be a non-empty string")
        if not isinstance(data, str) or not data.strip():
            return _error(400, "document.data must be a non-empty base64 string")
        try:
            decoded = base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            return _error(400, "document.data is not valid base64")
        if len(decoded) > MAX_DOCUMENT_BYTES:
            return _error(413, f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
        script = self.config.resolve_script(script_named_by_filename(name, self.config.scripts))
        task_id = new_document_id()
        created = self.state.store.create(NAME, task_id, script)
        created.vendor_state.update(new_document_state(self.state, task_id, {"name": name}))
        created.vendor_state["size"] = len(decoded)
        created.vendor_state["sha256"] = hashlib.sha256(decoded).hexdigest()
        self.count_start(name)
        return await self.answer_start(request, web.json_response({"taskId": task_id}, status=202), name)

    async def status(self, request: web.Request) -> web.Response:
        """``GET status/{taskId}``: the task's state, and its result once it is SUCCESS."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        self.counters.status_calls += 1
        try:
            task_id = normalize_document_id(request.match_info["task_id"])
        except ValueError:
            task_id = None
        document = self.state.store.get(NAME, task_id) if task_id else None
        if document is None:
            return _error(404, "task not found")
        step = document.answer_status_call(request.method, request.path_qs, request.headers)
        return await respond(request, step, lambda: self._status_body(document, step))

    def _status_body(self, document: Document, step: Step) -> web.Response:
        state = step.status
        current = step.extra.get("current", step.extra.get("progress", DEFAULT_CURRENT.get(state, 0)))
        message = step.message if step.message is not None else DEFAULT_MESSAGE.get(state, state.lower())
        head = {"current": current, "message": message, "state": state}
        if state != SUCCESS:
            return web.json_response(head)
        # The result is built once per document and step, then served as cached bytes.
        cache = document.vendor_state.get("result_cache")
        if cache is None or cache[0] is not step:
            if step.payload is not None:
                result = step.payload
            else:
                result = synthesize_result(
                    document.vendor_state.get("name", DEFAULT_DOCUMENT_NAME),
                    step.extra.get("result_pages", DEFAULT_RESULT_PAGES),
                    self.state.store.wall_clock(),
                    seed=document.vendor_state.get("sha256") or document.id,
                )
            cache = (step, json.dumps({**head, "result": result}).encode())
            document.vendor_state["result_cache"] = cache
        return web.Response(body=cache[1], content_type="application/json")


def add_routes(app: web.Application, state: SimulatorState) -> None:
    """Mount the expert.ai token endpoint and Extract API (wrong methods get 405)."""
    api = ExpertAiApi(state)
    app.router.add_post(TOKEN_PATH, api.token)
    app.router.add_post(f"{API_BASE}/layout-document-async", api.start)
    app.router.add_get(f"{API_BASE}/status/{{task_id}}", api.status, allow_head=False)
