"""FOYER_TEMPORAL_* settings become the arguments of Client.connect (the dev server in plaintext, a
cluster over TLS or mTLS, Temporal Cloud with an API key), checked without a network; settings that
cannot work stop `foyer api` / `foyer worker` / create_app at startup with a message naming the
setting and the file. Last, the mTLS settings connect for real, through a TLS front that demands
a client certificate before the suite's dev server."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from foyer.api.main import create_app
from foyer.settings import Settings
from foyer.temporal import TemporalSettingsError, connect_options

CERT = b"-----BEGIN CERTIFICATE-----\nTUlJQ2xpZW50\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nTUlJS2V5\n-----END PRIVATE KEY-----\n"
CA = b"-----BEGIN CERTIFICATE-----\nTUlJQ0E=\n-----END CERTIFICATE-----\n"


def settings(**values) -> Settings:
    # Only what the test names: no .env file, and explicit values win over the environment.
    defaults = {"temporal_tls": None, "temporal_tls_client_cert_path": None, "temporal_tls_client_key_path": None,
                "temporal_tls_server_ca_path": None, "temporal_tls_server_name": None, "temporal_api_key": None}
    return Settings(_env_file=None, **{**defaults, **values})


@pytest.fixture
def pems(tmp_path: Path) -> dict[str, Path]:
    files = {"cert": tmp_path / "client.pem", "key": tmp_path / "client.key", "ca": tmp_path / "ca.pem"}
    for name, content in (("cert", CERT), ("key", KEY), ("ca", CA)):
        files[name].write_bytes(content)
    return files


def test_dev_server_is_plaintext_without_a_key():
    options = connect_options(settings(temporal_address="127.0.0.1:7233", temporal_namespace="default"))
    assert options == {"target_host": "127.0.0.1:7233", "namespace": "default", "tls": False, "api_key": None}


def test_temporal_cloud_api_key_turns_tls_on():
    options = connect_options(settings(temporal_address="foyer.a1b2c.tmprl.cloud:7233",
                                       temporal_namespace="foyer.a1b2c", temporal_api_key="cloud-api-key"))
    assert options == {"target_host": "foyer.a1b2c.tmprl.cloud:7233", "namespace": "foyer.a1b2c", "tls": True,
                       "api_key": "cloud-api-key"}
    assert "cloud-api-key" not in repr(settings(temporal_api_key="cloud-api-key"))  # not in logs


def test_tls_alone_verifies_against_the_system_roots():
    assert connect_options(settings(temporal_tls=True))["tls"] is True


def test_mtls_reads_the_client_pair_and_the_server_ca(pems):
    options = connect_options(settings(
        temporal_address="temporal.internal:7233", temporal_namespace="foyer-prod",
        temporal_tls_client_cert_path=pems["cert"], temporal_tls_client_key_path=pems["key"],
        temporal_tls_server_ca_path=pems["ca"], temporal_tls_server_name="frontend.temporal.internal"))
    assert options["tls"] == TLSConfig(client_cert=CERT, client_private_key=KEY, server_root_ca_cert=CA,
                                       domain="frontend.temporal.internal")
    assert options["api_key"] is None and options["namespace"] == "foyer-prod"


def test_server_ca_without_a_client_certificate(pems):
    tls = connect_options(settings(temporal_tls_server_ca_path=pems["ca"]))["tls"]
    assert tls == TLSConfig(server_root_ca_cert=CA)


def test_settings_are_read_from_the_environment(pems, monkeypatch):
    monkeypatch.setenv("FOYER_TEMPORAL_TLS_CLIENT_CERT_PATH", str(pems["cert"]))
    monkeypatch.setenv("FOYER_TEMPORAL_TLS_CLIENT_KEY_PATH", str(pems["key"]))
    monkeypatch.setenv("FOYER_TEMPORAL_TLS_SERVER_CA_PATH", "")  # empty means unset, not "."
    monkeypatch.setenv("FOYER_TEMPORAL_TLS_SERVER_NAME", "")
    monkeypatch.setenv("FOYER_TEMPORAL_API_KEY", "")
    tls = connect_options(Settings(_env_file=None))["tls"]
    assert tls == TLSConfig(client_cert=CERT, client_private_key=KEY)


@pytest.mark.parametrize("problem", ["missing", "directory", "not pem"])
def test_unusable_file_names_the_setting_and_the_path(pems, tmp_path, problem):
    path = {"missing": tmp_path / "nowhere" / "ca.pem", "directory": tmp_path, "not pem": tmp_path / "ca.der"}[problem]
    if problem == "not pem":
        path.write_bytes(b"\x30\x82\x01\x0a")
    with pytest.raises(TemporalSettingsError) as refused:
        connect_options(settings(temporal_tls_server_ca_path=path))
    assert "FOYER_TEMPORAL_TLS_SERVER_CA_PATH" in str(refused.value) and str(path) in str(refused.value)
    assert {"missing": "does not exist", "directory": "is a directory", "not pem": "not a PEM file"}[problem] \
        in str(refused.value)


def test_half_a_key_pair_is_refused(pems):
    with pytest.raises(TemporalSettingsError, match="CLIENT_CERT_PATH and FOYER_TEMPORAL_TLS_CLIENT_KEY_PATH go together"):
        connect_options(settings(temporal_tls_client_cert_path=pems["cert"]))


def test_tls_off_with_tls_files_is_refused(pems):
    with pytest.raises(TemporalSettingsError, match="FOYER_TEMPORAL_TLS is false"):
        connect_options(settings(temporal_tls=False, temporal_tls_server_ca_path=pems["ca"]))


def test_create_app_refuses_unusable_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("FOYER_TEMPORAL_TLS_CLIENT_KEY_PATH", str(tmp_path / "missing.key"))
    monkeypatch.setenv("FOYER_TEMPORAL_TLS_CLIENT_CERT_PATH", str(tmp_path / "missing.pem"))
    from foyer.settings import get_settings
    get_settings.cache_clear()
    try:
        with pytest.raises(TemporalSettingsError, match="FOYER_TEMPORAL_TLS_CLIENT_CERT_PATH"):
            create_app()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


@pytest.mark.parametrize("command", ["api", "worker"])
def test_command_refuses_to_start_with_a_missing_certificate(tmp_path, command):
    missing = tmp_path / "certs" / "ca.pem"
    env = {**os.environ, "FOYER_TEMPORAL_TLS_SERVER_CA_PATH": str(missing),
           "FOYER_TEMPORAL_ADDRESS": "127.0.0.1:1", "FOYER_TASK_QUEUE": f"refused-{tmp_path.name}"}
    done = subprocess.run([sys.executable, "-m", "foyer.cli", command], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"foyer {command}: refusing to start: FOYER_TEMPORAL_TLS_SERVER_CA_PATH: {missing} does not exist" \
        in done.stderr
    assert "Traceback" not in done.stderr


# --- a real mTLS connection ---------------------------------------------------------------------

SERVER_NAME = "temporal.foyer.test"


def _pki(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for SERVER_NAME and a client certificate, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("Foyer test CA")).issuer_name(name("Foyer test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))

    def leaf(common: str, usage, san: list[x509.GeneralName] | None):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(ca.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return key, builder.sign(ca_key, hashes.SHA256())

    server_key, server = leaf(SERVER_NAME, ExtendedKeyUsageOID.SERVER_AUTH, [x509.DNSName(SERVER_NAME)])
    client_key, client = leaf("foyer-worker", ExtendedKeyUsageOID.CLIENT_AUTH, None)

    def write(file: str, content: bytes) -> Path:
        (folder / file).write_bytes(content)
        return folder / file

    def key_pem(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    return {"ca": write("ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
            "server": write("server.pem", server.public_bytes(serialization.Encoding.PEM)),
            "server_key": write("server.key", key_pem(server_key)),
            "client": write("client.pem", client.public_bytes(serialization.Encoding.PEM)),
            "client_key": write("client.key", key_pem(client_key))}


@pytest.fixture
async def mtls_frontend(temporal, tmp_path):
    """The suite's dev server behind a TLS front that demands a client certificate from the test CA
    (as a cluster's frontend or Temporal Cloud's mTLS namespaces do): (address, PEM files)."""
    import asyncio
    import ssl

    pki = _pki(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki["ca"]))
    context.load_cert_chain(pki["server"], pki["server_key"])
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    upstream_host, upstream_port = temporal.client.service_client.config.target_host.rsplit(":", 1)
    tasks: set = set()

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def forward(reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(upstream_host, int(upstream_port))
        except OSError:
            writer.close()
            return
        both = [asyncio.create_task(pipe(reader, up_writer)), asyncio.create_task(pipe(up_reader, writer))]
        tasks.update(both)
        await asyncio.gather(*both, return_exceptions=True)

    front = await asyncio.start_server(forward, "127.0.0.1", 0, ssl=context)
    port = front.sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}", pki
    front.close()
    for task in tasks:
        task.cancel()


async def test_mtls_settings_connect_through_a_tls_frontend(mtls_frontend):
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    address, pki = mtls_frontend
    configured = settings(temporal_address=address, temporal_namespace="default",
                          temporal_tls_client_cert_path=pki["client"], temporal_tls_client_key_path=pki["client_key"],
                          temporal_tls_server_ca_path=pki["ca"], temporal_tls_server_name=SERVER_NAME)
    client = await Client.connect(**connect_options(configured), data_converter=pydantic_data_converter)
    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
    assert described.namespace_info.name == "default"

    # The front really demands the certificate: without the client pair the connection is refused.
    no_client_cert = settings(temporal_address=address, temporal_tls_server_ca_path=pki["ca"],
                              temporal_tls_server_name=SERVER_NAME)
    with pytest.raises(RuntimeError):
        await Client.connect(**connect_options(no_client_cert), connect_timeout=timedelta(seconds=5))
