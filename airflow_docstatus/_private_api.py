"""Every private name of Airflow and zeep this provider relies on, in one place.

Nothing else in the package names them; tests/unit/test_private_api.py checks
each against the installed Airflow and zeep, so a release that moves one fails
that test by name instead of changing behaviour quietly.

- Airflow: ``BaseSensorOperator._get_next_poke_interval(started_at, run_duration, poke_count)``,
  the per-poke interval that ``BaseSensorOperator.execute`` asks for before each sleep
  (poke mode) or reschedule. ``PokeIntervalHook`` overrides it and hands Airflow's own
  value to the sensor's ``next_poke_delay``.
- zeep (pinned ``<5`` in pyproject): ``SoapBinding._create(operation, args, kwargs, client=, options=)``,
  which builds an envelope *and* the HTTP headers its binding asks for (``SOAPAction``, or
  the SOAP 1.2 content type's ``action``); the public ``Client.create_message`` returns
  the envelope only. ``soap_envelope`` wraps it.

Importing this module imports neither Airflow's sensor module nor zeep.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

AIRFLOW_POKE_INTERVAL = "_get_next_poke_interval"
ZEEP_CREATE = "_create"


class PokeIntervalHook:
    """Mixin placed before ``BaseSensorOperator``: Airflow's private interval hook, routed to ``next_poke_delay``.

    The subclass implements ``next_poke_delay(base, run_duration) -> float``:
    ``base`` is Airflow's interval in seconds (``poke_interval``, or its
    exponential backoff), ``run_duration()`` the seconds the wait has run; the
    result is the seconds to wait before the next poke.
    """

    def _get_next_poke_interval(
        self, started_at: Any, run_duration: Callable[[], float], poke_count: int
    ) -> float:
        base = super()._get_next_poke_interval(started_at, run_duration, poke_count)  # type: ignore[misc]
        return self.next_poke_delay(base, run_duration)

    def next_poke_delay(self, base: float, run_duration: Callable[[], float]) -> float:
        raise NotImplementedError


def soap_envelope(
    binding: Any, operation: str, arguments: Mapping[str, Any], *, client: Any, address: str
) -> tuple[Any, dict[str, str]]:
    """zeep's envelope (an lxml element) and HTTP headers for ``operation`` of ``binding``, sent to ``address``.

    Raises what zeep raises for arguments the WSDL refuses (``zeep.exceptions.Error``,
    ``TypeError``, ``ValueError``).
    """
    envelope, headers = getattr(binding, ZEEP_CREATE)(
        operation, (), dict(arguments), client=client, options={"address": address}
    )
    return envelope, dict(headers)
