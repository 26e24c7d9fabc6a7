"""FOYER_TEMPORAL_* settings become the arguments of Client.connect (the dev server in plaintext, a
cluster over TLS or mTLS, Temporal Cloud with an API key), with no network involved; settings that
cannot work stop `foyer api` / `foyer worker` / create_app at startup with a message naming the
setting and the file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from api.main import create_app
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
