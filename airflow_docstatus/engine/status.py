"""The normalized status record and the declarative status tables."""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


class State(str, enum.Enum):
    """Where a document stands, whatever the vendor calls it."""

    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def format_ref(ref: Mapping[str, Any], sep: str = ", ") -> str:
    """Vendor ids as ``name=value`` pairs, for log lines and error messages."""
    return sep.join(f"{key}={value}" for key, value in ref.items())


@dataclass(frozen=True)
class DocStatus:
    """One answer from a vendor, normalized.

    ``payload`` is what the sensor returns on success (RequestData, a result
    object, a path...). ``retry_after`` is the vendor's own hint, in seconds,
    of when to ask again. ``warning`` is a condition worth a warning line in
    the task log while the document still waits. ``progress`` is a
    fraction (0.0-1.0) or None: a vendor's NaN or infinity (``json.loads``
    takes both) becomes None here, for every vendor, so the progress lines'
    dedupe compares equal values and every record stays strict JSON.
    """

    vendor: str
    ref: Mapping[str, Any]
    state: State
    vendor_status: str
    progress: float | None = None
    message: str | None = None
    payload: Any = field(default=None, repr=False)
    retry_after: float | None = None
    warning: str | None = None
    checked_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if self.progress is not None and not math.isfinite(self.progress):
            object.__setattr__(self, "progress", None)  # frozen: the one normalization, at construction

    def to_record(self) -> dict[str, Any]:
        """The ``docstatus`` XCom record: the same keys for every vendor, no payload."""
        return {
            "vendor": self.vendor,
            "ref": dict(self.ref),
            "state": self.state.value,
            "vendor_status": self.vendor_status,
            "progress": self.progress,
            "message": self.message,
            "checked_at": self.checked_at.isoformat(),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], payload: Any = None) -> DocStatus:
        """Rebuild a status from its record, as carried in a trigger event."""
        return cls(
            vendor=record["vendor"],
            ref=dict(record["ref"]),
            state=State(record["state"]),
            vendor_status=str(record["vendor_status"]),
            progress=record.get("progress"),
            message=record.get("message"),
            payload=payload,
            checked_at=datetime.fromisoformat(record["checked_at"]),
        )

    def describe(self) -> str:
        """A short human line: vendor, ids, status, progress, message and any warning."""
        parts = [f"{self.vendor} {format_ref(self.ref, ' ')}", f"status={self.vendor_status} ({self.state.value})"]
        if self.progress is not None:
            parts.append(f"progress={self.progress:.0%}")
        if self.message:
            parts.append(f"message={self.message!r}")
        if self.warning:
            parts.append(f"warning: {self.warning}")
        return " ".join(parts)

    @property
    def log_level(self) -> int:
        """WARNING when the status carries a warning, else INFO."""
        return logging.WARNING if self.warning else logging.INFO


def _folded(values: Iterable[str], case_sensitive: bool) -> frozenset[str]:
    return frozenset(str(v) if case_sensitive else str(v).casefold() for v in values)


@dataclass(frozen=True)
class StatusTable:
    """A vendor's statuses sorted into waiting, success and failure, as data.

    ``unknown`` says what a status in none of the sets means: ``State.FAILED``
    for vendors with a closed, documented list (an unknown value is reported,
    never looped on), ``State.WAITING`` for vendors whose list is not public.
    """

    success: frozenset[str]
    failure: frozenset[str]
    waiting: frozenset[str] = frozenset()
    unknown: State = State.FAILED
    case_sensitive: bool = True

    @classmethod
    def of(
        cls,
        *,
        success: Iterable[str],
        failure: Iterable[str],
        waiting: Iterable[str] = (),
        unknown: State = State.FAILED,
        case_sensitive: bool = True,
    ) -> StatusTable:
        table = cls(
            success=_folded(success, case_sensitive),
            failure=_folded(failure, case_sensitive),
            waiting=_folded(waiting, case_sensitive),
            unknown=unknown,
            case_sensitive=case_sensitive,
        )
        overlap = (table.success & table.failure) | (table.waiting & (table.success | table.failure))
        if overlap:
            raise ValueError(f"statuses listed in more than one set: {sorted(overlap)}")
        return table

    def with_overrides(
        self,
        *,
        success: Iterable[str] | None = None,
        failure: Iterable[str] | None = None,
    ) -> StatusTable:
        """A copy with the success and/or failure set replaced.

        A status named in an override leaves whichever other set held it, so
        the override always wins; naming one status in both overrides is an error.
        """
        new_success = _folded(success, self.case_sensitive) if success is not None else None
        new_failure = _folded(failure, self.case_sensitive) if failure is not None else None
        if new_success is not None and new_failure is not None and new_success & new_failure:
            raise ValueError(f"statuses both in success and failure: {sorted(new_success & new_failure)}")
        final_success = new_success if new_success is not None else self.success - (new_failure or frozenset())
        final_failure = new_failure if new_failure is not None else self.failure - final_success
        return StatusTable(
            success=final_success,
            failure=final_failure,
            waiting=self.waiting - final_success - final_failure,
            unknown=self.unknown,
            case_sensitive=self.case_sensitive,
        )

    def is_known(self, vendor_status: str) -> bool:
        key = self._key(vendor_status)
        return key in self.success or key in self.failure or key in self.waiting

    def state_of(self, vendor_status: str) -> State:
        key = self._key(vendor_status)
        if key in self.success:
            return State.SUCCEEDED
        if key in self.failure:
            return State.FAILED
        if key in self.waiting:
            return State.WAITING
        return self.unknown

    def _key(self, vendor_status: str) -> str:
        return str(vendor_status) if self.case_sensitive else str(vendor_status).casefold()
