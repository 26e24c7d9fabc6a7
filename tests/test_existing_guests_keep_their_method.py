"""A federation added later leaves guests who already redeemed on their method (as Entra does): a
passcode guest at a domain a provider now serves still gets a code at sign-in, while a new invitee
at that domain is sent to the provider. After the admin resets the guest's redemption, discovery
decides again."""

import httpx

from tests.federation_support import sign_in_at_provider
from tests.oidc_idp import oidc_body, oidc_provider  # noqa: F401 (the fixture)
from tests.support import emailed_code, find_user, invite, submit_code, unique_email


async def test_a_passcode_guest_stays_on_the_passcode(api, admin, mail, server, oidc_provider):  # noqa: F811
    body = oidc_body(oidc_provider, oidc_provider.register_client("client_secret_post"))
    domain = body["domains"][0]
    email = unique_email(domain)
    link = (await invite(api, admin, email))["inviteRedeemUrl"]
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        assert (await submit_code(browser, link, challenge, code)).status_code == 303
    assert (await find_user(email)).identities[0]["issuer"] == "mail"

    assert (await api.post("/v1.0/identity/identityProviders", headers=admin, json=body)).status_code == 201
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
        kept = await sign_in_at_provider(browser, server, email)
        assert kept.status_code == 200 and 'name="code"' in kept.text and "continue-to-provider" not in kept.text
        newcomer = await sign_in_at_provider(browser, server, unique_email(domain))
        assert newcomer.status_code == 200 and 'id="continue-to-provider"' in newcomer.text

    reset = await invite(api, admin, email, resetRedemption=True, invitedUser={"id": (await find_user(email)).id})
    assert reset["status"] == "PendingAcceptance"
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
        consent = await browser.get(reset["inviteRedeemUrl"])
        assert 'id="continue-federated"' in consent.text and 'id="send-code"' not in consent.text
