"""An API connector's Basic password and PKCS#12 client certificate (and its password) are stored
encrypted (AES-GCM, key derived from FOYER_SECRET_KEY): the raw columns hold no clear secret, yet
the connector still authenticates with them. Values sealed under a previous key still open while
that key is listed; `foyer db upgrade` re-seals them under the current key. Migration 0012
encrypts the clear values an older version stored, and its downgrade puts them back in clear."""

import base64
import os
import uuid

from sqlalchemy import create_engine, text

from foyer.db import session_scope, sync_url
from foyer.models.sign_up import ApiConnector
from tests.connector_server import call, connector_server

URL = "/v1.0/identity/apiConnectors"
OLD_KEY = "old-key-before-rotation-3f9b1c7e5a2d4f6b8c0e1a3b5d7f9"
PASSWORD = "pa:ss w0rd-Sup3rSecret"


def raw_columns(connector_id: str, database_url: str | None = None) -> dict:
    engine = create_engine(sync_url(database_url or os.environ["FOYER_DATABASE_URL"]))
    try:
        with engine.connect() as connection:
            row = connection.execute(text(
                "SELECT basic_password, certificate_pkcs12, certificate_password FROM api_connectors "
                "WHERE id = :id"), {"id": connector_id}).mappings().one()
            return dict(row)
    finally:
        engine.dispose()


def assert_no_clear(raw: dict, *secrets: str) -> None:
    for column, value in raw.items():
        for secret in secrets:
            assert value is None or secret not in value, f"{column} holds the secret in clear: {value[:80]}"


async def create(api, admin, target_url: str, auth: dict) -> dict:
    response = await api.post(URL, headers=admin, json={
        "displayName": "Encrypted", "targetUrl": target_url, "foyerTimeoutSeconds": 5,
        "authenticationConfiguration": auth})
    assert response.status_code == 201, response.text
    return response.json()


async def test_basic_password_is_not_stored_in_clear(api, admin):
    async with connector_server() as server:
        connector = await create(api, admin, server.url, {
            "@odata.type": "#microsoft.graph.basicAuthentication", "username": "foyer", "password": PASSWORD})
        raw = raw_columns(connector["id"])
        assert raw["basic_password"], "the password is stored (encrypted), it is needed to send"
        assert_no_clear(raw, PASSWORD, base64.b64encode(PASSWORD.encode()).decode())
        assert (await call(connector["id"])).action == "continue"
        [received] = server.requests
    assert received.headers["authorization"] == "Basic " + base64.b64encode(f"foyer:{PASSWORD}".encode()).decode()
    shown = (await api.get(f"{URL}/{connector['id']}", headers=admin)).json()
    assert shown["authenticationConfiguration"]["password"] == "******"


async def test_client_certificate_is_not_stored_in_clear(api, admin, monkeypatch):
    async with connector_server(tls=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", server.ca_file)
        connector = await create(api, admin, server.url, {
            "@odata.type": "#microsoft.graph.pkcs12Certificate",
            "pkcs12Value": server.client_pkcs12, "password": server.client_password})
        raw = raw_columns(connector["id"])
        assert raw["certificate_pkcs12"] and raw["certificate_password"]
        assert_no_clear(raw, server.client_pkcs12[:40], server.client_password)
        shown = (await api.get(f"{URL}/{connector['id']}", headers=admin)).json()
        [certificate] = shown["authenticationConfiguration"]["certificateList"]
        assert certificate["isActive"] is True and certificate["thumbprint"]
        outcome = await call(connector["id"])
        assert outcome.action == "continue", outcome.detail


async def test_sealed_under_a_previous_key_opens_while_listed_and_is_resealed(keys, api, admin):
    from foyer import migrate

    async with connector_server() as server:
        keys(OLD_KEY)
        connector = await create(api, admin, server.url, {
            "@odata.type": "#microsoft.graph.basicAuthentication", "username": "foyer", "password": PASSWORD})
        sealed_old = raw_columns(connector["id"])["basic_password"]

        keys(None)  # old key retired without re-sealing: the password cannot be opened
        refused = await call(connector["id"])
        assert refused.action == "block" and "FOYER_PREVIOUS_SECRET_KEYS" in refused.detail, refused.detail
        assert server.requests == []  # nothing was sent without the password

        keys(None, OLD_KEY)
        assert (await call(connector["id"])).action == "continue"
        migrate.upgrade(os.environ["FOYER_DATABASE_URL"])  # `foyer db upgrade` re-seals
        sealed_new = raw_columns(connector["id"])["basic_password"]
        assert sealed_new != sealed_old

        keys(None)  # now the old key can go
        assert (await call(connector["id"])).action == "continue"
    expected = "Basic " + base64.b64encode(f"foyer:{PASSWORD}".encode()).decode()
    assert [r.headers["authorization"] for r in server.requests] == [expected, expected]


async def test_a_sealed_value_is_bound_to_its_row_and_column(api, admin):
    async with connector_server() as server:
        first = await create(api, admin, server.url, {
            "@odata.type": "#microsoft.graph.basicAuthentication", "username": "a", "password": PASSWORD})
        second = await create(api, admin, server.url, {
            "@odata.type": "#microsoft.graph.basicAuthentication", "username": "b", "password": "other-pw"})
        async with session_scope() as session:
            # Someone with write access to the table copies one row's ciphertext into another.
            row = await session.get(ApiConnector, second["id"])
            row.basic_password = raw_columns(first["id"])["basic_password"]
            session.add(row)
        outcome = await call(second["id"])
        assert outcome.action == "block"
        assert server.requests == []


def _migration_database(tmp_path) -> tuple[str, callable]:
    if os.environ.get("FOYER_TEST_DATABASE") == "postgres":
        import psycopg

        base = os.environ["FOYER_TEST_POSTGRES_URL"]
        schema = f"foyer_mig_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')

        def drop():
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options=-csearch_path%3D{schema}", drop
    return f"sqlite:///{tmp_path / 'migration.db'}", lambda: None


def test_migration_encrypts_clear_values_and_downgrade_restores_them(tmp_path):
    from alembic import command

    from foyer.migrate import alembic_config

    url, drop = _migration_database(tmp_path)
    try:
        config = alembic_config(url)
        command.upgrade(config, "0009")
        engine = create_engine(sync_url(url))
        with engine.begin() as connection:
            org_id = str(uuid.uuid4())
            connection.execute(text(
                "INSERT INTO organizations (id, display_name, verified_domains, created_date_time, "
                "allow_invites_from, domain_list_mode, domain_list, email_otp_enabled, invitation_lifetime, "
                "invitation_reminders, self_service_sign_up_enabled) VALUES (:id, 'Old', '[]', "
                "CURRENT_TIMESTAMP, 'everyone', 'none', '[]', true, 'P30D', '[]', true)"), {"id": org_id})
            for connector_id, password, pkcs12, pkcs12_password in (
                    ("c-basic", PASSWORD, None, None), ("c-cert", None, "UEtDUzEyIGJ5dGVz", "p12-pw"),
                    ("c-sig", None, None, None)):
                connection.execute(text(
                    "INSERT INTO api_connectors (id, organization_id, display_name, target_url, "
                    "authentication_type, basic_username, basic_password, certificate_pkcs12, "
                    "certificate_password, timeout_seconds, created_date_time, modified_date_time) VALUES "
                    "(:id, :org, 'c', 'https://x.example', 'basic', 'u', :pw, :p12, :p12pw, 10, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                    {"id": connector_id, "org": org_id, "pw": password, "p12": pkcs12, "p12pw": pkcs12_password})
        engine.dispose()

        command.upgrade(config, "0012")
        basic, cert, signature = (raw_columns(i, url) for i in ("c-basic", "c-cert", "c-sig"))
        assert_no_clear(basic, PASSWORD)
        assert_no_clear(cert, "UEtDUzEyIGJ5dGVz", "p12-pw")
        assert basic["basic_password"] and cert["certificate_pkcs12"] and cert["certificate_password"]
        assert signature == {"basic_password": None, "certificate_pkcs12": None, "certificate_password": None}
        clear = ApiConnector(id="c-basic", organization_id=org_id, display_name="c", target_url="x",
                             basic_password=basic["basic_password"])
        assert clear.credential("basic_password") == PASSWORD

        command.downgrade(config, "0009")
        assert raw_columns("c-basic", url)["basic_password"] == PASSWORD
        assert raw_columns("c-cert", url) == {"basic_password": None, "certificate_pkcs12": "UEtDUzEyIGJ5dGVz",
                                              "certificate_password": "p12-pw"}
        command.upgrade(config, "head")  # and up again, e.g. after a rollback
        assert_no_clear(raw_columns("c-basic", url), PASSWORD)
    finally:
        drop()
