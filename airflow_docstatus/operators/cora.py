"""Genpact Cora SeQuence OCR operator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_docstatus.engine.errors import InvalidInputError
from airflow_docstatus.engine.lineage import LineageDataset, cora_file_dataset
from airflow_docstatus.engine.operator import DocStatusOperator
from airflow_docstatus.hooks.cora import CoraSequenceOcrHook
from airflow_docstatus.engine.values import structured
from airflow_docstatus.protocols.cora import FileReference, parse_activity_metadata


class CoraFileBatchOperator(DocStatusOperator):
    """Starts OCR of a file with Cora SeQuence ``FileBatch`` and waits for ``GetStatus`` to say Completed.

    Start: ``CoraSequenceOcrHook.file_batch(...)``; XCom ``job_ref`` is
    ``{"master_workflow_instance_id": 42}``. Wait: as ``CoraOcrStatusSensor``;
    returns ``{"Status", "ErrorCode", "ExternalContext"}`` as the service sent
    them. Cora's OCR service has no cancel call: a killed task logs that the job
    runs on. Deferrable mode refuses an NTLM connection before a job is started.

    :param input_file: the file to read: a dict with the vendor's keys ``Connection``,
        ``RelativeLocation`` and ``FileName`` (required), or a ``FileReference`` (templated).
    :param output_file: where the result goes, the same shape (templated).
    :param ocr_profile: the OCR profile's name (templated).
    :param file_batch_timeout: the vendor's ``TimeOut`` of the batch, a positive whole number
        (its unit is not published) (templated).
    :param external_context: text that travels with the job and comes back in GetStatus (templated).
    :param put_model: the vendor's ``PutModel`` flag.
    :param activity_metadata: the other ActivityMetadata header fields, as the sensor (templated).
    :param cora_conn_id: the ``cora_sequence`` connection (templated).

    OpenLineage (with the ``openlineage`` extra): input ``input_file``, output
    ``output_file``, each with namespace ``cora://{Connection}`` (the reference's Cora file
    connection) and name ``{RelativeLocation}/{FileName}``.
    """

    template_fields: Sequence[str] = (
        "input_file", "output_file", "ocr_profile", "file_batch_timeout", "external_context",
        "activity_metadata", "cora_conn_id",
    )
    hook_class = CoraSequenceOcrHook
    trigger_class_path = "airflow_docstatus.triggers.cora.CoraOcrStatusTrigger"
    start_call = "FileBatch"
    dict_args = ("input_file", "output_file")

    def __init__(
        self,
        *,
        input_file: FileReference | Mapping[str, Any],
        output_file: FileReference | Mapping[str, Any],
        ocr_profile: str,
        file_batch_timeout: int,
        external_context: str | None = None,
        put_model: bool = False,
        activity_metadata: Mapping[str, Any] | None = None,
        cora_conn_id: str = CoraSequenceOcrHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            start_args={
                "input_file": input_file,
                "output_file": output_file,
                "ocr_profile": ocr_profile,
                "file_batch_timeout": file_batch_timeout,
                "external_context": external_context,
                "put_model": put_model,
            },
            conn_id=cora_conn_id,
            options={"activity_metadata": activity_metadata},
            **kwargs,
        )

    def check_start_args(self) -> None:
        FileReference.of(self.input_file, "input_file")
        FileReference.of(self.output_file, "output_file")
        if not isinstance(self.ocr_profile, str) or not self.ocr_profile.strip():
            raise InvalidInputError(f"Cora SeQuence OCR: `ocr_profile` is required, got {self.ocr_profile!r}")
        _timeout(self.file_batch_timeout)
        if self.external_context is not None and not isinstance(self.external_context, str):
            raise InvalidInputError(
                f"Cora SeQuence OCR: `external_context` must be text, got {type(self.external_context).__name__}"
            )
        if not isinstance(self.put_model, bool):
            raise InvalidInputError(f"Cora SeQuence OCR: `put_model` must be True or False, got {self.put_model!r}")
        parse_activity_metadata(self.activity_metadata)

    def lineage_datasets(self) -> tuple[list[LineageDataset], list[LineageDataset]]:
        """Input ``input_file``, output ``output_file``: namespace ``cora://{Connection}``,
        name ``{RelativeLocation}/{FileName}``."""
        found = []
        for name in ("input_file", "output_file"):
            value = structured(getattr(self, name), name=name, where=self._vendor)  # rendered as text after a deferral
            found.append(cora_file_dataset(value))
        source, target = found
        return ([source] if source else []), ([target] if target else [])

    def start_job(self, hook: CoraSequenceOcrHook) -> dict[str, Any]:  # type: ignore[override]
        instance_id = hook.file_batch(
            input_file=self.input_file,
            output_file=self.output_file,
            ocr_profile=self.ocr_profile.strip(),
            timeout=_timeout(self.file_batch_timeout),
            external_context=self.external_context,
            put_model=self.put_model,
        )
        return {"master_workflow_instance_id": instance_id}


def _timeout(value: Any) -> int:
    try:
        number = int(str(value).strip()) if isinstance(value, str) else value
    except ValueError:
        number = None
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidInputError(f"Cora SeQuence OCR: `file_batch_timeout` must be a positive whole number, got {value!r}")
    return number
