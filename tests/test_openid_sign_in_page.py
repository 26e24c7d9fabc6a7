"""A person not signed in to Foyer is sent from the app to Foyer's sign-in page (the address
prefilled from login_hint), signs in with the emailed code and comes back to the app; prompt=login
and max_age ask for a new sign-in even with a session, and auth_time says when it happened;
prompt=none without a session answers login_required to the app."""

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from tests.factories import make_user
from tests.openid_support import assign, authorize, browser, query_of, register_app, relying_party, signed_in
from tests.portal_support import sign_in
from tests.support import onward_url

REDIRECT = "https://app.contoso.example/callback"


def _next_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["next"][0]


async def test_a_person_not_signed_in_signs_in_with_a_code_and_comes_back(server, mail, organization_id):
    guest = await make_user(organization_id, "Nora Session", guest=True)
    async with relying_party(organization_id) as (rp, app):
        await assign(app, guest)
        async with browser(base_url=server) as client:
            start = await client.get(f"{rp.url}/login", params={"login_hint": guest.mail})
            to_foyer = await client.get(start.headers["location"])
            assert to_foyer.status_code == 303
            location = to_foyer.headers["location"]
            assert location.startswith("/signin?") and query_of(location)["login_hint"] == guest.mail
            form = await client.get(location)
            assert form.status_code == 200 and f'value="{guest.mail}"' in form.text
            back = await sign_in(client, mail, guest.mail, next=_next_of(location))
            # A page that refreshes onward (a form's redirect could not reach the app's site).
            assert back.status_code == 200 and onward_url(back) == _next_of(location)
            to_app = await client.get(onward_url(back))
            assert to_app.status_code == 303 and to_app.headers["location"].startswith(rp.redirect_uri + "?code=")
            claims = await client.get(to_app.headers["location"])
        assert claims.status_code == 200, claims.text
        assert claims.json()["oid"] == guest.id and claims.json()["acct"] == 1
        assert abs(claims.json()["auth_time"] - datetime.now(timezone.utc).timestamp()) < 60


async def test_prompt_login_and_max_age_ask_for_a_new_sign_in(server, mail, organization_id):
    member = await make_user(organization_id, "Max Age")
    app, _ = await register_app(organization_id, web=[REDIRECT])
    await assign(app, member)
    async with browser(base_url=server) as client:
        signed_in(client, member, at=datetime.now(timezone.utc) - timedelta(hours=2))
        # A session two hours old does for an app that does not ask...
        plain = await authorize(client, organization_id, app, REDIRECT)
        assert "code=" in plain.headers["location"]
        # ...not for one that wants a sign-in in the last 10 minutes, nor for prompt=login.
        for extra in ({"max_age": "600"}, {"prompt": "login"}):
            answer = await authorize(client, organization_id, app, REDIRECT, **extra)
            assert answer.status_code == 303, extra
            location = answer.headers["location"]
            assert location.startswith("/signin?") and query_of(location)["prompt"] == "login"
            assert "prompt=login" not in _next_of(location)
            # The sign-in page asks again although the browser is signed in.
            form = await client.get(location)
            assert form.status_code == 200 and 'name="email"' in form.text
            # Coming back without signing in again is sent to sign in again.
            again = await client.get(_next_of(location))
            assert again.status_code == 303 and again.headers["location"].startswith("/signin?")
        await sign_in(client, mail, member.mail, next=_next_of(location))
        done = await client.get(_next_of(location))
        assert done.status_code == 303 and done.headers["location"].startswith(REDIRECT + "?code=")


async def test_prompt_none_without_a_session_answers_login_required(server, organization_id):
    app, _ = await register_app(organization_id, web=[REDIRECT])
    async with browser() as client:
        answer = await authorize(client, organization_id, app, REDIRECT, prompt="none", state="quiet")
    found = query_of(answer.headers["location"])
    assert answer.headers["location"].startswith(REDIRECT) and found["error"] == "login_required"
    assert found["state"] == "quiet"
