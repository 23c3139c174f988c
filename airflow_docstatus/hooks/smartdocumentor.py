"""SmartDocumentor Cloud hook: the status of a task, and starting one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_docstatus.engine.hook import DocStatusHook
from airflow_docstatus.protocols.smartdocumentor import SmartDocumentorProtocol


class SmartDocumentorHook(DocStatusHook[SmartDocumentorProtocol]):
    """Talks to SmartDocumentor Cloud with the client credentials of a ``smartdocumentor`` connection.

    The access token from ``token_url`` (client credentials, ``scope``) is
    fetched once, shared by every poller of the connection, renewed before
    ``expires_in`` runs out and after a 401. ``check_status(sd_task_id=...,
    external_id=...)`` reads a task's status; ``process_task`` creates one.

    :param smartdocumentor_conn_id: the ``smartdocumentor`` connection (host: base URL,
        login: client_id, password: client_secret, extra ``scope`` and ``token_url``).
    :param success_statuses: status texts that mean done (default: Processed, ExportCompleted).
    :param failure_statuses: status texts that mean failed (see ``SmartDocumentorProtocol``).
    """

    conn_name_attr = "smartdocumentor_conn_id"
    default_conn_name = "smartdocumentor_default"
    conn_type = "smartdocumentor"
    hook_name = "SmartDocumentor Cloud"
    protocol_class = SmartDocumentorProtocol

    def __init__(
        self,
        smartdocumentor_conn_id: str = default_conn_name,
        success_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
    ) -> None:
        super().__init__(
            smartdocumentor_conn_id, success_statuses=success_statuses, failure_statuses=failure_statuses
        )

    def process_task(self, **body: Any) -> dict[str, Any]:
        """Create a task with ``POST sdtask/process`` and return the vendor's answer (with ``taskId``).

        The request body is not public; the keyword arguments are sent as
        JSON as given (the simulator reads ``externalId``, ``displayName``,
        ``document`` and ``script``).
        """
        answer = self.protocol.parse_process(body, self.send(self.protocol.process_request(body)))
        self.log.info(
            "SmartDocumentor created a task: sd_task_id=%s external_id=%s", answer["taskId"], answer.get("externalId")
        )
        return answer
