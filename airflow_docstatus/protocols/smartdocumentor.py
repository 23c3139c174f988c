"""SmartDocumentor Cloud: ``sdtask/status`` behind client-credentials tokens, and ``sdtask/process``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode, urljoin

from airflow_docstatus.engine.errors import InvalidInputError, PermanentError, TransientError
from airflow_docstatus.engine.http import HttpRequest, HttpResponse
from airflow_docstatus.engine.protocol import Ref, TokenAuthProtocol
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.status import DocStatus, State, StatusTable
from airflow_docstatus.engine.tokens import Token, lifetime_seconds

STATUS_PATH = "api/v1.0/external/sdtask/status"
PROCESS_PATH = "api/v1.0/external/sdtask/process"
DEFAULT_SCOPE = "WebAPI"

# Texts, not numbers: the vendor's number table is not public.
DEFAULT_SUCCESS_STATUSES = frozenset({"Processed", "ExportCompleted"})
DEFAULT_FAILURE_STATUSES = frozenset(
    {
        "PreProcessingFailed",
        "PreProcessingDownloadFailed",
        "PreProcessingGetPagesFailed",
        "Deleting",
        "Deleted",
        "Failed",  # as integrationStatusText: the export to the customer's system failed
    }
)
# Statuses where the task sits in a person's queue.
REVIEW_STATUSES = frozenset({"toreview", "inreview"})


def parse_task_id(value: Any) -> int:
    """``sd_task_id`` as the positive integer the vendor uses, or ``InvalidInputError``."""
    try:
        task_id = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInputError(f"SmartDocumentor: `sd_task_id` must be an integer, got {value!r}") from None
    if task_id <= 0:
        raise InvalidInputError(f"SmartDocumentor: `sd_task_id` must be positive, got {value!r}")
    return task_id


def _texts(values: Iterable[str] | str | None, name: str) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    texts = frozenset(str(v).strip() for v in values if str(v).strip())
    if not texts:
        raise InvalidInputError(f"SmartDocumentor: `{name}` must name at least one status text")
    return texts


class SmartDocumentorProtocol(TokenAuthProtocol):
    """``GET sdtask/status?taskId=&externalId=`` with a client-credentials bearer token.

    Statuses are matched by their text, case-insensitively: ``taskStatusText``
    against the success and failure sets, and ``integrationStatusText``
    against the failure set too (a failed export fails the task). Every other
    text waits, because the vendor's status list is not public; ToReview waits
    for a person. ``success_statuses``/``failure_statuses`` replace the defaults.
    """

    vendor = "smartdocumentor"
    display_name = "SmartDocumentor"
    default_host = "https://cloud.smartdocumentor.net/"
    id_fields = ("sd_task_id", "external_id")
    option_fields = ("success_statuses", "failure_statuses")
    statuses: ClassVar[StatusTable] = StatusTable.of(
        success=DEFAULT_SUCCESS_STATUSES,
        failure=DEFAULT_FAILURE_STATUSES,
        unknown=State.WAITING,
        case_sensitive=False,
    )
    http_reasons = {
        400: "neither taskId nor externalId was given",
        401: "the token is missing, invalid or expired",
        404: "no such task",
    }

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        success_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
    ) -> None:
        super().__init__(settings)
        success = _texts(success_statuses, "success_statuses")
        failure = _texts(failure_statuses, "failure_statuses")
        if success is not None or failure is not None:
            try:
                self.statuses = self.statuses.with_overrides(success=success, failure=failure)
            except ValueError as exc:
                raise InvalidInputError(f"SmartDocumentor: {exc}") from None

    @classmethod
    def validate_ref(cls, **ids: Any) -> dict[str, Any]:
        task_id, external_id = ids.get("sd_task_id"), ids.get("external_id")
        if isinstance(task_id, str) and not task_id.strip():
            task_id = None
        if isinstance(external_id, str):
            external_id = external_id.strip() or None
        if task_id is None and external_id is None:
            raise InvalidInputError("SmartDocumentor: give `sd_task_id`, `external_id`, or both")
        ref: dict[str, Any] = {}
        if task_id is not None:
            ref["sd_task_id"] = parse_task_id(task_id)
        if external_id is not None:
            ref["external_id"] = str(external_id)
        return ref

    # token -------------------------------------------------------------------
    @property
    def token_url(self) -> str:
        return str(self.settings.extra.get("token_url") or urljoin(self.settings.base_url, "connect/token"))

    def token_request(self) -> HttpRequest:
        form = {
            "grant_type": "client_credentials",
            "scope": str(self.settings.extra.get("scope") or DEFAULT_SCOPE),
            "client_id": self.settings.login or "",
            "client_secret": self.settings.password or "",
        }
        return HttpRequest(
            "POST",
            self.token_url,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode(form).encode(),
        )

    def parse_token(self, response: HttpResponse, now: float) -> Token:
        """``{"access_token", "expires_in"}``; renewed shortly before ``expires_in`` runs out."""
        body = self.json_body({}, response)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise TransientError(f"{self.where()}: the token endpoint answered without an access_token")
        return Token.expiring_in(str(body["access_token"]), lifetime_seconds(body.get("expires_in")), now)

    # status ------------------------------------------------------------------
    def status_request(self, ref: Ref) -> HttpRequest:
        params = {}
        if "sd_task_id" in ref:
            params["taskId"] = str(ref["sd_task_id"])
        if "external_id" in ref:
            params["externalId"] = str(ref["external_id"])
        return HttpRequest("GET", self.url(STATUS_PATH), params=params)

    def parse_status(self, ref: Ref, response: HttpResponse) -> DocStatus:
        body = self.json_body(ref, response)
        if not isinstance(body, dict) or not body.get("taskStatusText"):
            raise PermanentError(f"{self.where(ref)} answered without a taskStatusText: {self.excerpt(response)!r}")
        task_text = str(body["taskStatusText"])
        integration = body.get("integrationStatusText")
        state = self.state_of(task_text)
        if integration and self.state_of(str(integration)) is State.FAILED:
            state = State.FAILED
        notes = []
        if integration:
            notes.append(f"integration status {integration}")
        if state is State.WAITING and task_text.casefold() in REVIEW_STATUSES:
            notes.append("the task waits for a person to review it")
        message = "; ".join(notes) or None
        return DocStatus(  # not self.status(): the integration status may fail a task its text would not
            vendor=self.vendor,
            ref=dict(ref),
            state=state,
            vendor_status=self.clean(task_text),
            message=None if message is None else self.clean(message),
            payload=body,
        )

    # starting a job ------------------------------------------------------------
    def process_request(self, body: Mapping[str, Any]) -> HttpRequest:
        """``sdtask/process`` with ``body`` as JSON (its fields are not public; sent as given)."""
        return HttpRequest(
            "POST",
            self.url(PROCESS_PATH),
            headers={"Content-Type": "application/json"},
            body=json.dumps(dict(body)).encode(),
        )

    def parse_process(self, body: Mapping[str, Any], response: HttpResponse) -> dict[str, Any]:
        """The answer to ``sdtask/process``: the new task, with its ``taskId``."""
        ref = {key: body[key] for key in ("externalId",) if body.get(key)}
        self.raise_for_http_error(ref, response)
        answer = self.json_body(ref, response)
        if not isinstance(answer, dict) or answer.get("taskId") is None:
            raise PermanentError(f"{self.where(ref)} answered without a taskId: {self.excerpt(response)!r}")
        return answer
