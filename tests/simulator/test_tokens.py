"""Token bookkeeping with a fake clock: lifetimes, expiry, the expire-all call, reset."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from airflow_docstatus.simulator.tokens import TokenRefused, TokenStore, bearer_token


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.25) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_store(clock: FakeClock) -> TokenStore:
    return TokenStore(default_lifetimes={"expertai": 3600.0, "smartdocumentor": 60.0}, clock=clock)


def test_a_token_lives_exactly_its_lifetime():
    clock = FakeClock()
    store = make_store(clock)
    token, issued = store.issue_opaque("smartdocumentor", "client")
    assert issued.expires_at == clock.now + 60
    clock.now += 59.999
    assert store.check("smartdocumentor", token) is issued
    clock.now += 0.001
    with pytest.raises(TokenRefused, match="has expired"):
        store.check("smartdocumentor", token)


def test_unknown_missing_and_other_vendor_tokens_are_refused():
    store = make_store(FakeClock())
    token, _ = store.issue_opaque("smartdocumentor", "client")
    with pytest.raises(TokenRefused, match="missing"):
        store.check("smartdocumentor", None)
    with pytest.raises(TokenRefused, match="not valid"):
        store.check("smartdocumentor", "made-up")
    with pytest.raises(TokenRefused, match="not valid"):
        store.check("expertai", token)


def test_jwt_is_signed_and_its_exp_never_outlives_the_token():
    clock = FakeClock()
    store = make_store(clock)
    store.set_lifetime("expertai", 1.5)
    token, issued = store.issue_jwt("expertai", "user", "issuer")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert claims["sub"] == "user" and claims["iss"] == "issuer"
    assert claims["iat"] == 1_700_000_000 and claims["exp"] == 1_700_000_001
    assert claims["exp"] <= issued.expires_at
    expected = hmac.new(store._signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=") == expected


def test_lifetime_changes_apply_to_new_tokens_and_reset_restores_them():
    clock = FakeClock()
    store = make_store(clock)
    before, _ = store.issue_opaque("expertai", "u")
    assert store.set_lifetime("expertai", 1) == 1.0
    after, _ = store.issue_opaque("expertai", "u")
    clock.now += 2
    assert store.check("expertai", before)
    with pytest.raises(TokenRefused):
        store.check("expertai", after)
    store.reset()
    assert store.lifetime("expertai") == 3600.0
    with pytest.raises(TokenRefused, match="not valid"):
        store.check("expertai", before)
    with pytest.raises(ValueError):
        store.set_lifetime("expertai", -1)
    with pytest.raises(KeyError):
        store.set_lifetime("leadtools", 1)


def test_expire_all_touches_one_vendor_only():
    store = make_store(FakeClock())
    mine = [store.issue_opaque("expertai", "u")[0] for _ in range(3)]
    other, _ = store.issue_opaque("smartdocumentor", "c")
    assert store.expire_all("expertai") == 3
    for token in mine:
        with pytest.raises(TokenRefused, match="expired"):
            store.check("expertai", token)
    assert store.check("smartdocumentor", other)
    assert store.summary("expertai") == {"lifetime": 3600.0, "issued": 3, "live": 0}
    fresh, _ = store.issue_opaque("expertai", "u")
    assert store.check("expertai", fresh)


@pytest.mark.parametrize(
    ("value", "token"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None), (None, None)],
)
def test_bearer_token(value, token):
    assert bearer_token({"Authorization": value} if value is not None else {}) == token


def test_token_requests_are_counted_by_client():
    from airflow_docstatus.simulator.tokens import client_name

    assert client_name("Python/3.11 aiohttp/3.14.5") == "aiohttp"
    assert client_name("python-requests/2.34.2") == "python-requests"
    assert client_name(None) == client_name("") == client_name("curl") == "unknown"
    store = make_store(FakeClock())
    store.count_request("expertai", "Python/3.11 aiohttp/3.14.5")
    store.count_request("expertai", "Python/3.11 aiohttp/3.14.5")
    store.count_request("expertai", "python-requests/2.34.2")
    assert store.requests_by_client("expertai") == {"aiohttp": 2, "python-requests": 1}
    assert store.requests_by_client("smartdocumentor") == {}
    store.reset()
    assert store.requests_by_client("expertai") == {}
