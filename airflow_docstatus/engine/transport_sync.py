"""The sync transport: one ``requests.Session`` per hook, used in poke and reschedule mode."""

from __future__ import annotations

from typing import Any

import requests

from airflow_docstatus.engine.errors import PermanentError, TransientError, tls_failure
from airflow_docstatus.engine.http import HttpRequest, HttpResponse
from airflow_docstatus.engine.settings import ConnectionSettings


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
        self._settings = settings
        self._session = ConnectionSession(settings, auth)

    def send(self, request: HttpRequest) -> HttpResponse:
        try:
            answer = self._session.request(
                request.method,
                request.url,
                params=dict(request.params) or None,
                headers=dict(request.headers),
                data=request.body,
                timeout=(self._settings.connect_timeout, self._settings.read_timeout),
                allow_redirects=False,
            )
        except requests.exceptions.SSLError:
            raise PermanentError(tls_failure(request.method, request.url, self._settings.conn_id)) from None
        except requests.Timeout as exc:
            raise TransientError(f"{request.method} {request.url} timed out ({type(exc).__name__})") from None
        except requests.ConnectionError as exc:
            raise TransientError(f"{request.method} {request.url} failed to connect ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise TransientError(f"{request.method} {request.url} failed ({type(exc).__name__})") from None
        return HttpResponse(status=answer.status_code, headers=dict(answer.headers), body=answer.content)

    def close(self) -> None:
        self._session.close()
