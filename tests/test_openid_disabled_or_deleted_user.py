"""Disabling a user (PATCH accountEnabled=false) revokes their refresh tokens at once and refuses
their next sign-in (AADSTS50057); deleting a user removes their refresh tokens with them."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.openid import RefreshToken, RefreshTokenFamily
from tests.factories import make_user
from tests.openid_support import assign, browser, relying_party, signed_in, tenant_url


async def _families(user_id: str) -> list[RefreshTokenFamily]:
    async with session_scope() as session:
        return list((await session.exec(select(RefreshTokenFamily).where(RefreshTokenFamily.user_id == user_id))).all())


async def test_disabling_a_user_revokes_their_refresh_tokens_at_once(server, api, admin, organization_id):
    member = await make_user(organization_id, "Dee Sabled")
    async with relying_party(organization_id) as (rp, app):
        await assign(app, member)
        async with browser(follow_redirects=True) as client:
            signed_in(client, member)
            assert (await client.get(f"{rp.url}/login")).status_code == 200
            assert [f.revoked_date_time for f in await _families(member.id)] == [None]

            patched = await api.patch(f"/v1.0/users/{member.id}", json={"accountEnabled": False}, headers=admin)
            assert patched.status_code == 204
            families = await _families(member.id)
            assert families[0].revoked_date_time is not None and families[0].revoked_reason == "account disabled"

            refused = await client.get(f"{rp.url}/refresh")
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
            info = await client.get(f"{tenant_url(organization_id)}/openid/userinfo",
                                    headers={"Authorization": f"Bearer {rp.last_token['access_token']}"})
            assert info.status_code == 401 and info.json()["error"] == "invalid_token"
            page = await client.get(f"{rp.url}/login")
            assert page.status_code == 403 and "The account is disabled." in page.text


async def test_deleting_a_user_removes_their_refresh_tokens(server, api, admin, organization_id):
    member = await make_user(organization_id, "Del Eted")
    async with relying_party(organization_id) as (rp, app):
        await assign(app, member)
        async with browser(follow_redirects=True) as client:
            signed_in(client, member)
            assert (await client.get(f"{rp.url}/login")).status_code == 200
            [family] = await _families(member.id)
            deleted = await api.delete(f"/v1.0/users/{member.id}", headers=admin)
            assert deleted.status_code == 204
            assert await _families(member.id) == []
            async with session_scope() as session:
                assert (await session.exec(select(RefreshToken).where(RefreshToken.family_id == family.id))).all() == []
            refused = await client.get(f"{rp.url}/refresh")
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
