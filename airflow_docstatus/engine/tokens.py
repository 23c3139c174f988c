"""Bearer tokens: fetched once per connection, shared by every poller of it, renewed before they expire.

A ``TokenSlot`` holds the current token of one connection and the lock that
makes concurrent pollers wait for a single fetch instead of each fetching
its own. Sync hooks share process-wide slots (``sync_token_slot``); async
hooks share the slot that lives with their connection's aiohttp session in
``transport_async``, so it goes away with the session and never crosses
event loops.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from airflow_docstatus.engine.errors import TransientError
from airflow_docstatus.engine.http import HttpRequest
from airflow_docstatus.engine.policy import SharedFailure

# Renew this long before expiry, but never more than a tenth of the lifetime.
RENEWAL_MARGIN = 60.0
# A bearer token is b64token (RFC 6750, 2.1) and short: JWTs and opaque tokens run to a few KB.
MAX_TOKEN_CHARS = 8192
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# After a failed token fetch, the pollers of the connection share the failure
# this long (doubling with each failure in a row, up to the cap) instead of each asking again.
FAILED_FETCH_BACKOFF = 1.0
FAILED_FETCH_BACKOFF_CAP = 60.0


def check_token(value: str, where: str) -> str:
    """``value`` if it has the shape and size of a bearer token, else ``TransientError`` (the value not quoted).

    Catches an HTML page or an error text answered with a 200, a token with
    whitespace or control characters (which no header can carry), and
    oversized answers, before the value is used, cached or masked.
    """
    if not value or len(value) > MAX_TOKEN_CHARS or not _B64TOKEN.fullmatch(value):
        kind = "too long" if len(value) > MAX_TOKEN_CHARS else "not a bearer token (RFC 6750 b64token)"
        looks = " It looks like an HTML page." if value.lstrip()[:1] == "<" else ""
        raise TransientError(
            f"{where}: the token endpoint's answer is {kind} ({len(value)} characters).{looks}"
        )
    return value


def lifetime_seconds(value: Any) -> float | None:
    """A token lifetime (``expires_in``) as seconds: a number or a numeric string; None when absent or unusable."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) else None


@dataclass(frozen=True)
class Token:
    """A bearer token and when to renew it (epoch seconds; None: only when the vendor answers 401)."""

    value: str = field(repr=False)
    renew_at: float | None = None

    @classmethod
    def expiring_in(cls, value: str, lifetime: float | None, now: float) -> Token:
        """A token valid for ``lifetime`` seconds from ``now``."""
        if lifetime is None:
            return cls(value)
        lifetime = max(float(lifetime), 0.0)
        return cls(value, now + lifetime - min(RENEWAL_MARGIN, lifetime / 10))

    @classmethod
    def from_jwt(cls, value: str, now: float) -> Token:
        """A JWT, renewed shortly before the ``exp`` its payload carries (no ``exp``: until a 401)."""
        expiry = jwt_expiry(value)
        return cls.expiring_in(value, None if expiry is None else expiry - now, now)

    def usable(self, now: float) -> bool:
        return self.renew_at is None or now < self.renew_at


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (the vendor does that); None if absent."""
    try:
        payload = token.split(".")[1]
        claims: Any = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class TokenSlot(SharedFailure):
    """The cached token of one connection, and the lock its pollers take to fetch a new one.

    A failed fetch is shared too: for a short while (growing with each
    failure in a row) every poller gets the same error instead of asking
    the token endpoint again, so a failing endpoint sees one call per
    backoff step, not one per poller.
    """

    backoff = FAILED_FETCH_BACKOFF
    backoff_cap = FAILED_FETCH_BACKOFF_CAP

    def __init__(self, lock: Any) -> None:
        super().__init__()
        self.lock = lock
        self.token: Token | None = None
        self.pending: Any = None  # async: the fetch under way, shared by the pollers that wait for it

    def obtained(self, token: Token) -> None:
        self.token = token
        self.cleared()

    def current(self, now: float) -> Token | None:
        """The cached token if it is still good to use."""
        token = self.token
        return token if token is not None and token.usable(now) else None

    def discard(self, stale: Token) -> None:
        """Drop ``stale`` after the vendor refused it, unless another poller already replaced it."""
        if self.token is stale:
            self.token = None


def token_key(conn_id: str, request: HttpRequest) -> str:
    """The cache key of a connection's token: its id plus a digest of the token request.

    The digest covers the credentials, so an edited connection never gets a
    token obtained with the old ones. Only the digest is kept, never the secret.
    """
    digest = hashlib.sha256()
    for part in (request.method, request.url, json.dumps(sorted(request.params.items()))):
        digest.update(part.encode() + b"\0")
    digest.update(json.dumps(sorted(request.headers.items())).encode() + b"\0")
    digest.update(request.body or b"")
    return f"{conn_id}#{digest.hexdigest()[:16]}"


_SYNC_SLOTS: dict[str, TokenSlot] = {}
_SYNC_SLOTS_LOCK = threading.Lock()


def sync_token_slot(key: str) -> TokenSlot:
    """The process-wide slot of a connection's token, for sync hooks."""
    with _SYNC_SLOTS_LOCK:
        slot = _SYNC_SLOTS.get(key)
        if slot is None:
            slot = _SYNC_SLOTS[key] = TokenSlot(threading.Lock())
        return slot
