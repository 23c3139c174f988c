"""The sync transport: one ``requests.Session`` per hook, used in poke and reschedule mode."""

from __future__ import annotations

import os
import time
from typing import Any

import requests
import urllib3

from airflow_docstatus.engine.errors import (
    InvalidInputError,
    PermanentError,
    TransientError,
    ca_bundle_problem,
    tls_failure,
)
from airflow_docstatus.engine.http import ACCEPT_ENCODING, BoundedBody, HttpRequest, HttpResponse, call_budget
from airflow_docstatus.engine.settings import ConnectionSettings

# Read the body in pieces no larger than this, as they arrive, so the call's time limit is checked between them.
READ_CHUNK = 64 * 1024


class ConnectionSession(requests.Session):
    """A requests session whose ``verify`` is the connection's, whatever the environment says.

    A plain session's ``verify`` loses to ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``
    (psf/requests#3829), so a CA bundle path or ``false`` in the connection
    would be ignored wherever those are set.
    """

    def __init__(self, settings: ConnectionSettings, auth: Any = None) -> None:
        super().__init__()
        self.verify = settings.verify
        if auth is not None:
            self.auth = auth

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None:  # nothing asked for on the request: the connection decides
            merged["verify"] = self.verify
        return merged


class SyncTransport:
    """Sends ``HttpRequest`` records with requests; connection trouble becomes ``TransientError``.

    ``auth`` is an optional requests auth object for the session, for schemes a
    header cannot carry (NTLM and other multi-round-trip handshakes).
    """

    def __init__(self, settings: ConnectionSettings, auth: Any = None) -> None:
        if isinstance(settings.verify, str) and not os.path.isfile(settings.verify):
            raise InvalidInputError(ca_bundle_problem(settings.conn_id, settings.verify, FileNotFoundError("no such file")))
        self._settings = settings
        self._session = ConnectionSession(settings, auth)

    def send(self, request: HttpRequest, remaining: float | None = None) -> HttpResponse:
        """Send ``request`` and read its answer, within the connection's ``call_timeout`` and ``remaining`` seconds.

        The body is read as it arrives and capped at ``max_body_bytes`` on the
        wire and inflated (``BodyTooLargeError``). Connection trouble and a
        call that runs out of time raise ``TransientError``; a TLS failure
        raises ``PermanentError``.
        """
        settings = self._settings
        budget = call_budget(settings, remaining)
        give_up_at = time.monotonic() + budget
        headers = {"Accept-Encoding": ACCEPT_ENCODING, **request.headers}
        try:
            answer = self._session.request(
                request.method,
                request.url,
                params=dict(request.params) or None,
                headers=headers,
                data=request.body,
                timeout=(min(settings.connect_timeout, budget), min(settings.read_timeout, budget)),
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.SSLError:
            raise PermanentError(tls_failure(request.method, request.url, settings.conn_id)) from None
        except requests.Timeout as exc:
            raise TransientError(f"{request.method} {request.url} timed out ({type(exc).__name__})") from None
        except requests.ConnectionError as exc:
            raise TransientError(f"{request.method} {request.url} failed to connect ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise TransientError(f"{request.method} {request.url} failed ({type(exc).__name__})") from None
        with answer:
            body = BoundedBody(
                settings.max_body_bytes,
                answer.headers.get("Content-Encoding"),
                what=f"{request.method} {request.url} (connection {settings.conn_id!r})",
            )
            body.check_declared(answer.headers.get("Content-Length"))
            try:
                while True:
                    if time.monotonic() > give_up_at:
                        raise TransientError(
                            f"{request.method} {request.url} took longer than {budget:.1f}s "
                            "(the call's time limit: `call_timeout`, or the time left before the deadline)"
                        )
                    chunk = answer.raw.read1(READ_CHUNK, decode_content=False)
                    if not chunk:
                        break
                    body.feed(chunk)
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                timed_out = isinstance(exc, (TimeoutError, urllib3.exceptions.TimeoutError))
                how = "timed out" if timed_out else f"failed while reading the answer ({type(exc).__name__})"
                raise TransientError(f"{request.method} {request.url} {how}") from None
            return HttpResponse(status=answer.status_code, headers=dict(answer.headers), body=body.body())

    def close(self) -> None:
        self._session.close()
