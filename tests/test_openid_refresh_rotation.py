"""Refresh tokens rotate: each refresh grant answers a new refresh token (and fresh, verified ID
token); a rotated token presented again revokes its whole family, so the newest token stops too.
Refresh grants are logged as non-interactive sign-ins."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import User
from foyer.models.openid import RefreshTokenFamily, SignInLog
from tests.factories import make_user
from tests.openid_support import assign, browser, relying_party, signed_in, token_request


async def test_a_refresh_token_reused_after_rotation_revokes_the_family(server, organization_id):
    member = await make_user(organization_id, "Ray Fresh")
    async with relying_party(organization_id) as (rp, app):
        await assign(app, member)
        async with browser(follow_redirects=True) as client:
            signed_in(client, member)
            first_claims = (await client.get(f"{rp.url}/login")).json()
            first = rp.last_token["refresh_token"]
            refreshed = await client.get(f"{rp.url}/refresh")
            assert refreshed.status_code == 200, refreshed.text
            second = rp.last_token["refresh_token"]
            assert second != first
            claims = refreshed.json()
            assert claims["sub"] == first_claims["sub"] and claims["auth_time"] == first_claims["auth_time"]
            assert claims["roles"] == ["Reader"] and "nonce" not in claims

            reused = await token_request(organization_id, {"grant_type": "refresh_token", "refresh_token": first},
                                         auth=(app.app_id, rp.client.client_secret))
            assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
            assert "AADSTS50173" in reused.json()["error_description"]
            # The newest token of the family is revoked with it.
            after = await client.get(f"{rp.url}/refresh")
            assert after.status_code == 400 and after.json()["error"] == "invalid_grant"

    async with session_scope() as session:
        family = (await session.exec(select(RefreshTokenFamily).where(RefreshTokenFamily.user_id == member.id))).one()
        rows = (await session.exec(select(SignInLog).where(SignInLog.user_id == member.id)
                                   .order_by(SignInLog.created_date_time))).all()
        stamped = await session.get(User, member.id)
    assert family.revoked_reason == "refresh token reused"
    assert [(r.is_interactive, r.error_code) for r in rows] == [(True, 0), (False, 0), (False, 50173), (False, 50173)]
    assert rows[1].client_app_used == "Mobile Apps and Desktop clients"
    naive = lambda moment: moment.replace(tzinfo=None)  # noqa: E731 (SQLite gives naive UTC)
    assert naive(stamped.last_non_interactive_sign_in_date_time) == naive(rows[-1].created_date_time)
    assert naive(stamped.last_successful_sign_in_date_time) == naive(rows[1].created_date_time)
    assert naive(stamped.last_sign_in_date_time) == naive(rows[0].created_date_time)
