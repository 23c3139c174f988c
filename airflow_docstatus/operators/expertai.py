"""expert.ai Extract operator."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow_docstatus.engine.errors import InvalidInputError
from airflow_docstatus.engine.lineage import LineageDataset, file_dataset
from airflow_docstatus.engine.operator import DocStatusOperator
from airflow_docstatus.hooks.expertai import ExpertAiExtractHook
from airflow_docstatus.protocols.expertai import MAX_DOCUMENT_BYTES


class ExpertAiExtractLayoutOperator(DocStatusOperator):
    """Starts layout analysis of a document with expert.ai Extract (``layout-document-async``) and waits for it.

    Start: ``ExpertAiExtractHook.layout_document_async(document, name)``; XCom
    ``job_ref`` is ``{"extract_task_id": "..."}``. Wait: as
    ``ExpertAiExtractStatusSensor``; returns the ``result`` object (``header``,
    ``layout``, ``words``), which can run to many MB (see the sensor). expert.ai
    has no cancel call: a killed task logs that the job runs on.

    :param document: a path to the document on the worker (templated), or its bytes;
        at most 14 MB (the vendor's limit per request).
    :param document_name: the name sent with it (default: the file's name, or ``document``) (templated).
    :param expertai_conn_id: the ``expertai_extract`` connection (templated).

    OpenLineage (with the ``openlineage`` extra): input the document, a path as
    namespace ``file`` and its absolute path, bytes as namespace ``expertai`` and
    ``document_name``; no output dataset.
    """

    template_fields: Sequence[str] = ("document", "document_name", "expertai_conn_id")
    hook_class = ExpertAiExtractHook
    trigger_class_path = "airflow_docstatus.triggers.expertai.ExpertAiExtractStatusTrigger"
    start_call = "layout-document-async"

    def __init__(
        self,
        *,
        document: str | os.PathLike[str] | bytes,
        document_name: str | None = None,
        expertai_conn_id: str = ExpertAiExtractHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            start_args={"document": document, "document_name": document_name},
            conn_id=expertai_conn_id,
            **kwargs,
        )

    def check_start_args(self) -> None:
        document = self.document
        if isinstance(document, bytes):
            size = len(document)
        elif isinstance(document, (str, os.PathLike)) and str(document).strip():
            size = None  # a path: read on the worker, checked in start_job
        else:
            raise InvalidInputError(f"expert.ai Extract: `document` must be a file path or bytes, got {document!r}")
        if size is not None and not 0 < size <= MAX_DOCUMENT_BYTES:
            raise InvalidInputError(
                f"expert.ai Extract: `document` must hold 1 to {MAX_DOCUMENT_BYTES} bytes, got {size}"
            )
        if self.document_name is not None and (not isinstance(self.document_name, str) or not self.document_name.strip()):
            raise InvalidInputError(f"expert.ai Extract: `document_name` must be a name, got {self.document_name!r}")

    def lineage_datasets(self) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """Input: the document; the layout goes to XCom, no output.

        A path: namespace ``file``, name the absolute path on the worker. Bytes:
        namespace ``expertai``, name ``document_name`` (nothing when no name was given).
        """
        if isinstance(self.document, bytes):
            name = self.document_name.strip() if isinstance(self.document_name, str) else ""
            return ([LineageDataset("expertai", name)] if name else []), []
        source = file_dataset(self.document)
        return ([source] if source else []), []

    def start_job(self, hook: ExpertAiExtractHook) -> dict[str, Any]:  # type: ignore[override]
        document = self.document
        if not isinstance(document, bytes):
            path = Path(str(document).strip())
            if not path.is_file():
                raise InvalidInputError(f"expert.ai Extract: `document` {str(path)!r} is not a file on this worker")
            document = path
        return {"extract_task_id": hook.layout_document_async(document, self.document_name)}
