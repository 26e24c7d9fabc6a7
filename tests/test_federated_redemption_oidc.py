"""A guest at a domain a partner's OpenID provider serves (a real provider on 127.0.0.1) redeems
there: consent → the provider → back → Accepted with a federated identity, in the pre-assigned
group and app, signed in to Foyer with the provider remembered — the app opens without another
prompt and its ID token says idp = the provider's issuer. Later sign-ins go to the provider too,
never to a passcode."""

import httpx
from sqlmodel import select

from foyer import sessions
from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import GroupMember
from tests.factories import make_group_and_app
from tests.federation_support import accept_and_go_to_provider, provider_url_in, sign_in_at_provider
from tests.oidc_idp import oidc_body, oidc_provider  # noqa: F401 (the fixture)
from tests.openid_support import relying_party
from tests.support import find_user, invite, unique_email


async def test_redeem_at_the_partner_provider_then_single_sign_on(api, admin, server, organization_id,
                                                                 oidc_provider):  # noqa: F811
    client = oidc_provider.register_client("client_secret_post")
    body = oidc_body(oidc_provider, client)
    created = await api.post("/v1.0/identity/identityProviders", headers=admin, json=body)
    assert created.status_code == 201, created.text
    email = unique_email(body["domains"][0])
    group, _ = await make_group_and_app(organization_id)
    async with relying_party(organization_id) as (rp, app):
        invitation = await invite(api, admin, email, inviteRedirectUrl=f"{rp.url}/login",
                                  foyerPreAssignedGroupIds=[group.id], foyerPreAssignedApplicationIds=[app.id])
        link = invitation["inviteRedeemUrl"]
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            # The passcode is not on offer for this address, even asked for directly.
            refused = await browser.post(f"{link}/passcode", data={"consent": "yes"})
            assert refused.status_code == 400 and 'id="challenge"' not in refused.text

            to_provider = await accept_and_go_to_provider(browser, link)
            assert to_provider.startswith(f"{oidc_provider.issuer}/oauth2/authorize?")
            assert "code_challenge_method=S256" in to_provider and "nonce=" in to_provider
            callback = await oidc_provider.sign_in(to_provider, "partner-sub-1", email=email.upper(),
                                                   email_verified=True, name="Ann Partner")
            back = await browser.get(callback)
            assert back.status_code == 303, back.text
            assert back.headers["location"] == f"{rp.url}/login"
            session = sessions.read(back.cookies.get(sessions.SESSION_COOKIE))
            assert session.user_id == invitation["invitedUser"]["id"] and session.idp == oidc_provider.issuer

            # Single sign-on: the app's sign-in goes through Foyer's OP with no prompt at all.
            start = await browser.get(f"{rp.url}/login")
            authorize = await browser.get(start.headers["location"])
            assert authorize.status_code == 303 and authorize.headers["location"].startswith(rp.redirect_uri)
            claims = (await browser.get(authorize.headers["location"])).json()
            assert claims["idp"] == oidc_provider.issuer and claims["amr"] == ["fed"]
            assert claims["oid"] == invitation["invitedUser"]["id"]

            # The link was used: the callback's answer cannot be replayed.
            again = await browser.get(callback)
            assert again.status_code in (400, 403) and "couldn" in again.text

    user = await find_user(email)
    assert user.external_user_state == "Accepted"
    assert user.identities == [{"signInType": "federated", "issuer": oidc_provider.issuer,
                                "issuerAssignedId": "partner-sub-1"}]
    read = (await api.get(f"/v1.0/users/{user.id}", headers=admin)).json()
    assert read["identities"] == user.identities and read["externalUserState"] == "Accepted"
    async with session_scope() as db:
        assert await db.get(GroupMember, (group.id, user.id)) is not None
        [record] = (await db.exec(select(AuditRecord).where(
            AuditRecord.activity_display_name == "Redeem external user invite",
            AuditRecord.target_id == user.id))).all()
    assert record.details["identityProvider"] == oidc_provider.issuer and record.details["groups"] == [group.id]

    # A later sign-in goes to the provider, and signs in the holder of that identity.
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
        page = await sign_in_at_provider(browser, server, email, "/myaccess")
        assert page.status_code == 200 and 'name="code"' not in page.text
        callback = await oidc_provider.sign_in(provider_url_in(page), "partner-sub-1", email=email,
                                               email_verified=True)
        back = await browser.get(callback)
        assert back.status_code == 303 and back.headers["location"] == "/myaccess"
        session = sessions.read(back.cookies.get(sessions.SESSION_COOKIE))
        assert session.user_id == user.id and session.idp == oidc_provider.issuer

        # Another subject at the same provider with the same address is not that person.
        page = await sign_in_at_provider(browser, server, email)
        callback = await oidc_provider.sign_in(provider_url_in(page), "someone-else", email=email,
                                               email_verified=True)
        refused = await browser.get(callback)
        assert refused.status_code == 403 and "no account here" in refused.text
