"""Every setting is an environment variable with the prefix FOYER_ (pydantic-settings)."""

import ipaddress
import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Local state of `foyer dev` (SQLite file, Temporal state, caught mail, secret key, admin token).
# Read here, not only as a field, so the default database file follows it.
STATE_DIR = Path(os.environ.get("FOYER_STATE_DIR") or PROJECT_ROOT / ".foyer")
# FOYER_OUTBOUND_ALLOWED_NETWORKS of `foyer dev` (and the tests): loopback, IPv4 and IPv6.
LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FOYER_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{STATE_DIR / 'foyer.db'}"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "foyer"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Foyer <no-reply@foyer.localhost>"

    public_url: str = "http://127.0.0.1:8000"
    # Keys every HMAC (link tokens, passcodes, API tokens). Change it in production:
    # `foyer dev` writes a random one to .foyer/secret_key on first start.
    secret_key: str = Field(default="dev-only-insecure-secret-key-change-me", min_length=16)
    api_port: int = 8000

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
