"""LEADTOOLS Cloud Services operator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_docstatus.engine.errors import InvalidInputError
from airflow_docstatus.engine.lineage import LineageDataset, url_dataset
from airflow_docstatus.engine.operator import DocStatusOperator
from airflow_docstatus.hooks.leadtools import LeadtoolsHook


class LeadtoolsExtractTextOperator(DocStatusOperator):
    """Starts OCR of a file with LEADTOOLS ``Recognition/ExtractText`` and waits for its ``RequestData``.

    Start: ``LeadtoolsHook.extract_text(file_url, first_page, last_page)``; XCom
    ``job_ref`` is ``{"file_id": "<GUID>"}``. Wait: as ``LeadtoolsQuerySensor``
    (FileStatus 100 and 123 wait, 200 succeeds, 500/501/502/600 fail; polls at
    least 2 s apart); returns the ``RequestData`` list. LEADTOOLS has no cancel
    call: a killed task logs that the job runs on.

    :param file_url: the URL LEADTOOLS fetches the file from (templated); http(s).
    :param first_page: first page to read, from 1 (templated).
    :param last_page: last page to read, -1 for the last page of the file (templated).
    :param leadtools_conn_id: the ``leadtools`` connection (templated).

    OpenLineage (with the ``openlineage`` extra): input the ``file_url`` (namespace
    ``scheme://host[:port]``, name its path, no query string); no output dataset.

    The other arguments (``wait_for_completion``, ``deferrable``, ``poll_interval``,
    ``timeout``, ``max_consecutive_errors``, ``cancel_on_kill``) are ``DocStatusOperator``'s.
    """

    template_fields: Sequence[str] = ("file_url", "first_page", "last_page", "leadtools_conn_id")
    hook_class = LeadtoolsHook
    trigger_class_path = "airflow_docstatus.triggers.leadtools.LeadtoolsQueryTrigger"
    start_call = "ExtractText"

    def __init__(
        self,
        *,
        file_url: str,
        first_page: int = 1,
        last_page: int = -1,
        leadtools_conn_id: str = LeadtoolsHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            start_args={"file_url": file_url, "first_page": first_page, "last_page": last_page},
            conn_id=leadtools_conn_id,
            **kwargs,
        )

    def check_start_args(self) -> None:
        url = self.file_url
        if not isinstance(url, str) or not url.strip().lower().startswith(("http://", "https://")):
            raise InvalidInputError(f"LEADTOOLS: `file_url` must be an http(s) URL, got {url!r}")
        first, last = _page(self.first_page, "first_page"), _page(self.last_page, "last_page")
        if first < 1:
            raise InvalidInputError(f"LEADTOOLS: `first_page` must be 1 or more, got {first}")
        if last != -1 and last < first:
            raise InvalidInputError(f"LEADTOOLS: `last_page` must be -1 (the end) or >= first_page, got {last}")

    def lineage_datasets(self) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """Input: the file at ``file_url`` (its query string dropped); the text goes to XCom, no output."""
        source = url_dataset(self.file_url)
        return ([source] if source else []), []

    def start_job(self, hook: LeadtoolsHook) -> dict[str, Any]:  # type: ignore[override]
        file_id = hook.extract_text(
            self.file_url.strip(), _page(self.first_page, "first_page"), _page(self.last_page, "last_page")
        )
        return {"file_id": file_id}


def _page(value: Any, name: str) -> int:
    """A page number, given as an int or (rendered from a template) as a string of digits."""
    if isinstance(value, bool):
        raise InvalidInputError(f"LEADTOOLS: `{name}` must be a whole number, got {value!r}")
    try:
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"LEADTOOLS: `{name}` must be a whole number, got {value!r}") from None
