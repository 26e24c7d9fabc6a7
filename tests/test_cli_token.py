"""`foyer db upgrade` and `foyer token create`, run as the console command against the suite's
database (SQLite or PostgreSQL); the printed token then authenticates against the API."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlmodel import select

from foyer.api.main import create_app
from foyer.db import session_scope
from foyer.security import api_token_hash
from foyer.models.token import ApiToken

FOYER = str(Path(sys.executable).parent / "foyer")


def foyer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([FOYER, *args], capture_output=True, text=True, timeout=60,
                          env=os.environ.copy())


async def stored(token: str) -> ApiToken | None:
    async with session_scope() as session:
        return (await session.exec(select(ApiToken).where(
            ApiToken.token_hash == api_token_hash(token)))).first()


async def test_db_upgrade_prints_the_organization_and_token_create_prints_a_working_token(
        organization_id):
    upgraded = foyer("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == organization_id  # idempotent: the same organization

    created = foyer("token", "create", "--name", "ops script", "--role", "Guest Inviter")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("foyer_") and len(token) > 40

    row = await stored(token)
    assert row is not None and row.role == "Guest Inviter" and row.name == "ops script"
    assert row.token_hash != token and token not in row.token_hash

    # ASGITransport runs no lifespan, so this app needs no Temporal for a read.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(temporal_client=None)),
                                 base_url="http://test") as api:
        ok = await api.get("/v1.0/invitations", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200, ok.text
        wrong = await api.get("/v1.0/invitations", headers={"Authorization": f"Bearer {token}x"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "InvalidAuthenticationToken"


async def test_token_create_for_a_user_and_refusals(organization_id, make_member):
    member = await make_member("Tess Token")
    created = foyer("token", "create", "--name", "Tess", "--role", "member", "--user", member.mail)
    assert created.returncode == 0, created.stderr
    row = await stored(created.stdout.strip())
    assert row.user_id == member.id and row.role == "member"

    unknown = foyer("token", "create", "--name", "x", "--role", "Chief Guest Officer")
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert "unknown role 'Chief Guest Officer'" in unknown.stderr
    assert '"Global Administrator"' in unknown.stderr and '"Guest Inviter"' in unknown.stderr

    nobody = foyer("token", "create", "--name", "x", "--role", "member", "--user", "nobody@nowhere.test")
    assert nobody.returncode != 0 and nobody.stdout == ""
    assert "no user with id or mail" in nobody.stderr
