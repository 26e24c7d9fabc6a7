"""An authorization request whose redirect_uri is not exactly one the app registered (or whose
client_id is unknown) is never redirected anywhere: Foyer shows an error page and issues no code."""

from sqlmodel import func, select

from foyer.db import session_scope
from foyer.models.openid import AuthorizationCode
from tests.factories import make_user
from tests.openid_support import assign, authorize, browser, register_app, signed_in

REGISTERED = "https://app.contoso.example/callback"


async def _codes() -> int:
    async with session_scope() as session:
        return (await session.exec(select(func.count()).select_from(AuthorizationCode))).one()


async def test_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(server, organization_id):
    member = await make_user(organization_id, "Rita Redirect")
    app, _ = await register_app(organization_id, web=[REGISTERED])
    await assign(app, member)
    before = await _codes()
    async with browser() as client:
        signed_in(client, member)
        for uri in ("https://evil.example/callback", REGISTERED + "/", REGISTERED + "?x=1",
                    "https://APP.contoso.example/callback", ""):
            answer = await authorize(client, organization_id, app, uri)
            assert answer.status_code == 400, uri
            assert "location" not in answer.headers
            assert "not one it registered" in answer.text and "evil.example" not in answer.text
        unknown = await authorize(client, organization_id, app, REGISTERED, client_id="no-such-client")
        assert unknown.status_code == 400 and "location" not in unknown.headers
        assert "not registered in this organization" in unknown.text
        # The registered one, exactly, is redirected to (with a code).
        good = await authorize(client, organization_id, app, REGISTERED)
        assert good.status_code == 303 and good.headers["location"].startswith(REGISTERED + "?code=")
    assert await _codes() == before + 1
