"""Every Airflow name the tests need that is private or moved between Airflow 3 releases, in one place.

The product's own moved names live in ``airflow_docstatus._compat``; this
module is the tests' counterpart. A test imports such a name from here, never
from Airflow directly, so a release that moves it breaks one file, not many.
What each Airflow release lacks, and how the product does without it, is in
the README ("Airflow versions").
"""

from __future__ import annotations

from importlib.metadata import version

from airflow_docstatus._compat import (  # noqa: F401 - re-exported
    HAS_TASK_STATE_STORE,
    TRIGGER_ON_KILL,
    TRIGGER_TEMPLATES,
)

AIRFLOW_VERSION = tuple(int(part) for part in version("apache-airflow").split(".")[:2])

try:  # Airflow 3.2+
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined]


def secrets_masker():
    """The process's secrets masker (``redact``), wherever this Airflow keeps it (a private name everywhere)."""
    try:  # Airflow 3.3
        from airflow.sdk.log import _secrets_masker
    except ImportError:  # Airflow 3.1, 3.2
        from airflow.sdk._shared.secrets_masker import _secrets_masker
    return _secrets_masker()


try:  # Airflow 3.3: the triggerer's cancel message for a person's action, then it awaits on_kill
    from airflow.jobs.triggerer_job_runner import _USER_ACTION_CANCEL_MSG as USER_ACTION_CANCEL_MSG
except ImportError:  # before 3.3 the triggerer cancels a trigger without a message and never calls on_kill
    USER_ACTION_CANCEL_MSG = "__airflow_user_action__"


def _worker_connection_test() -> bool:
    from airflow.sdk import Connection

    return hasattr(Connection, "test_connection")


# Airflow 3.3+: a worker may run a connection test, on an SDK Connection it holds in memory.
WORKER_CONNECTION_TEST = _worker_connection_test()


def form_widget_label(widget) -> str:
    """The label of a field in ``ProvidersManager().connection_form_widgets``: from Airflow 3.2 on a JSON
    schema built from the provider info's ``conn-fields``; before, the hook's wtforms field."""
    field = widget.field
    if isinstance(field, dict):
        return field["schema"]["title"]
    return field.kwargs.get("label") or field.args[0]


def form_widget_hook_name(hook_class_name: str) -> str:
    """How ``connection_form_widgets`` names a field's hook: its dotted path from Airflow 3.2 on; before,
    its class name only."""
    return hook_class_name if AIRFLOW_VERSION >= (3, 2) else hook_class_name.rsplit(".", 1)[-1]


def dag_serialization() -> type:
    """What the DAG processor writes a DAG with and the scheduler reads it back (``to_dict``, ``from_dict``):
    ``DagSerialization`` from Airflow 3.2 on, ``SerializedDAG`` before."""
    try:
        from airflow.serialization.serialized_objects import DagSerialization
    except ImportError:  # Airflow 3.1
        from airflow.serialization.serialized_objects import SerializedDAG as DagSerialization
    return DagSerialization


def smart_decode_trigger_kwargs(value):
    """The triggerer's decoding of a stored trigger kwarg (``airflow.serialization.decoders`` from 3.2 on)."""
    try:
        from airflow.serialization.decoders import smart_decode_trigger_kwargs as decode
    except ImportError:  # Airflow 3.1
        from airflow.serialization.serialized_objects import smart_decode_trigger_kwargs as decode
    return decode(value)


def in_process_supervisor_comms() -> type:
    """The comms ``airflow dags test`` gives a task and its inline trigger (private to the task SDK)."""
    from airflow.sdk.execution_time.supervisor import InProcessSupervisorComms

    return InProcessSupervisorComms


__all__ = [
    "AIRFLOW_VERSION",
    "HAS_TASK_STATE_STORE",
    "TRIGGER_ON_KILL",
    "TRIGGER_TEMPLATES",
    "TaskDeferred",
    "USER_ACTION_CANCEL_MSG",
    "WORKER_CONNECTION_TEST",
    "dag_serialization",
    "form_widget_hook_name",
    "form_widget_label",
    "in_process_supervisor_comms",
    "secrets_masker",
    "smart_decode_trigger_kwargs",
]
