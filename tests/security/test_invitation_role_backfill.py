"""Finding 1, upgrade path: invitations recorded before the inviter's role was are backfilled by
migration 0010 from the inviter's API token, so pending invitations made by administrators
keep their pre-assignments at redemption, and an inviter that cannot be told apart stays unknown
(which grants nothing). Campaigns were only ever created by administrators."""

import os
from types import SimpleNamespace
import uuid

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, create_engine, insert, text
from sqlalchemy.orm import Session

from foyer.db import sync_url
from foyer.migrate import alembic_config
from foyer.models.directory import Organization
from foyer.models.token import ApiToken


@pytest.fixture
def database_url(tmp_path):
    """A database of this test's own, at no revision yet: a SQLite file, or a fresh PostgreSQL
    schema when the suite runs on PostgreSQL."""
    if os.environ.get("FOYER_TEST_DATABASE") != "postgres":
        yield f"sqlite:///{tmp_path / 'backfill.db'}"
        return
    import psycopg

    base, schema = os.environ["FOYER_TEST_POSTGRES_URL"], f"foyer_backfill_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_upgrade_records_the_role_of_earlier_inviters(database_url):
    command.upgrade(alembic_config(database_url), "0009")
    engine = create_engine(sync_url(database_url))
    try:
        with Session(engine) as session, session.begin():
            # Only the columns revision 0009 has: the Organization model has columns later revisions add.
            org = Organization(display_name="Before", verified_domains=[])
            table = Table("organizations", MetaData(), autoload_with=session.connection())
            session.execute(insert(table), [{k: v for k, v in org.model_dump().items() if k in table.columns}])
            # Written as SQL: the User model has columns later revisions add.
            people = {name: SimpleNamespace(id=f"user-{name}") for name in ("single", "double", "tokenless", "guest")}
            for name, person in people.items():
                session.execute(text("""
                    INSERT INTO users (id, organization_id, display_name, mail, user_principal_name, user_type,
                        identities, account_enabled, custom_attributes, created_date_time)
                    VALUES (:id, :org, :name, :mail, :mail, 'Member', '[]', true, '{}', CURRENT_TIMESTAMP)"""),
                    {"id": person.id, "org": org.id, "name": name, "mail": f"{name}@before.test"})
            session.add_all([
                ApiToken(id="admin-token", organization_id=org.id, name="a", role="User Administrator", token_hash="1"),
                ApiToken(organization_id=org.id, name="m", role="member", token_hash="2", user_id=people["single"].id),
                ApiToken(organization_id=org.id, name="m", role="member", token_hash="3", user_id=people["double"].id),
                ApiToken(organization_id=org.id, name="g", role="Global Administrator", token_hash="4",
                         user_id=people["double"].id)])
            org_id, guest_id = org.id, people["guest"].id
            inviters = {"by-admin-token": "admin-token", "by-member": people["single"].id,
                        "by-two-roles": people["double"].id, "by-tokenless": people["tokenless"].id,
                        "by-nobody": None}
        with engine.begin() as connection:
            for name, inviter in inviters.items():
                connection.execute(text("""
                    INSERT INTO invitations (id, organization_id, user_id, email, workflow_id, state, invited_by_id,
                        invite_redirect_url, invited_user_type, send_invitation_message, cc_recipients,
                        reset_redemption, group_ids, application_ids, lifetime, link_id, link_token_hash,
                        link_issued_date_time, expires_date_time, consecutive_passcode_failures, created_date_time)
                    VALUES (:id, :org, :user, 'guest@before.test', 'w', 'pending', :inviter, 'https://x.test/',
                        'Guest', false, '[]', false, '["g"]', '[]', 'P30D', :id, :id, CURRENT_TIMESTAMP,
                        CURRENT_TIMESTAMP, 0, CURRENT_TIMESTAMP)"""),
                    {"id": name, "org": org_id, "user": guest_id, "inviter": inviter})
            for name, creator in (("campaign-by-token", "admin-token"), ("campaign-by-unknown", "gone")):
                connection.execute(text("""
                    INSERT INTO campaigns (id, organization_id, display_name, state, rate_per_minute, concurrency,
                        created_by_id, workflow_id, row_count, created_date_time)
                    VALUES (:id, :org, 'c', 'running', 1, 1, :creator, :id, 0, CURRENT_TIMESTAMP)"""),
                    {"id": name, "org": org_id, "creator": creator})

        command.upgrade(alembic_config(database_url), "head")

        with engine.begin() as connection:
            invitations = dict(connection.execute(text("SELECT id, invited_by_role FROM invitations")).all())
            campaigns = dict(connection.execute(text("SELECT id, created_by_role FROM campaigns")).all())
    finally:
        engine.dispose()
    assert invitations == {"by-admin-token": "User Administrator", "by-member": "member",
                           "by-two-roles": None, "by-tokenless": None, "by-nobody": None}
    assert campaigns == {"campaign-by-token": "User Administrator", "campaign-by-unknown": "User Administrator"}
