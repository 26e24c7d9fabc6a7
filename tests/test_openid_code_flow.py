"""A guest already signed in to Foyer opens a relying party (authlib's Starlette client) and comes
back signed in (single sign-on): the ID token carries Entra's claims, pairwise `sub`, the guest's
#EXT# UPN and app roles; the sign-in is logged and the guest's signInActivity updated; userinfo
answers for the access token."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import Group, GroupMember, User
from foyer.models.openid import SignInLog
from foyer.usecases.openid_claims import issuer
from tests.factories import make_user
from tests.openid_support import assign, browser, relying_party, signed_in, tenant_url


async def test_signed_in_guest_comes_back_to_the_app_with_entra_claims(server, organization_id):
    guest = await make_user(organization_id, "Gita Guest", guest=True)
    async with relying_party(organization_id, group_claims="SecurityGroup") as (rp, app), \
            relying_party(organization_id, name="Other App", assignment_required=False) as (other, other_app):
        await assign(app, guest)
        async with session_scope() as session:
            group = Group(organization_id=organization_id, display_name="Portal guests")
            session.add(group)
            await session.flush()
            session.add(GroupMember(group_id=group.id, user_id=guest.id))
        async with browser(follow_redirects=True) as client:
            signed_in(client, guest)
            answer = await client.get(f"{rp.url}/login")
            assert answer.status_code == 200, answer.text
            claims = answer.json()
            assert str(answer.url).startswith(rp.redirect_uri)

            other_answer = await client.get(f"{other.url}/login")
            assert other_answer.status_code == 200, other_answer.text
            other_claims = other_answer.json()

        assert claims["iss"] == issuer(organization_id)
        assert claims["aud"] == app.app_id
        assert claims["oid"] == guest.id and claims["tid"] == organization_id
        assert claims["preferred_username"] == guest.user_principal_name and "#EXT#" in claims["preferred_username"]
        assert claims["email"] == guest.mail and claims["name"] == "Gita Guest"
        assert claims["roles"] == ["Reader"]
        assert claims["groups"] == [group.id]
        assert claims["acct"] == 1 and claims["idp"] == "mail" and claims["ver"] == "2.0"
        assert claims["amr"] == ["otp"] and isinstance(claims["auth_time"], int) and claims["nonce"]
        # Pairwise: another app sees another sub for the same person (and the same oid).
        assert other_claims["oid"] == guest.id and other_claims["sub"] != claims["sub"]
        assert "roles" not in other_claims and "groups" not in other_claims

        token = rp.last_token
        assert token["token_type"].lower() == "bearer" and token["refresh_token"]
        async with browser() as client:
            info = await client.get(f"{tenant_url(organization_id)}/openid/userinfo",
                                    headers={"Authorization": f"Bearer {token['access_token']}"})
            assert info.status_code == 200, info.text
            assert info.json()["sub"] == claims["sub"] and info.json()["email"] == guest.mail
            # An ID token is not an access token.
            refused = await client.get(f"{tenant_url(organization_id)}/openid/userinfo",
                                       headers={"Authorization": f"Bearer {token['id_token']}"})
            assert refused.status_code == 401

    async with session_scope() as session:
        rows = (await session.exec(select(SignInLog).where(SignInLog.user_id == guest.id)
                                   .order_by(SignInLog.created_date_time))).all()
        stamped = await session.get(User, guest.id)
    assert [(r.app_id, r.error_code, r.is_interactive) for r in rows] == [
        (app.app_id, 0, True), (other_app.app_id, 0, True)]
    assert rows[0].user_principal_name == guest.user_principal_name and rows[0].client_app_used == "Browser"
    assert stamped.last_sign_in_date_time is not None
    assert stamped.last_successful_sign_in_date_time == stamped.last_sign_in_date_time
    assert stamped.last_non_interactive_sign_in_date_time is None
