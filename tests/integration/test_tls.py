"""TLS: verification is on by default; the ``verify`` extra takes a CA bundle path or false. Over a real HTTPS socket."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl

import pytest

from airflow_docstatus.engine.errors import PermanentError
from airflow_docstatus.engine.status import State
from airflow_docstatus.hooks.leadtools import LeadtoolsHook
from airflow_docstatus.simulator import serve_in_thread
from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS, simulator_connection
from airflow_docstatus.triggers.leadtools import LeadtoolsQueryTrigger
from tests.support import FakeClock, events_of, with_clock

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (its own CA), and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "docstatus simulator")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture(scope="module")
def https_simulator(certificate):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    with serve_in_thread(ssl_context=context) as server:
        assert server.url.startswith("https://")
        yield server


def define(monkeypatch, conn_id, url, **extra):
    conn = simulator_connection(url, SIMULATOR_CONNECTIONS["leadtools_default"])
    if extra:
        conn["extra"] = extra
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def new_file(url: str) -> str:
    import requests

    answer = requests.post(f"{url}/_sim/documents", json={"vendor": "leadtools", "script": [{"status": 200}]},
                           timeout=10, verify=False)
    return answer.json()["id"]


def test_verification_is_on_by_default_and_a_failure_names_the_setting(https_simulator, monkeypatch):
    conn_id = define(monkeypatch, "lt_tls_default", https_simulator.url)
    with pytest.raises(PermanentError) as info:
        LeadtoolsHook(conn_id).check_status(file_id=new_file(https_simulator.url))
    assert "TLS verification failed for connection 'lt_tls_default'" in str(info.value)
    assert "`verify` extra" in str(info.value)


def test_a_ca_bundle_path_or_false_lets_it_through(https_simulator, certificate, monkeypatch):
    with_ca = define(monkeypatch, "lt_tls_ca", https_simulator.url, verify=str(certificate[0]))
    unchecked = define(monkeypatch, "lt_tls_off", https_simulator.url, verify="false")
    for conn_id in (with_ca, unchecked):
        assert LeadtoolsHook(conn_id).check_status(file_id=new_file(https_simulator.url)).state is State.SUCCEEDED


@pytest.mark.asyncio
async def test_the_trigger_verifies_too(https_simulator, certificate, monkeypatch):
    file_id = new_file(https_simulator.url)
    refused = define(monkeypatch, "lt_tls_trig_default", https_simulator.url)
    events = await events_of(with_clock(LeadtoolsQueryTrigger(file_id=file_id, leadtools_conn_id=refused), FakeClock()))
    assert events[0]["kind"] == "permanent" and "TLS verification failed" in events[0]["message"]
    trusted = define(monkeypatch, "lt_tls_trig_ca", https_simulator.url, verify=str(certificate[0]))
    events = await events_of(with_clock(LeadtoolsQueryTrigger(file_id=file_id, leadtools_conn_id=trusted), FakeClock()))
    assert events[0]["status"] == "success"


def test_the_connection_decides_verify_whatever_requests_ca_bundle_says(certificate, monkeypatch):
    from airflow_docstatus.engine.settings import ConnectionSettings
    from airflow_docstatus.engine.transport_sync import ConnectionSession

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    for verify in (False, str(certificate[0])):
        session = ConnectionSession(ConnectionSettings(conn_id="c", base_url="https://x/", verify=verify))
        assert session.merge_environment_settings("https://x/", {}, None, None, None)["verify"] == verify
