"""PKCE (RFC 7636): S256 only (plain refused), required for public clients (spa and publicClient
redirect URIs, which have no secret), and a verifier that does not match its challenge fails."""

from tests.factories import make_user
from tests.openid_support import (
    assign, authorize, browser, code_for, pkce_pair, query_of, register_app, signed_in, token_request,
)

SPA = "http://localhost:5173/auth"
WEB = "https://app.contoso.example/callback"


async def _public_app(organization_id, user):
    app, _ = await register_app(organization_id, spa=[SPA], secret=False)
    await assign(app, user)
    return app


async def test_a_public_client_without_pkce_is_refused(server, organization_id):
    member = await make_user(organization_id, "Pia Public")
    app = await _public_app(organization_id, member)
    async with browser() as client:
        signed_in(client, member)
        answer = await authorize(client, organization_id, app, SPA, state="s1")
    assert answer.status_code == 303
    found = query_of(answer.headers["location"])
    assert found["error"] == "invalid_request" and "PKCE" in found["error_description"] and found["state"] == "s1"
    assert "code" not in found


async def test_plain_pkce_is_refused(server, organization_id):
    member = await make_user(organization_id, "Pla In")
    app = await _public_app(organization_id, member)
    async with browser() as client:
        signed_in(client, member)
        verifier, _ = pkce_pair()
        answer = await authorize(client, organization_id, app, SPA, code_challenge=verifier[:43],
                                 code_challenge_method="plain")
    found = query_of(answer.headers["location"])
    assert found["error"] == "invalid_request" and "S256" in found["error_description"]


async def test_a_verifier_that_does_not_match_fails_and_the_right_one_works_without_a_secret(server, organization_id):
    member = await make_user(organization_id, "Vera Verifier")
    app = await _public_app(organization_id, member)
    verifier, challenge = pkce_pair()
    other, _ = pkce_pair()
    async with browser() as client:
        signed_in(client, member)
        code = await code_for(client, organization_id, app, SPA, code_challenge=challenge,
                              code_challenge_method="S256")
        good_code = await code_for(client, organization_id, app, SPA, code_challenge=challenge,
                                   code_challenge_method="S256")
    wrong = await token_request(organization_id, {"grant_type": "authorization_code", "code": code,
                                                  "redirect_uri": SPA, "client_id": app.app_id,
                                                  "code_verifier": other})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant" and "code_verifier" in wrong.json()["error_description"]
    missing = await token_request(organization_id, {"grant_type": "authorization_code", "code": good_code,
                                                    "redirect_uri": SPA, "client_id": app.app_id})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    # A code is single-use even when its exchange failed: a fresh one with the right verifier works.
    async with browser() as client:
        signed_in(client, member)
        fresh = await code_for(client, organization_id, app, SPA, code_challenge=challenge,
                               code_challenge_method="S256")
    right = await token_request(organization_id, {"grant_type": "authorization_code", "code": fresh,
                                                  "redirect_uri": SPA, "client_id": app.app_id,
                                                  "code_verifier": verifier})
    assert right.status_code == 200, right.text
    assert right.json()["id_token"] and right.json()["refresh_token"]


async def test_a_confidential_client_may_add_pkce_and_must_then_match(server, organization_id):
    member = await make_user(organization_id, "Con Fidential")
    app, secret = await register_app(organization_id, web=[WEB])
    await assign(app, member)
    verifier, challenge = pkce_pair()
    async with browser() as client:
        signed_in(client, member)
        code = await code_for(client, organization_id, app, WEB, code_challenge=challenge, code_challenge_method="S256")
    wrong = await token_request(organization_id, {"grant_type": "authorization_code", "code": code,
                                                  "redirect_uri": WEB, "code_verifier": pkce_pair()[0]},
                                auth=(app.app_id, secret))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
