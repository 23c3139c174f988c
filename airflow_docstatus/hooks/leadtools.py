"""LEADTOOLS Cloud Services hook: ``Query`` plus the calls that start an OCR job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_docstatus.engine.hook import DocStatusHook
from airflow_docstatus.protocols.leadtools import LeadtoolsProtocol

if TYPE_CHECKING:
    from airflow_docstatus.engine.http import HttpRequest


class LeadtoolsHook(DocStatusHook[LeadtoolsProtocol]):
    """Talks to LEADTOOLS Cloud Services with the Application ID and password of a ``leadtools`` connection.

    ``check_status(file_id=...)`` asks ``Query`` once. ``extract_text`` starts
    a single-service OCR job; ``upload_file``, ``queue_extract_text`` and
    ``run`` start a queued one. Every start call returns the file's GUID.

    :param leadtools_conn_id: the ``leadtools`` connection (host: API base, login: Application ID,
        password: Application Password).
    :param fail_when_not_run: treat FileStatus 122 (uploaded, ``Run`` never called) as a failure.
    """

    conn_name_attr = "leadtools_conn_id"
    default_conn_name = "leadtools_default"
    conn_type = "leadtools"
    hook_name = "LEADTOOLS Cloud Services"
    protocol_class = LeadtoolsProtocol

    def __init__(self, leadtools_conn_id: str = default_conn_name, fail_when_not_run: bool = False) -> None:
        super().__init__(leadtools_conn_id, fail_when_not_run=fail_when_not_run)

    def _start(self, file_url: str, request: HttpRequest) -> str:
        """Send a call that starts a job and return the GUID it answers with."""
        return self.protocol.parse_file_id({"fileurl": file_url}, self.send(request))

    def extract_text(self, file_url: str, first_page: int = 1, last_page: int = -1) -> str:
        """Start OCR of the file at ``file_url`` (pages first..last, -1 for the end); return its GUID."""
        file_id = self._start(file_url, self.protocol.extract_text_request(file_url, first_page, last_page))
        self.log.info("LEADTOOLS started ExtractText on %s: file_id=%s", file_url, file_id)
        return file_id

    def upload_file(self, file_url: str) -> str:
        """Upload the file at ``file_url`` for queued services; return its GUID (it waits at 122 until ``run``)."""
        file_id = self._start(file_url, self.protocol.upload_file_request(file_url))
        self.log.info("LEADTOOLS uploaded %s: file_id=%s", file_url, file_id)
        return file_id

    def queue_extract_text(self, file_id: str, first_page: int = 1, last_page: int = -1) -> None:
        """Queue OCR on an uploaded file."""
        self._expect_ok(file_id, self.protocol.queue_extract_text_request(file_id, first_page, last_page))

    def run(self, file_id: str) -> None:
        """Start the services queued on an uploaded file."""
        self._expect_ok(file_id, self.protocol.run_request(file_id))
        self.log.info("LEADTOOLS Run called on file_id=%s", file_id)

    def delete(self, file_id: str) -> None:
        """Delete a file and its results (the vendor refuses while it is at 100 or 123)."""
        self._expect_ok(file_id, self.protocol.delete_request(file_id))

    def _expect_ok(self, file_id: str, request: HttpRequest) -> None:
        self.protocol.raise_for_http_error({"file_id": file_id}, self.send(request))
