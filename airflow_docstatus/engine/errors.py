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


class PermanentError(DocStatusError):
    """The vendor refused the request for good."""

    def __init__(self, message: str, *, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


class AuthenticationError(PermanentError):
    """The vendor rejected the credentials (401 or 403)."""


class TransientErrorsExhausted(DocStatusError):
    """``max_consecutive_errors`` transient failures came in a row; names the last one."""


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every known secret in ``text`` with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def tls_failure(method: str, url: str, conn_id: str) -> str:
    """The message for a TLS handshake or certificate failure: a setting to fix, not worth a retry."""
    return (
        f"{method} {url}: TLS verification failed for connection {conn_id!r}; set its `verify` extra "
        "to the CA bundle that signs the server's certificate (or false to skip the check)"
    )
