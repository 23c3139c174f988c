"""Genpact Cora SeQuence OCR hook: ``GetStatus`` and ``FileBatch`` over SOAP 1.1 or 1.2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_docstatus.engine.errors import InvalidInputError
from airflow_docstatus.engine.hook import DocStatusHook
from airflow_docstatus.protocols.cora import GET_STATUS, CoraProtocol, FileReference
from airflow_docstatus.protocols.soap import WSDL_CACHE, WsdlSource

if TYPE_CHECKING:
    from airflow_docstatus.engine.settings import ConnectionSettings
    from airflow_docstatus.engine.transport_sync import SyncTransport


class CoraSequenceOcrHook(DocStatusHook[CoraProtocol]):
    """Talks to a Cora SeQuence server's OCR integration service (``coraOcrIntegration_v1.0.0.asmx``).

    ``check_status(master_workflow_instance_id=...)`` asks ``GetStatus`` once;
    ``file_batch(...)`` starts OCR of a file and returns its MasterWorkflowInstanceId.
    zeep builds and reads the SOAP messages from the WSDL (the one shipped in
    the package, or the connection's ``wsdl`` extra), loaded once per process;
    requests (here) or aiohttp (in the triggerer) carries them.

    :param cora_conn_id: the ``cora_sequence`` connection. host: the server's base URL (the
        .asmx path is appended); login/password: optional; extra ``auth`` (``none``, ``basic``
        or ``ntlm``; default ``basic`` with a login, else ``none``), ``wsdl`` (URL or file path),
        ``wsdl_allowed_origins`` (more http(s) origins a WSDL may import from), ``soap_version`` (``1.1``, the default, or ``1.2``), ``verify``.
    :param activity_metadata: other ActivityMetadata header fields to send (WorkflowSpaceId,
        WorkflowName, ActivityInstanceId, CallerId...).

    NTLM needs ``pip install 'airflow-provider-docstatus[ntlm]'`` and works in poke and
    reschedule mode only: the triggerer refuses it (see ``CoraProtocol.refuse_ntlm_in_triggerer``).
    """

    conn_name_attr = "cora_conn_id"
    default_conn_name = "cora_sequence_default"
    conn_type = "cora_sequence"
    hook_name = "Genpact Cora SeQuence OCR"
    protocol_class = CoraProtocol

    def __init__(self, cora_conn_id: str = default_conn_name, activity_metadata: Mapping[str, Any] | None = None) -> None:
        super().__init__(cora_conn_id, activity_metadata=activity_metadata)

    # the protocol, bound to its WSDL ------------------------------------------------
    def wsdl_source(self, protocol: CoraProtocol | None = None) -> WsdlSource:
        """Where this connection's WSDL comes from and what loading it may do.

        The connection's credentials (Basic header, or NTLM session auth) go
        only to its own origin; imports come only from that origin, the
        ``wsdl`` URL's, and the ``wsdl_allowed_origins`` extra's (see
        ``protocols/wsdl_fetch.py``); the whole load takes at most the
        connection's ``call_timeout``.
        """
        if protocol is None:
            protocol = super().protocol
        assert self._settings is not None
        return WsdlSource(
            location=protocol.wsdl_location,
            settings=self._settings,
            where=protocol.where(),
            auth_headers=protocol._auth_headers(),
            session_auth=self._ntlm_auth() if protocol.auth == "ntlm" else None,
            extra_origins=protocol.wsdl_allowed_origins,
            redact=protocol.redact,
        )

    @property
    def protocol(self) -> CoraProtocol:
        """The Cora protocol of this connection, its WSDL loaded (once per process)."""
        protocol = super().protocol
        if protocol.service is None:
            protocol.bind(WSDL_CACHE.get(self.wsdl_source(protocol), protocol.soap_version, operation=GET_STATUS))
        return protocol

    async def aprotocol(self) -> CoraProtocol:
        """The protocol for the triggerer: NTLM refused at once; a WSDL not loaded yet is loaded in a thread."""
        protocol = await super().aprotocol()
        protocol.refuse_ntlm_in_triggerer()
        if protocol.service is None:
            protocol.bind(await WSDL_CACHE.aget(self.wsdl_source(protocol), protocol.soap_version, operation=GET_STATUS))
        return protocol

    def check_deferrable(self) -> None:
        """Raise ``InvalidInputError`` if this connection cannot be polled from the triggerer (NTLM)."""
        super().protocol.refuse_ntlm_in_triggerer()

    # auth on the requests session ------------------------------------------------------
    def _ntlm_auth(self) -> Any:
        settings = self.get_settings()
        try:
            from requests_ntlm import HttpNtlmAuth
        except ImportError:
            raise InvalidInputError(
                f"Cora SeQuence OCR (connection {settings.conn_id!r}) uses auth 'ntlm', which needs the "
                "requests-ntlm package: pip install 'airflow-provider-docstatus[ntlm]'"
            ) from None
        return HttpNtlmAuth(settings.login, settings.password or "")

    def _session_auth(self) -> Any:
        """What a requests session needs for this connection's auth (Basic goes in the request headers)."""
        return self._ntlm_auth() if super().protocol.auth == "ntlm" else None

    def get_settings(self) -> ConnectionSettings:
        """The checked connection settings, without loading the WSDL."""
        super().protocol  # noqa: B018 - loads the connection
        assert self._settings is not None
        return self._settings

    def _transport(self) -> SyncTransport:
        """The requests transport; an NTLM connection's session does the NTLM handshake."""
        if self._sync is None:
            from airflow_docstatus.engine.transport_sync import SyncTransport

            self._sync = SyncTransport(self.get_settings(), auth=self._session_auth())
        return self._sync

    # starting a job ------------------------------------------------------------------------
    def file_batch(
        self,
        *,
        input_file: FileReference | Mapping[str, Any],
        output_file: FileReference | Mapping[str, Any],
        ocr_profile: str,
        timeout: int,
        external_context: str | None = None,
        put_model: bool = False,
    ) -> int:
        """Start OCR of ``input_file`` into ``output_file`` (``FileBatch``); return the MasterWorkflowInstanceId.

        Files are ``FileReference(connection, relative_location, file_name)`` or dicts with the
        vendor's keys ``Connection``, ``RelativeLocation`` and ``FileName``. ``timeout`` is the
        vendor's ``TimeOut`` (its unit is not published), ``external_context`` travels with the
        job and comes back in GetStatus, ``put_model`` is the vendor's ``PutModel`` flag.
        """
        protocol = self.protocol
        request = protocol.file_batch_request(
            input_file=input_file,
            output_file=output_file,
            ocr_profile=ocr_profile,
            timeout=timeout,
            external_context=external_context,
            put_model=put_model,
        )
        source = FileReference.of(input_file, "input_file")
        instance_id = protocol.parse_file_batch({"FileName": source.file_name}, self.send(request))
        self.log.info(
            "Cora SeQuence OCR started FileBatch of %s with profile %s: master_workflow_instance_id=%s",
            source.file_name,
            ocr_profile,
            instance_id,
        )
        return instance_id

    def get_status(self, master_workflow_instance_id: int) -> dict[str, Any]:
        """``GetStatus`` once: ``{"Status", "ErrorCode", "ExternalContext"}`` as the service sent them."""
        return self.check_status(master_workflow_instance_id=master_workflow_instance_id).payload
