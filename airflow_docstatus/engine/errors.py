"""The typed errors a poll can end in.

The engine sorts every failure into one of these, so the sensor and the
trigger can treat each kind the same way for every vendor:

- ``InvalidInputError``: bad ids or settings, found before any call is made;
- ``TransientError``: worth another try (connection trouble, timeouts, 5xx, 429, a garbled body);
- ``PermanentError``: the vendor refused the request (400, 404...), trying again will not help;
- ``AuthenticationError``: 401/403, a permanent error with its own wording;
- ``TransientErrorsExhausted``: too many transient errors in a row.

Messages never carry a secret: they name the connection id, never its password or token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable


class DocStatusError(Exception):
    """Base class of every error the engine raises."""


class InvalidInputError(DocStatusError, ValueError):
    """An id or a setting is malformed; raised before any vendor call."""


class TransientError(DocStatusError):
    """A failure worth retrying; ``retry_after`` is the vendor's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, http_status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.http_status = http_status


class NoRequestSlotError(TransientError):
    """The connection's ``max_requests_per_second`` leaves no request slot before the wait's deadline.

    No request went out and none can before the deadline: the wait ends in a
    timeout at its deadline whose message says so (the sensor and the trigger
    do not count it as a transient error). ``slot_in`` is when the next free
    slot comes, in seconds from now.
    """

    def __init__(self, message: str, *, slot_in: float):
        super().__init__(message)
        self.slot_in = slot_in


class PermanentError(DocStatusError):
    """The vendor refused the request for good."""

    def __init__(self, message: str, *, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


class AuthenticationError(PermanentError):
    """The vendor rejected the credentials (401 or 403)."""


class BodyTooLargeError(PermanentError):
    """An answer's body ran past the connection's ``max_body_bytes`` cap (on the wire or inflated)."""


class TransientErrorsExhausted(DocStatusError):
    """``max_consecutive_errors`` transient failures came in a row; names the last one."""


def copy_error(error: DocStatusError, *, retry_after: float | None = None) -> DocStatusError:
    """A fresh exception of ``error``'s kind and message, for one more caller that shares the failure.

    Each waiter raising its own copy keeps tracebacks apart; a ``TransientError``
    copy carries ``retry_after`` (seconds from now, or None) in place of the original's.
    """
    if isinstance(error, TransientError):
        return TransientError(str(error), retry_after=retry_after, http_status=error.http_status)
    if isinstance(error, PermanentError):
        return type(error)(str(error), http_status=error.http_status)
    return type(error)(str(error))


# Secrets shorter than this are not redacted: replacing every "ab" would garble messages
# and tell a reader what the secret is anyway.
MIN_SECRET_LENGTH = 3


def secret_forms(secret: str) -> set[str]:
    """The forms a secret travels in: raw, URL- and form-encoded, JSON-escaped (ASCII or not).

    A vendor that echoes a request back (a 401 body quoting the form or the
    JSON we sent) shows the secret in the form it was sent in, so each of
    these is redacted, not only the raw value.
    """
    from urllib.parse import quote, quote_plus

    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return set()
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        quote(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def basic_credentials(login: str | None, password: str | None) -> str:
    """The base64 value of an HTTP Basic ``Authorization`` header for ``login:password``."""
    return base64.b64encode(f"{login or ''}:{password or ''}".encode()).decode("ascii")


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret in ``text`` with ``***``, longest first (pass ``secret_forms`` to cover encodings)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, "***")
    return text


def tls_failure(method: str, url: str, conn_id: str) -> str:
    """The message for a TLS handshake or certificate failure: a setting to fix, not worth a retry."""
    return (
        f"{method} {url}: TLS verification failed for connection {conn_id!r}; set its `verify` extra "
        "to the CA bundle that signs the server's certificate (or false to skip the check)"
    )


def ca_bundle_problem(conn_id: str, path: str, exc: Exception) -> str:
    """The message for a ``verify`` CA bundle that cannot be read."""
    return (
        f"connection {conn_id!r}: extra 'verify' names a CA bundle {path!r} that cannot be read "
        f"({type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}); give a readable PEM file, true or false"
    )


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(32), 127]} | {9: "\\t", 10: "\\n", 13: "\\r"}


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``...), so vendor text cannot start a forged log line."""
    return text.translate(_CONTROL)
