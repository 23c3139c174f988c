"""LEADTOOLS Cloud Services: the ``Query`` call and the calls that start a job."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from airflow_docstatus.engine.errors import InvalidInputError, PermanentError
from airflow_docstatus.engine.http import HttpRequest, HttpResponse, basic_auth_header
from airflow_docstatus.engine.protocol import Ref, VendorProtocol
from airflow_docstatus.engine.settings import ConnectionSettings
from airflow_docstatus.engine.status import DocStatus, State, StatusTable

NOT_RUN = "122"

FILE_STATUS_TEXT = {
    "100": "processing",
    "122": "uploaded, Run not called",
    "123": "being verified",
    "200": "done",
    "500": "internal error",
    "501": "deleted",
    "502": "rejected by verification",
    "600": "aborted: not enough pages left in the application",
}


def parse_guid(value: Any, name: str = "file_id") -> str:
    """The canonical form of a GUID, or ``InvalidInputError``."""
    try:
        return str(uuid.UUID(str(value).strip()))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInputError(f"LEADTOOLS: `{name}` must be a GUID, got {value!r}") from None


class LeadtoolsProtocol(VendorProtocol):
    """LEADTOOLS ``Query?id=GUID`` with HTTP Basic auth (Application ID and password).

    FileStatus 122 (uploaded, ``Run`` never called) waits with a warning, or
    fails when ``fail_when_not_run`` is set. A FileStatus outside the
    documented table fails with a message that names it.
    """

    vendor = "leadtools"
    display_name = "LEADTOOLS"
    default_host = "https://azure.leadtools.com/api/"
    id_fields = ("file_id",)
    max_body_bytes = 16 * 1024 * 1024  # RequestData of a 32 MB file's recognition results runs to a few MB
    option_fields = ("fail_when_not_run",)
    min_poll_interval = 2.0  # the vendor asks for at least 2 s between Query calls
    statuses: ClassVar[StatusTable] = StatusTable.of(
        waiting={"100", "122", "123"},
        success={"200"},
        failure={"500", "501", "502", "600"},
        unknown=State.FAILED,
    )
    http_reasons = {
        400: "the id is not a valid GUID",
        401: "the Application ID/password is wrong, or does not own this file",
        500: "internal error",
    }

    def __init__(self, settings: ConnectionSettings, *, fail_when_not_run: bool = False) -> None:
        super().__init__(settings)
        self.fail_when_not_run = fail_when_not_run
        if fail_when_not_run:
            self.statuses = self.statuses.with_overrides(failure={*self.statuses.failure, NOT_RUN})

    @classmethod
    def validate_ref(cls, **ids: Any) -> dict[str, Any]:
        return {"file_id": parse_guid(cls.require(ids, "file_id"))}

    def _auth(self) -> dict[str, str]:
        return basic_auth_header(self.settings.login, self.settings.password)

    def status_request(self, ref: Ref) -> HttpRequest:
        return HttpRequest("GET", self.url("Query"), params={"id": ref["file_id"]}, headers=self._auth())

    def parse_status(self, ref: Ref, response: HttpResponse) -> DocStatus:
        body = self.json_body(ref, response)
        if not isinstance(body, dict) or "FileStatus" not in body:
            raise PermanentError(f"{self.where(ref)} answered without a FileStatus: {self.excerpt(response)!r}")
        vendor_status = str(body["FileStatus"])
        known = self.statuses.is_known(vendor_status)
        message = FILE_STATUS_TEXT.get(vendor_status) if known else (
            f"unexpected FileStatus {vendor_status}, not one the vendor documents"
        )
        state = self.state_of(vendor_status)
        warning = None
        if vendor_status == NOT_RUN and state is State.WAITING:
            warning = "the file was uploaded but Run was never called; it will not start until it is"
        return self.status(
            ref,
            vendor_status,
            message=message,
            payload=body.get("RequestData") or [],
            warning=warning,
        )

    # starting a job ----------------------------------------------------------
    def extract_text_request(self, file_url: str, first_page: int = 1, last_page: int = -1) -> HttpRequest:
        """Single-service OCR of the file at ``file_url``; the answer is the new file's GUID."""
        params = {"fileurl": file_url, "firstPage": str(first_page), "lastPage": str(last_page)}
        return HttpRequest("POST", self.url("Recognition/ExtractText"), params=params, headers=self._auth())

    def upload_file_request(self, file_url: str) -> HttpRequest:
        """Upload a file by URL for queued services; the answer is its GUID."""
        return HttpRequest("POST", self.url("UploadFile"), params={"fileurl": file_url}, headers=self._auth())

    def queue_extract_text_request(self, file_id: str, first_page: int = 1, last_page: int = -1) -> HttpRequest:
        """Queue OCR on an uploaded file."""
        params = {"id": parse_guid(file_id), "firstPage": str(first_page), "lastPage": str(last_page)}
        return HttpRequest("POST", self.url("Recognition/ExtractText"), params=params, headers=self._auth())

    def run_request(self, file_id: str) -> HttpRequest:
        """Start the services queued on an uploaded file."""
        return HttpRequest("POST", self.url("Run"), params={"id": parse_guid(file_id)}, headers=self._auth())

    def delete_request(self, file_id: str) -> HttpRequest:
        """Delete a file and its results."""
        return HttpRequest("POST", self.url("DeleteRequest"), params={"id": parse_guid(file_id)}, headers=self._auth())

    def parse_file_id(self, ref: Ref, response: HttpResponse) -> str:
        """The GUID a start call answers with, as plain text (possibly JSON-quoted)."""
        self.raise_for_http_error(ref, response)
        text = response.text.strip().strip('"')
        try:
            return parse_guid(text)
        except InvalidInputError:
            raise PermanentError(f"{self.where(ref)} did not answer with a GUID: {self.excerpt(response)!r}") from None

    # connection test -----------------------------------------------------------
    # LEADTOOLS answers 401 alike for wrong credentials and for a file the application does not own,
    # and has no call that needs credentials but no file: no answer proves the credentials.
    probe_proves_credentials = False
    PROBE_FILE_ID = "00000000-0000-0000-0000-000000000000"

    def probe_request(self) -> HttpRequest:
        """``Query`` for the nil GUID (no file has it): read-only, starts nothing, costs no pages.

        Raises ``InvalidInputError`` when the Application ID (login) or the password is empty.
        """
        for field_name, value in (("login (the Application ID)", self.settings.login),
                                  ("password (the Application Password)", self.settings.password)):
            if not value or not value.strip():
                raise InvalidInputError(f"{self.where()}: {field_name} is empty")
        return self.status_request({"file_id": self.PROBE_FILE_ID})

    def interpret_probe(self, response: HttpResponse) -> str:
        """401 (what LEADTOOLS answers for a file not owned), 400 or 2xx show the API is there; the rest raise.

        A 404 (no such API at this base URL), a 5xx and any other answer raise
        the typed error ``raise_for_http_error`` gives them.
        """
        code = response.status
        if 200 <= code < 300:
            self.parse_status({"file_id": self.PROBE_FILE_ID}, response)  # a FileStatus, or the error it is not
        elif code not in (400, 401):
            self.raise_for_http_error({}, response)
        return (
            f"{self.where()}: the API base answered Query with HTTP {code} {self.transport_note()}, as LEADTOOLS "
            "does. The Application ID and password were NOT checked: LEADTOOLS answers 401 alike for wrong "
            "credentials and for a file the application does not own, and has no call that tells them apart; "
            "the first status call will tell"
        )
