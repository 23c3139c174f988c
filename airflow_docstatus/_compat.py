"""Names that moved between Airflow 3 releases, imported from wherever this Airflow keeps them."""

from __future__ import annotations

from typing import Any

try:  # Airflow 3.1+: the task SDK owns the task exceptions
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
    )
except ImportError:  # Airflow 3.0
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
    )

try:
    from airflow.sdk.module_loading import import_string
except ImportError:  # pragma: no cover - older task SDK
    from airflow.utils.module_loading import import_string  # type: ignore[no-redef,import-not-found]

try:  # Airflow 3.1+: masks in this process and tells the supervisor
    from airflow.sdk.log import mask_secret
except ImportError:  # Airflow 3.0
    from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]

try:  # Airflow 3.3+: the same without blocking the event loop
    from airflow.sdk.log import amask_secret
except ImportError:  # Airflow 3.1 and 3.2: the triggerer lets a trigger's sync call reach the supervisor

    async def amask_secret(secret: Any, name: str | None = None) -> None:  # type: ignore[misc]  # 3.3 types it JsonValue
        mask_secret(secret, name)

# Features that came with a later Airflow 3 release. Without them the product
# does less, as the README's "Airflow versions" says, and logs a warning.
try:  # Airflow 3.3+: the task state store, which keeps values across reschedules and tries
    from airflow.sdk import ResumableJobMixin as _ResumableJobMixin  # noqa: F401

    HAS_TASK_STATE_STORE = True
except ImportError:
    HAS_TASK_STATE_STORE = False


def _trigger_on_kill() -> bool:
    from airflow.triggers.base import BaseTrigger

    return hasattr(BaseTrigger, "on_kill")


# Airflow 3.3+: the triggerer awaits a trigger's on_kill when a person kills the deferred task.
TRIGGER_ON_KILL = _trigger_on_kill()


def _trigger_templates() -> bool:
    from airflow.triggers.base import BaseTrigger

    return hasattr(BaseTrigger, "render_template_fields")


# Airflow 3.3+: the triggerer renders a trigger's template fields, which a task started in the
# triggerer (start_from_trigger) needs for ids given as templates or XComArgs.
TRIGGER_TEMPLATES = _trigger_templates()


__all__ = [
    "HAS_TASK_STATE_STORE",
    "TRIGGER_ON_KILL",
    "TRIGGER_TEMPLATES",
    "amask_secret",
    "mask_secret",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AirflowTaskTimeout",
    "import_string",
]
