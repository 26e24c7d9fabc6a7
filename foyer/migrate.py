"""`foyer db upgrade`: run Alembic to head, make sure the organization row exists, and re-encrypt
stored connector credentials still sealed under a previous secret key (after a key rotation)."""

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from foyer.db import sync_url
from foyer.settings import get_settings
from foyer import models
from foyer.models.directory import Organization


# The migrations travel inside the models package (a checkout and an installed wheel alike).
MIGRATIONS_DIR = Path(models.__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic configured in code, from where the migrations are installed: no alembic.ini needed
    (that file is only for running `alembic revision` by hand in a checkout)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str | None = None) -> str:
    """Migrate to head and seed the organization; returns the organization id."""
    settings = get_settings()
    url = database_url or settings.database_url
    if url == f"sqlite:///{Path(settings.state_dir) / 'foyer.db'}":
        # The default database lives in the state directory, which a fresh install has not made yet.
        Path(settings.state_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(sync_url(url))
    try:
        reseal_connector_credentials(engine)
        with Session(engine) as session, session.begin():
            # The first organization, as the API's get_organization finds it (another tenant's row,
            # such as a test's, must not take its place: an unordered LIMIT 1 differs on PostgreSQL).
            org = session.execute(select(Organization).order_by(
                Organization.created_date_time, Organization.id).limit(1)).scalar_one_or_none()
            if org is None:
                org = Organization(
                    display_name=settings.organization_name,
                    verified_domains=[{"name": settings.organization_domain, "isDefault": True,
                                       "isInitial": True}],
                )
                session.add(org)
                session.flush()
            return org.id
    finally:
        engine.dispose()


def reseal_connector_credentials(engine) -> int:
    """Seal again, under FOYER_SECRET_KEY, every connector credential sealed under a previous key,
    so that key can then be removed from FOYER_PREVIOUS_SECRET_KEYS. Returns how many changed; a
    value no accepted key opens is left alone (and logged)."""
    from foyer.security import SealedValueError, is_sealed, sealed_with_current_key
    from foyer.models.sign_up import SEALED_CONNECTOR_COLUMNS, ApiConnector

    changed = 0
    with Session(engine) as session, session.begin():
        for row in session.execute(select(ApiConnector)).scalars():
            stale = [column for column in SEALED_CONNECTOR_COLUMNS
                     if is_sealed(getattr(row, column)) and not sealed_with_current_key(getattr(row, column))]
            if not stale:
                continue
            try:
                row.set_credentials(**{column: row.credential(column) for column in stale})
                changed += 1
            except SealedValueError as error:
                logging.getLogger("foyer").warning("API connector %s: credentials not re-encrypted: %s",
                                                   row.id, error)
    return changed
