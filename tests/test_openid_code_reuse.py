"""An authorization code used twice: the second exchange fails and revokes the refresh-token family
the first one started (RFC 6749 §4.1.2), and the failure is in the sign-in log."""

import asyncio

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.openid import RefreshTokenFamily, SignInLog
from tests.factories import make_user
from tests.openid_support import assign, browser, code_for, register_app, signed_in, token_request

REDIRECT = "https://app.contoso.example/callback"


async def test_a_code_used_twice_fails_and_revokes_what_the_first_use_issued(server, organization_id):
    member = await make_user(organization_id, "Cody Reuse")
    app, secret = await register_app(organization_id, web=[REDIRECT])
    await assign(app, member)
    async with browser() as client:
        signed_in(client, member)
        code = await code_for(client, organization_id, app, REDIRECT)
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    first = await token_request(organization_id, exchange, auth=(app.app_id, secret))
    assert first.status_code == 200, first.text
    refresh = first.json()["refresh_token"]

    second = await token_request(organization_id, exchange, auth=(app.app_id, secret))
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant" and "AADSTS54005" in second.json()["error_description"]
    assert second.headers["cache-control"] == "no-store"

    refused = await token_request(organization_id, {"grant_type": "refresh_token", "refresh_token": refresh},
                                  auth=(app.app_id, secret))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    async with session_scope() as session:
        family = (await session.exec(select(RefreshTokenFamily).where(RefreshTokenFamily.user_id == member.id))).one()
        codes = (await session.exec(select(SignInLog.error_code).where(SignInLog.user_id == member.id)
                                    .order_by(SignInLog.created_date_time))).all()
    assert family.revoked_date_time is not None and family.revoked_reason == "authorization code reused"
    assert codes == [0, 54005, 50173]


async def test_of_two_exchanges_at_once_exactly_one_gets_tokens(server, organization_id):
    member = await make_user(organization_id, "Connie Current")
    app, secret = await register_app(organization_id, web=[REDIRECT])
    await assign(app, member)
    async with browser() as client:
        signed_in(client, member)
        code = await code_for(client, organization_id, app, REDIRECT)
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    answers = await asyncio.gather(*(token_request(organization_id, exchange, auth=(app.app_id, secret))
                                     for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 400, 400], [a.text for a in answers]
    async with session_scope() as session:
        family = (await session.exec(select(RefreshTokenFamily).where(RefreshTokenFamily.user_id == member.id))).one()
    # The losers revoked what the winner issued: a code presented twice is treated as stolen.
    assert family.revoked_reason == "authorization code reused"
