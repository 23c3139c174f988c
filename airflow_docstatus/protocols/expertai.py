"""expert.ai Extract: the status of a layout task, the JWT it needs, and the call that starts one."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from airflow_docstatus.engine.errors import InvalidInputError, PermanentError, TransientError
from airflow_docstatus.engine.http import HttpRequest, HttpResponse
from airflow_docstatus.engine.protocol import Ref, TokenAuthProtocol
from airflow_docstatus.engine.status import DocStatus, State, StatusTable
from airflow_docstatus.engine.tokens import Token

DEFAULT_AUTH_URL = "https://developer.expert.ai/oauth2/token"
MAX_DOCUMENT_BYTES = 14 * 1024 * 1024  # the vendor's limit per request


class ExpertAiExtractProtocol(TokenAuthProtocol):
    """``GET status/{taskId}`` with a bearer JWT from the connection's ``auth_url``.

    PENDING and PROGRESS wait (``current`` is the progress in percent);
    SUCCESS succeeds with the ``result`` object as payload; FAILURE and
    ABORTED fail with the vendor's message. Any other state fails, named.
    """

    vendor = "expertai"
    display_name = "expert.ai Extract"
    default_host = "https://extract.expert.ai/beta/"
    id_fields = ("extract_task_id",)
    max_body_bytes = 64 * 1024 * 1024  # the result of a 500-page document is about 8 MB; headroom for denser pages
    statuses: StatusTable = StatusTable.of(
        waiting={"PENDING", "PROGRESS"},
        success={"SUCCESS"},
        failure={"FAILURE", "ABORTED"},
        unknown=State.FAILED,
    )
    http_reasons = {
        401: "the token is missing, invalid or expired",
        403: "the account has no active subscription",
        404: "no such task (or a wrong API base URL)",
        405: "wrong method",
        413: "the document is too large",
        500: "server error",
    }

    @classmethod
    def validate_ref(cls, **ids: Any) -> dict[str, Any]:
        return {"extract_task_id": str(cls.require(ids, "extract_task_id"))}

    # token -------------------------------------------------------------------
    @property
    def auth_url(self) -> str:
        return str(self.settings.extra.get("auth_url") or DEFAULT_AUTH_URL)

    def token_request(self) -> HttpRequest:
        body = json.dumps({"username": self.settings.login or "", "password": self.settings.password or ""})
        return HttpRequest(
            "POST", self.auth_url, headers={"Content-Type": "application/json"}, body=body.encode()
        )

    def parse_token(self, response: HttpResponse, now: float) -> Token:
        """The answer is the bare JWT as text; it is renewed shortly before its ``exp``."""
        value = response.text.strip().strip('"')
        if not value or any(c.isspace() for c in value):
            raise TransientError(f"{self.where()}: the token endpoint answered without a token", http_status=response.status)
        return Token.from_jwt(value, now)

    # status ------------------------------------------------------------------
    def status_request(self, ref: Ref) -> HttpRequest:
        return HttpRequest("GET", self.url(f"status/{quote(ref['extract_task_id'], safe='')}"))

    def parse_status(self, ref: Ref, response: HttpResponse) -> DocStatus:
        body = self.json_body(ref, response)
        if not isinstance(body, dict) or "state" not in body:
            raise PermanentError(f"{self.where(ref)} answered without a state: {self.excerpt(response)!r}")
        state = str(body["state"])
        current = body.get("current")
        progress = float(current) / 100 if isinstance(current, (int, float)) else None
        message = body.get("message")
        if not self.statuses.is_known(state):
            message = f"unexpected state {state}, not one the vendor documents" + (f" ({message})" if message else "")
        return self.status(
            ref,
            state,
            progress=progress,
            message=str(message) if message is not None else None,
            payload=body.get("result") if state == "SUCCESS" else None,
        )

    # starting a job ------------------------------------------------------------
    def layout_request(self, name: str, data: bytes) -> HttpRequest:
        """``layout-document-async`` with the document sent as base64."""
        if not data:
            raise InvalidInputError(f"{self.display_name}: the document {name!r} is empty")
        if len(data) > MAX_DOCUMENT_BYTES:
            raise InvalidInputError(
                f"{self.display_name}: the document {name!r} is {len(data)} bytes; the limit is {MAX_DOCUMENT_BYTES}"
            )
        body = json.dumps({"document": {"name": name, "data": base64.b64encode(data).decode("ascii")}})
        return HttpRequest(
            "POST", self.url("layout-document-async"), headers={"Content-Type": "application/json"}, body=body.encode()
        )

    def parse_task_id(self, name: str, response: HttpResponse) -> str:
        """The ``taskId`` of the 202 answer to ``layout-document-async``."""
        ref = {"document": name}
        self.raise_for_http_error(ref, response)
        body = self.json_body(ref, response)
        if not isinstance(body, dict) or not body.get("taskId"):
            raise PermanentError(f"{self.where(ref)} answered without a taskId: {self.excerpt(response)!r}")
        return str(body["taskId"])
