"""RP-initiated logout: with an id_token_hint and a registered post_logout_redirect_uri, Foyer
ends its session (the cookie) and goes back with `state`; an unregistered return address is never
followed; a hint Foyer did not sign is refused."""

from tests.factories import make_user
from tests.openid_support import assign, browser, relying_party, signed_in, tenant_url


async def test_logout_ends_the_session_and_returns_to_a_registered_address(server, organization_id):
    member = await make_user(organization_id, "Lou Gout")
    async with relying_party(organization_id) as (rp, app):
        await assign(app, member)
        async with browser(follow_redirects=True) as client:
            signed_in(client, member)
            assert (await client.get(f"{rp.url}/login")).status_code == 200
            id_token = rp.last_token["id_token"]
            logout = f"{tenant_url(organization_id)}/oauth2/v2.0/logout"

            unregistered = await client.get(logout, params={"id_token_hint": id_token,
                                                            "post_logout_redirect_uri": "https://evil.example/"},
                                            follow_redirects=False)
            assert unregistered.status_code == 400 and "location" not in unregistered.headers
            assert 'foyer_session=""' in unregistered.headers["set-cookie"]

            signed_in(client, member)
            forged = id_token[:-4] + ("AAAA" if not id_token.endswith("AAAA") else "BBBB")
            bad = await client.get(logout, params={"id_token_hint": forged}, follow_redirects=False)
            assert bad.status_code == 400

            answer = await client.get(logout, params={"id_token_hint": id_token, "state": "bye",
                                                      "post_logout_redirect_uri": rp.redirect_uri},
                                      follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"] == f"{rp.redirect_uri}?state=bye"
            assert 'foyer_session=""' in answer.headers["set-cookie"]
            assert client.cookies.get("foyer_session") is None
            # Signed out: the next sign-in goes to Foyer's sign-in page.
            again = await client.get(f"{rp.url}/login", follow_redirects=False)
            to_foyer = await client.get(again.headers["location"], follow_redirects=False)
            assert to_foyer.headers["location"].startswith("/signin?")
