"""Every setting is an environment variable with the prefix FOYER_ (pydantic-settings)."""

import ipaddress
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The directory above the foyer package: the checkout, or site-packages when Foyer is installed.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A checkout has its pyproject.toml next to the packages; site-packages never does.
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file()


def default_state_dir() -> Path:
    """Where local state goes when FOYER_STATE_DIR is not set: .foyer/ in a checkout (as `make dev`
    always had it), else $XDG_STATE_HOME/foyer (~/.local/state/foyer), never into site-packages."""
    if IN_CHECKOUT:
        return PROJECT_ROOT / ".foyer"
    xdg_state_home = os.environ.get("XDG_STATE_HOME", "").strip()
    # The XDG spec: a relative value is invalid and is ignored.
    base = Path(xdg_state_home) if xdg_state_home and Path(xdg_state_home).is_absolute() \
        else Path.home() / ".local" / "state"
    return base / "foyer"


# Local state of `foyer dev` (SQLite file, Temporal state, caught mail, secret key, admin token).
# Read here, not only as a field, so the default database file follows it.
STATE_DIR = Path(os.environ.get("FOYER_STATE_DIR") or default_state_dir())
# FOYER_OUTBOUND_ALLOWED_NETWORKS of `foyer dev` (and the tests): loopback, IPv4 and IPv6.
LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"

# Published in this file, so anyone can sign with it: never good enough outside dev and tests.
DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
KNOWN_DEFAULT_SECRET_KEYS = frozenset({
    DEFAULT_SECRET_KEY, "changethis", "change-me", "changeme", "secret", "secret-key", "secret_key",
})
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_DISTINCT_CHARACTERS = 8
MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
WHAT_TO_DO = "\n".join([
    "Make a key with:",
    f"    {MAKE_A_KEY}",
    "and set it as FOYER_SECRET_KEY in the environment of `foyer api`, `foyer worker` and "
    "`foyer db upgrade` (the same key for all), or in the .env file of the directory they start "
    "in. To rotate a key, move the old one to FOYER_PREVIOUS_SECRET_KEYS for a while.",
    "For a local trial run `foyer dev`, which makes a key of its own (FOYER_ENV=dev only warns).",
])


class Settings(BaseSettings):
    # hide_input_in_errors: a rejected setting (a short key, a password) is not echoed to logs.
    model_config = SettingsConfigDict(env_prefix="FOYER_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    database_url: str = f"sqlite:///{STATE_DIR / 'foyer.db'}"
    # The Temporal server every process talks to (API, worker, CLI; foyer.temporal.connect_client).
    # The defaults are the dev server of `foyer dev`: plaintext, namespace "default".
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "foyer"
    # A cluster or Temporal Cloud. TLS is on when any of these is set (or FOYER_TEMPORAL_TLS=true,
    # which alone verifies the server against the system's roots); FOYER_TEMPORAL_TLS=false
    # turns it off and may not be combined with the TLS paths.
    temporal_tls: bool | None = None
    # mTLS: the client certificate and its private key (PEM files; both or neither).
    temporal_tls_client_cert_path: Path | None = None
    temporal_tls_client_key_path: Path | None = None
    # The CA (PEM) that signed the server's certificate, when the system's roots do not.
    temporal_tls_server_ca_path: Path | None = None
    # The name the server's certificate is checked against (and the SNI sent), when it is not the
    # host of FOYER_TEMPORAL_ADDRESS (an IP address, a load balancer).
    temporal_tls_server_name: str | None = None
    # Temporal Cloud API key (sent as "Authorization: Bearer …"; implies TLS).
    temporal_api_key: SecretStr | None = None

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Foyer <no-reply@foyer.localhost>"

    public_url: str = "http://127.0.0.1:8000"
    # production (the default) | dev (`foyer dev` sets it) | test (the test suite sets it).
    # Outside production an unsafe FOYER_SECRET_KEY is only warned about.
    env: Literal["production", "dev", "test"] = "production"
    # Keys every HMAC (session cookies, link tokens, passcodes, connector and extension secrets)
    # and the encryption of stored connector credentials. `foyer api` / `foyer worker` refuse the
    # default or a weak key in production; `foyer dev` writes a random one to .foyer/secret_key.
    secret_key: str = Field(default=DEFAULT_SECRET_KEY, min_length=16)
    # Keys rotated out: still accepted to VERIFY (cookies, passcodes, links, callback signatures)
    # and to decrypt, never to sign or encrypt. Comma- or space-separated, or a JSON list.
    previous_secret_keys: Annotated[list[str], NoDecode] = []
    api_port: int = 8000
    # Where `foyer api` listens: loopback unless told otherwise (0.0.0.0 behind a proxy or in a
    # container), and how many uvicorn worker processes it runs (each one a full API).
    api_host: str = "127.0.0.1"
    api_workers: int = Field(default=1, ge=1)
    # The proxies whose X-Forwarded-For/-Proto `foyer api` believes (client address, https):
    # comma-separated IPs or CIDRs, or "*" for any. Empty, the default, trusts none (a client could
    # otherwise claim any address or scheme).
    forwarded_allow_ips: str = ""

    # `foyer worker`: /healthz and /readyz on this port (off when unset) and host.
    worker_health_port: int | None = None
    worker_health_host: str = "127.0.0.1"
    # On SIGTERM the worker stops polling, then waits this long for running activities to finish
    # before cancelling them (they retry elsewhere).
    worker_shutdown_seconds: float = Field(default=30.0, ge=0)
    # How much one `foyer worker` process runs at once (worker.py gives them to the Temporal SDK):
    # remote activities (mail, deliveries, callouts) on its activity worker; workflow tasks and
    # the local activities they run (an invitation's record, a decision's record) on its workflow
    # worker. Each local activity and activity slot may hold one database connection at a time.
    worker_max_concurrent_activities: int = Field(default=100, ge=1)
    worker_max_concurrent_workflow_tasks: int | None = Field(default=None, ge=2)
    worker_max_concurrent_local_activities: int | None = Field(default=None, ge=1)
    # How many of the SDK's long polls each worker keeps open for new tasks.
    worker_workflow_task_polls: int | None = Field(default=None, ge=1)
    worker_activity_task_polls: int | None = Field(default=None, ge=1)
    # Workflows whose state a worker keeps in memory between tasks (the sticky cache); beyond it
    # a run's history is fetched and replayed for its next task.
    worker_max_cached_workflows: int | None = Field(default=None, ge=0)

    # Connections of each process's pool on PostgreSQL (SQLite uses a connection per session):
    # `database_pool_size` kept open, up to `database_max_overflow` more under load, and a
    # session waits `database_pool_timeout_seconds` for one before failing.
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0)

    state_dir: Path = STATE_DIR
    # Ports of what `foyer dev` starts itself: Temporal dev server (gRPC, Web UI), mail catcher.
    dev_temporal_port: int = 7233
    dev_ui_port: int = 8233
    dev_smtp_port: int = 1025

    # Where the dev mail catcher keeps messages (Maildir); /dev/mail lists them when set.
    dev_maildir: str | None = None

    # Organization created on first migration / first start.
    organization_name: str = "Foyer Dev Org"
    organization_domain: str = "foyer.localhost"

    # Safety valves for the API under load: Graph answers 429 with Retry-After, so do we.
    api_max_inflight: int = 256

    # Foyer calls configured URLs (custom extensions, API connectors) only on public addresses.
    # Non-public networks it may call anyway, as comma-separated CIDRs (e.g. "10.20.0.0/16" for an
    # approval system on the internal network). Empty, the default, allows none. The tests and
    # `foyer dev` allow loopback ("127.0.0.0/8,::1/128"); production should not. Read at every
    # check, so a test can change it on the cached Settings.
    outbound_allowed_networks: str = ""
    # Where the socialIdentityProvider "Google" finds Google's OpenID Connect discovery document.
    # Only tests change it (to a provider of their own on 127.0.0.1, which then stands in for Google).
    google_well_known_endpoint: str = "https://accounts.google.com/.well-known/openid-configuration"

    # Prometheus. The API serves /metrics (HTTP metrics and the directory's gauges, foyer.metrics)
    # unless this is false; nothing in it is secret, but do not expose it publicly: let the proxy
    # refuse /metrics from outside, or set FOYER_METRICS_TOKEN, which it then requires as
    # "Authorization: Bearer <token>" (Prometheus: `authorization: {credentials: ...}`).
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None
    # The worker's Temporal SDK metrics (temporal_*), served by the SDK's runtime on this
    # host:port (e.g. "0.0.0.0:9464"); unset, the default, serves none.
    worker_metrics_address: str | None = None

    # OpenTelemetry tracing (foyer.tracing): off unless an OTLP/HTTP endpoint is configured, here
    # (the collector's base URL, e.g. "http://otel-collector:4318"; spans go to <it>/v1/traces) or
    # by the standard OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. The other
    # OTEL_* variables (headers, sampler, batch delays, OTEL_SERVICE_NAME) are honoured as usual.
    otlp_endpoint: str | None = None
    # Logs of `foyer api` and `foyer worker` (foyer.logs): "text" (one human line) or "json" (one
    # object a line with request id, trace and span id, workflow and run id when known).
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    @field_validator("temporal_tls_client_cert_path", "temporal_tls_client_key_path",
                     "temporal_tls_server_ca_path", "temporal_tls_server_name", "temporal_api_key",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        # FOYER_TEMPORAL_TLS_SERVER_CA_PATH= (say, from a template) means "not set", not ".".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower(cls, value):
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("otlp_endpoint", mode="before")
    @classmethod
    def _empty_endpoint_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("worker_health_port", "worker_max_concurrent_workflow_tasks",
                     "worker_max_concurrent_local_activities", "worker_workflow_task_polls",
                     "worker_activity_task_polls", "worker_max_cached_workflows", mode="before")
    @classmethod
    def _empty_port_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        return check_forwarded_allow_ips(value)

    @field_validator("outbound_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError as error:
                    raise ValueError(f"FOYER_OUTBOUND_ALLOWED_NETWORKS: {error}") from None
        return value


    @field_validator("previous_secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, value):
        if isinstance(value, str):
            import json

            stripped = value.strip()
            if stripped.startswith("["):
                return json.loads(stripped)
            return [key for key in stripped.replace(",", " ").split() if key]
        return value


def check_forwarded_allow_ips(value: str) -> str:
    """FOYER_FORWARDED_ALLOW_IPS / --forwarded-allow-ips: "*", or IPs and CIDRs separated by
    commas. Checked here because uvicorn silently keeps a malformed entry as a literal that
    never matches."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if parts == ["*"]:
        return "*"
    for part in parts:
        try:
            ipaddress.ip_network(part) if "/" in part else ipaddress.ip_address(part)
        except ValueError as error:
            raise ValueError(f"FOYER_FORWARDED_ALLOW_IPS: {error} (use IPs, CIDRs or \"*\")") from None
    return ",".join(parts)


@lru_cache
def get_settings() -> Settings:
    return Settings()


class InsecureSecretKey(Exception):
    """The secret key may not be used in production; str() says what to do."""


def secret_key_weakness(key: str) -> str | None:
    """Why `key` is unsafe to sign with, or None."""
    if key.strip() in KNOWN_DEFAULT_SECRET_KEYS or key.strip().lower() in KNOWN_DEFAULT_SECRET_KEYS:
        return "is a published default value: anyone can forge session cookies, links and signatures with it"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is too short ({len(key)} characters; at least {MIN_SECRET_KEY_LENGTH} are needed)"
    if len(set(key)) < MIN_SECRET_KEY_DISTINCT_CHARACTERS:
        return "is too easy to guess (it repeats a few characters)"
    return None


def secret_key_problem(settings: "Settings") -> str | None:
    """What is wrong with the configured keys, with what to do about it; None when all is well."""
    problems = []
    if (why := secret_key_weakness(settings.secret_key)) is not None:
        problems.append(f"FOYER_SECRET_KEY {why}.")
    for index, key in enumerate(settings.previous_secret_keys, start=1):
        if (why := secret_key_weakness(key)) is not None:
            problems.append(f"FOYER_PREVIOUS_SECRET_KEYS (key {index}) {why}; previous keys are still "
                            "accepted for verification, so remove it.")
    if not problems:
        return None
    return "\n".join([*problems, WHAT_TO_DO])



def check_secret_key(settings: "Settings | None" = None) -> None:
    """Raise InsecureSecretKey in production when the keys are unsafe; warn in dev and tests.

    Called when anything that serves or migrates starts (the API, the worker, `foyer db upgrade`)."""
    settings = settings or get_settings()
    problem = secret_key_problem(settings)
    if problem is None:
        return
    if settings.env == "production":
        raise InsecureSecretKey(problem)
    logging.getLogger("foyer").warning("unsafe secret key (FOYER_ENV=%s, so only a warning): %s",
                                       settings.env, problem.splitlines()[0])
