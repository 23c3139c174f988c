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
    from airflow.sdk.log import amask_secret, mask_secret
except ImportError:  # Airflow 3.0
    from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]

    async def amask_secret(secret: Any, name: str | None = None) -> None:  # type: ignore[misc]  # 3.1 types it JsonValue
        mask_secret(secret, name)


__all__ = [
    "amask_secret",
    "mask_secret",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AirflowTaskTimeout",
    "import_string",
]
