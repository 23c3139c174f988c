"""Azure AI Document Translation operator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_docstatus.engine.errors import InvalidInputError
from airflow_docstatus.engine.lineage import LineageDataset, url_dataset
from airflow_docstatus.engine.operator import DocStatusOperator
from airflow_docstatus.hooks.azure_translation import AzureDocumentTranslationHook, AzureTranslationBatchHook

STORAGE_TYPES = ("Folder", "File")


class AzureDocumentTranslationOperator(DocStatusOperator):
    """Starts an Azure translation batch (``POST .../batches``) and waits until the batch ends.

    Start: ``AzureDocumentTranslationHook.start_translation(...)``; XCom
    ``job_ref`` is ``{"batch_id": "<GUID>"}``. Wait: on the whole batch, as
    ``AzureTranslationBatchStatusSensor`` (its trigger when deferrable); returns
    the batch status object (``id``, ``status``, ``summary``...). Killed, the
    operator cancels the batch (``DELETE .../batches/{id}``; documents not yet
    translated end Cancelled) unless ``cancel_on_kill=False``.

    :param source_url: the source container's SAS URL, or one file's with ``storage_type="File"`` (templated).
    :param target_url: the target container's SAS URL (templated).
    :param target_language: the language to translate into, e.g. ``fr`` (templated).
    :param source_language: the source language, None to detect it (templated).
    :param storage_type: ``Folder`` (the service's default) or ``File`` (templated).
    :param fail_on_document_failures: fail when any document of the batch failed (default True).
    :param azure_translation_conn_id: the ``azure_document_translation`` connection (templated).

    SAS URLs carry a signature: they go to the vendor only, never to a log line,
    an XCom, the trigger (the ``job_ref`` is the batch id) or a lineage event.

    OpenLineage (with the ``openlineage`` extra): input the source, output the
    target with the ``docstatus_translation`` facet naming ``target_language``; an
    Azure Storage URL as ``wasbs://{container}@{account}.dfs.core.windows.net`` and the
    blob's path (``/`` for a container), another URL as ``scheme://host[:port]`` and its path.
    """

    template_fields: Sequence[str] = (
        "source_url", "target_url", "target_language", "source_language", "storage_type",
        "azure_translation_conn_id",
    )
    hook_class = AzureTranslationBatchHook
    trigger_class_path = "airflow_docstatus.triggers.azure_translation.AzureTranslationBatchStatusTrigger"
    start_call = "start translation"

    def __init__(
        self,
        *,
        source_url: str,
        target_url: str,
        target_language: str,
        source_language: str | None = None,
        storage_type: str | None = None,
        fail_on_document_failures: bool = True,
        azure_translation_conn_id: str = AzureDocumentTranslationHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            start_args={
                "source_url": source_url,
                "target_url": target_url,
                "target_language": target_language,
                "source_language": source_language,
                "storage_type": storage_type,
            },
            conn_id=azure_translation_conn_id,
            options={"fail_on_document_failures": fail_on_document_failures},
            **kwargs,
        )

    def check_start_args(self) -> None:
        for name in ("source_url", "target_url"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip().lower().startswith(("https://", "http://")):
                raise InvalidInputError(f"Azure Document Translation: `{name}` must be an http(s) URL")
        for name in ("target_language", "source_language"):
            value = getattr(self, name)
            if (value is not None or name == "target_language") and (not isinstance(value, str) or not value.strip()):
                raise InvalidInputError(f"Azure Document Translation: `{name}` must be a language code, got {value!r}")
        if self.storage_type is not None and self.storage_type not in STORAGE_TYPES:
            raise InvalidInputError(
                f"Azure Document Translation: `storage_type` must be one of {STORAGE_TYPES} or None, got {self.storage_type!r}"
            )

    def lineage_datasets(self) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """Input the source, output the target in ``target_language`` (container or file, as given).

        The SAS token (the URLs' query string) is dropped.
        """
        source, target = url_dataset(self.source_url), url_dataset(self.target_url)
        language = self.target_language.strip() if isinstance(self.target_language, str) else None
        if target is not None and language:
            target = LineageDataset(target.namespace, target.name, language=language)
        return ([source] if source else []), ([target] if target else [])

    def start_job(self, hook: AzureTranslationBatchHook) -> dict[str, Any]:  # type: ignore[override]
        batch_id = hook.start_translation(
            self.source_url.strip(),
            self.target_url.strip(),
            self.target_language.strip(),
            source_language=self.source_language or None,
            storage_type=self.storage_type or None,
        )
        return {"batch_id": batch_id}
