"""An authorization code past its expiry (5 minutes) is refused (AADSTS70008), and logged."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.openid import AuthorizationCode, SignInLog
from foyer.security import sha256
from tests.factories import make_user
from tests.openid_support import assign, browser, code_for, register_app, signed_in, token_request

REDIRECT = "https://app.contoso.example/callback"


async def test_an_expired_code_is_refused(server, organization_id):
    member = await make_user(organization_id, "Exa Pired")
    app, secret = await register_app(organization_id, web=[REDIRECT])
    await assign(app, member)
    async with browser() as client:
        signed_in(client, member)
        code = await code_for(client, organization_id, app, REDIRECT)
    async with session_scope() as session:
        row = await session.get(AuthorizationCode, sha256(code))
        left = row.expires_date_time.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)
        assert timedelta(seconds=60) <= left <= timedelta(minutes=10)
        await session.exec(update(AuthorizationCode).where(AuthorizationCode.code_hash == sha256(code))
                           .values(expires_date_time=datetime.now(timezone.utc) - timedelta(seconds=1)))
    answer = await token_request(organization_id, {"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": REDIRECT}, auth=(app.app_id, secret))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant" and "AADSTS70008" in answer.json()["error_description"]
    assert "id_token" not in answer.json()
    async with session_scope() as session:
        logged = (await session.exec(select(SignInLog).where(SignInLog.user_id == member.id, SignInLog.error_code != 0))).one()
    assert logged.error_code == 70008 and logged.is_interactive and logged.app_id == app.app_id
