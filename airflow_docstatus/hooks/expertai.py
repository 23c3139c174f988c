"""expert.ai Extract hook: the status of a layout task, and starting one."""

from __future__ import annotations

import os
from pathlib import Path

from airflow_docstatus.engine.hook import DocStatusHook
from airflow_docstatus.protocols.expertai import ExpertAiExtractProtocol


class ExpertAiExtractHook(DocStatusHook[ExpertAiExtractProtocol]):
    """Talks to expert.ai Extract with the username and password of an ``expertai_extract`` connection.

    The JWT from the connection's ``auth_url`` is fetched once, shared by
    every poller of the connection, renewed before its ``exp`` and after a
    401. ``check_status(extract_task_id=...)`` reads a layout task's status;
    ``layout_document_async`` starts one.

    :param expertai_conn_id: the ``expertai_extract`` connection (host: API base, login: username,
        password: password, extra ``auth_url``).
    """

    conn_name_attr = "expertai_conn_id"
    default_conn_name = "expertai_extract_default"
    conn_type = "expertai_extract"
    hook_name = "expert.ai Extract"
    protocol_class = ExpertAiExtractProtocol

    def __init__(self, expertai_conn_id: str = default_conn_name) -> None:
        super().__init__(expertai_conn_id)

    def layout_document_async(self, document: bytes | str | os.PathLike[str], name: str | None = None) -> str:
        """Start layout analysis of a document (its bytes, or a file path); return the task id.

        The document travels as base64 and may be at most 14 MB.
        """
        if isinstance(document, bytes):
            data, name = document, name or "document"
        else:
            path = Path(document)
            data, name = path.read_bytes(), name or path.name
        task_id = self.protocol.parse_task_id(name, self.send(self.protocol.layout_request(name, data)))
        self.log.info("expert.ai Extract started layout analysis of %s: extract_task_id=%s", name, task_id)
        return task_id
