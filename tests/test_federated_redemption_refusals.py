"""What the provider says must fit the invitation, or nothing is redeemed, and the page says why:
another address than invited, an address the provider has not verified, a cancelled sign-in, the
answer taken to another browser, a provider that is down (a clear page, and no passcode offered in
its place)."""

import httpx

from tests.federation_support import accept_and_go_to_provider
from tests.oidc_idp import oidc_body, oidc_provider  # noqa: F401 (the fixture)
from tests.support import find_user, invite, unique_email


async def _partner(api, admin, provider) -> str:
    body = oidc_body(provider, provider.register_client("client_secret_post"))
    created = await api.post("/v1.0/identity/identityProviders", headers=admin, json=body)
    assert created.status_code == 201, created.text
    return body["domains"][0]


async def _still_pending(email: str) -> None:
    user = await find_user(email)
    assert user.external_user_state == "PendingAcceptance" and user.identities == []


async def test_another_or_unverified_address_is_refused(api, admin, server, oidc_provider):  # noqa: F811
    domain = await _partner(api, admin, oidc_provider)
    email = unique_email(domain)
    link = (await invite(api, admin, email))["inviteRedeemUrl"]
    for sub, claims, says in (
            ("other", {"email": unique_email(domain), "email_verified": True}, "but this is for"),
            ("unverified", {"email": email, "email_verified": False}, "has not verified"),
            ("silent", {"email_verified": True}, "did not tell us your email")):
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            to_provider = await accept_and_go_to_provider(browser, link)
            back = await browser.get(await oidc_provider.sign_in(to_provider, sub, **claims))
            assert back.status_code == 403 and says in back.text, (sub, back.text)
            assert 'id="send-code"' not in back.text and "passcode" not in back.text
            assert back.cookies.get("foyer_session") is None
        await _still_pending(email)

    # The invitation still works for the right person afterwards.
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
        to_provider = await accept_and_go_to_provider(browser, link)
        back = await browser.get(await oidc_provider.sign_in(to_provider, "right", email=email, email_verified=True))
        assert back.status_code == 303
    assert (await find_user(email)).external_user_state == "Accepted"


async def test_cancelled_and_other_browser(api, admin, server, oidc_provider):  # noqa: F811
    domain = await _partner(api, admin, oidc_provider)
    email = unique_email(domain)
    link = (await invite(api, admin, email))["inviteRedeemUrl"]
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
        to_provider = await accept_and_go_to_provider(browser, link)
        cancelled = await browser.get(await oidc_provider.sign_in(to_provider, "ann", deny=True))
        assert cancelled.status_code == 403 and "cancelled" in cancelled.text

        to_provider = await accept_and_go_to_provider(browser, link)
        callback = await oidc_provider.sign_in(to_provider, "ann", email=email, email_verified=True)
    # The answer opened in another browser (say, a link sent to someone) is not the guest's.
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as elsewhere:
        taken = await elsewhere.get(callback)
        assert taken.status_code == 400 and "another browser" in taken.text
    await _still_pending(email)


async def test_provider_down_gets_a_clear_page_and_no_passcode(api, admin, server):
    from foyer.usecases.federation_oidc import forget_cached_documents
    from tests.oidc_idp import oidc_idp

    with oidc_idp() as provider:
        domain = await _partner(api, admin, provider)
        email = unique_email(domain)
        link = (await invite(api, admin, email))["inviteRedeemUrl"]
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            to_provider = await accept_and_go_to_provider(browser, link)
            callback = await provider.sign_in(to_provider, "ann", email=email, email_verified=True)
    # The provider went down between the sign-in there and the way back: the code cannot be
    # exchanged.
    async with httpx.AsyncClient(follow_redirects=False, timeout=30, cookies=browser.cookies) as browser:
        back = await browser.get(callback)
        assert back.status_code == 503 and "could not be reached" in back.text, back.text
        assert 'id="send-code"' not in back.text and "passcode" not in back.text
        # Still down, and Foyer has to read its discovery document again (a restart, an hour).
        forget_cached_documents()
        consent = await browser.get(link)
        assert 'id="continue-federated"' in consent.text
        page = await browser.post(f"{link}/federated", data={"consent": "yes"})
        assert page.status_code == 503 and "could not be reached" in page.text, page.text
        assert 'id="send-code"' not in page.text
        passcode = await browser.post(f"{link}/passcode", data={"consent": "yes"})
        assert passcode.status_code == 400 and 'name="code"' not in passcode.text
    await _still_pending(email)
