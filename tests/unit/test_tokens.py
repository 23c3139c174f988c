"""Token lifetimes, JWT expiry, the shared slot and the cache key, with no network."""

from __future__ import annotations

import base64
import json

from airflow_docstatus.engine.http import HttpRequest
from airflow_docstatus.engine.tokens import RENEWAL_MARGIN, Token, TokenSlot, jwt_expiry, token_key


def jwt(claims: dict) -> str:
    def part(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


def test_a_token_is_renewed_a_tenth_of_its_lifetime_early_but_at_most_a_minute():
    assert Token.expiring_in("t", 3600, now=1000).renew_at == 1000 + 3600 - RENEWAL_MARGIN
    assert Token.expiring_in("t", 10, now=1000).renew_at == 1009
    short = Token.expiring_in("t", 10, now=1000)
    assert short.usable(1008.9) and not short.usable(1009)


def test_a_token_without_lifetime_lasts_until_the_vendor_refuses_it():
    assert Token.expiring_in("t", None, now=0).usable(10**12)


def test_jwt_expiry_reads_exp_without_verifying():
    assert jwt_expiry(jwt({"sub": "u", "exp": 2000})) == 2000
    assert Token.from_jwt(jwt({"exp": 1100}), now=1000).renew_at == 1090


def test_jwt_without_exp_or_not_a_jwt_has_no_expiry():
    assert jwt_expiry(jwt({"sub": "u"})) is None
    assert jwt_expiry("opaque-token") is None
    assert jwt_expiry("a.!!!.c") is None
    assert Token.from_jwt("opaque-token", now=0).renew_at is None


def test_token_repr_hides_the_value():
    assert "canary-token-value" not in repr(Token("canary-token-value", 5))


def test_slot_discards_only_the_token_that_was_refused():
    slot = TokenSlot(lock=None)
    old, new = Token("old", None), Token("new", None)
    slot.token = old
    slot.discard(old)
    assert slot.current(0) is None
    slot.token = new
    slot.discard(old)  # another poller already renewed it: keep the new one
    assert slot.current(0) is new


def test_slot_hands_out_only_usable_tokens():
    slot = TokenSlot(lock=None)
    slot.token = Token.expiring_in("t", 10, now=0)
    assert slot.current(5) is slot.token
    assert slot.current(9.5) is None


def test_token_key_changes_with_credentials_and_never_contains_them():
    def request(password: str) -> HttpRequest:
        return HttpRequest("POST", "http://sim/token", body=json.dumps({"username": "u", "password": password}).encode())

    first, same, other = token_key("c", request("pw-one")), token_key("c", request("pw-one")), token_key("c", request("pw-two"))
    assert first == same and first != other
    assert first.startswith("c#") and "pw-one" not in first
    assert token_key("d", request("pw-one")) != first
