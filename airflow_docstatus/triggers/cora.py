"""Genpact Cora SeQuence OCR trigger."""

from __future__ import annotations

from airflow_docstatus.engine.trigger import DocStatusTrigger
from airflow_docstatus.hooks.cora import CoraSequenceOcrHook


class CoraOcrStatusTrigger(DocStatusTrigger[CoraSequenceOcrHook]):
    """Polls Cora SeQuence OCR ``GetStatus`` in the triggerer until the FileBatch is done.

    ``CoraOcrStatusTrigger(master_workflow_instance_id=42, cora_conn_id="cora_sequence_default",
    poll_interval=10.0, end_time=time.time() + 3600)``; takes ``activity_metadata`` like the
    sensor. zeep builds and reads the messages, aiohttp carries them, and the WSDL is loaded
    once per process in a worker thread, so the event loop never blocks. A connection with
    NTLM auth is refused at once with an error event: NTLM works in poke/reschedule mode only.
    """

    hook_class = CoraSequenceOcrHook
