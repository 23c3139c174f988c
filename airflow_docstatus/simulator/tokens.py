"""Access tokens issued by the simulated token endpoints (expert.ai, SmartDocumentor).

Pure bookkeeping with an injectable clock, no HTTP: which tokens were issued, for
which vendor, until when, and whether the admin API expired them early. Every
check reads the clock, so a token with a 1 s lifetime is refused 1 s later.
The token lifetime is per vendor: the scenario's ``token_lifetime``, changed at
run time by ``PUT /_sim/tokens/{vendor}`` and restored by ``POST /_sim/reset``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Clock = Callable[[], float]

MAX_KEPT_TOKENS = 50_000
"""Above this many issued tokens, the ones that have expired are forgotten."""


def check_lifetime(value: Any) -> float:
    """A token lifetime in seconds (a number >= 0); ValueError otherwise."""
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"a token lifetime must be a number of seconds >= 0, got {value!r}")
    return float(value)


@dataclass
class IssuedToken:
    """One token the simulator handed out."""

    vendor: str
    subject: str
    issued_at: float
    expires_at: float
    revoked: bool = False


class TokenRefused(Exception):
    """A bearer token that must be answered with 401; ``reason`` says why (no token in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenStore:
    """Issued tokens and per-vendor lifetimes, checked against ``clock`` (epoch seconds)."""

    default_lifetimes: dict[str, float] = field(default_factory=dict)
    clock: Clock = time.time
    _lifetimes: dict[str, float] = field(default_factory=dict, init=False)
    _tokens: dict[str, IssuedToken] = field(default_factory=dict, init=False)
    _requests_by_client: dict[str, dict[str, int]] = field(default_factory=dict, init=False)
    _signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), init=False, repr=False)

    def __post_init__(self) -> None:
        self._lifetimes = dict(self.default_lifetimes)

    # -- lifetimes ------------------------------------------------------------

    def issues_tokens(self, vendor: str) -> bool:
        return vendor in self.default_lifetimes

    def lifetime(self, vendor: str) -> float:
        return self._lifetimes[vendor]

    def set_lifetime(self, vendor: str, seconds: Any) -> float:
        """Tokens of ``vendor`` issued from now on live ``seconds``; ValueError if not >= 0."""
        if not self.issues_tokens(vendor):
            raise KeyError(vendor)
        self._lifetimes[vendor] = check_lifetime(seconds)
        return self._lifetimes[vendor]

    # -- issuing ----------------------------------------------------------------

    def _remember(self, token: str, vendor: str, subject: str) -> IssuedToken:
        now = self.clock()
        if len(self._tokens) >= MAX_KEPT_TOKENS:
            self._tokens = {
                key: value for key, value in self._tokens.items() if value.expires_at > now and not value.revoked
            }
        issued = IssuedToken(vendor, subject, now, now + self.lifetime(vendor))
        self._tokens[token] = issued
        return issued

    def issue_opaque(self, vendor: str, subject: str) -> tuple[str, IssuedToken]:
        """A random opaque access token (SmartDocumentor)."""
        token = secrets.token_urlsafe(32)
        return token, self._remember(token, vendor, subject)

    def issue_jwt(self, vendor: str, subject: str, issuer: str) -> tuple[str, IssuedToken]:
        """A real HS256 JWT (header.payload.signature) whose ``exp`` is when it expires.

        ``exp`` and ``iat`` are whole epoch seconds, rounded down, so a client that
        trusts ``exp`` never holds a token longer than the simulator accepts it.
        """
        now = self.clock()
        claims = {
            "iss": issuer,
            "sub": subject,
            "iat": math.floor(now),
            "exp": math.floor(now + self.lifetime(vendor)),
            "jti": str(uuid.uuid4()),
        }
        header = {"alg": "HS256", "typ": "JWT"}
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = hmac.new(self._signing_key, signing_input.encode("ascii"), hashlib.sha256).digest()
        token = f"{signing_input}.{_b64url(signature)}"
        return token, self._remember(token, vendor, subject)

    def count_request(self, vendor: str, user_agent: str | None) -> None:
        """One more token request of ``vendor`` from the client ``user_agent`` names (see ``client_name``)."""
        clients = self._requests_by_client.setdefault(vendor, {})
        name = client_name(user_agent)
        clients[name] = clients.get(name, 0) + 1

    def requests_by_client(self, vendor: str) -> dict[str, int]:
        """Token requests of ``vendor`` so far (granted or refused), by client name."""
        return dict(self._requests_by_client.get(vendor, {}))

    # -- checking ---------------------------------------------------------------

    def check(self, vendor: str, token: str | None) -> IssuedToken:
        """The token's record if ``token`` is a live token of ``vendor``; else TokenRefused."""
        if not token:
            raise TokenRefused("the authorization token is missing")
        issued = self._tokens.get(token)
        if issued is None or issued.vendor != vendor:
            raise TokenRefused("the authorization token is not valid")
        if issued.revoked or self.clock() >= issued.expires_at:
            raise TokenRefused("the authorization token has expired")
        return issued

    def expire_all(self, vendor: str) -> int:
        """Expire every token of ``vendor`` issued so far; the number that were still live."""
        if not self.issues_tokens(vendor):
            raise KeyError(vendor)
        now = self.clock()
        live = 0
        for issued in self._tokens.values():
            if issued.vendor == vendor:
                live += not issued.revoked and now < issued.expires_at
                issued.revoked = True
        return live

    def summary(self, vendor: str) -> dict[str, Any]:
        """``{"lifetime", "issued", "live"}`` for the admin API (never the tokens themselves)."""
        now = self.clock()
        mine = [issued for issued in self._tokens.values() if issued.vendor == vendor]
        return {
            "lifetime": self.lifetime(vendor),
            "issued": len(mine),
            "live": sum(1 for issued in mine if not issued.revoked and now < issued.expires_at),
        }

    def reset(self) -> None:
        """Forget every token and restore the scenario's lifetimes."""
        self._tokens.clear()
        self._requests_by_client.clear()
        self._lifetimes = dict(self.default_lifetimes)


def client_name(user_agent: str | None) -> str:
    """The client a User-Agent names: its last product's name (``Python/3.11 aiohttp/3.9`` is
    ``aiohttp``, ``python-requests/2.31`` is ``python-requests``); ``unknown`` without one."""
    products = [part.split("/", 1)[0] for part in (user_agent or "").split() if "/" in part]
    return products[-1].lower() if products and products[-1] else "unknown"


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = (headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
