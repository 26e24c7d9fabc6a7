"""`foyer db upgrade`: run Alembic to head, then make sure the organization row exists."""

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from foyer.db import sync_url
from foyer.settings import PROJECT_ROOT, get_settings
from models.directory import Organization


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "models" / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str | None = None) -> str:
    """Migrate to head and seed the organization; returns the organization id."""
    settings = get_settings()
    url = database_url or settings.database_url
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(sync_url(url))
    try:
        with Session(engine) as session, session.begin():
            org = session.execute(select(Organization).limit(1)).scalar_one_or_none()
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
