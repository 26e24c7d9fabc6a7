"""Confidential clients (web redirect URIs) authenticate with their secret, by HTTP Basic
(client_secret_basic) or in the form (client_secret_post): a wrong or missing secret is
invalid_client (401), logged, and does not use up the code."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.openid import SignInLog
from foyer.usecases.openid_clients import client_secret_hash, client_secret_matches, new_client_secret
from tests.factories import make_user
from tests.openid_support import assign, browser, code_for, register_app, signed_in, token_request

REDIRECT = "https://app.contoso.example/callback"


def test_client_secrets_are_kept_as_digests():
    text, digest = new_client_secret()
    assert len(text) >= 40 and text not in digest
    assert digest == client_secret_hash(text) and client_secret_matches(text, digest)
    assert not client_secret_matches(text + "x", digest) and not client_secret_matches(text, "")


async def test_a_wrong_client_secret_is_refused_and_logged(server, organization_id):
    member = await make_user(organization_id, "Wes Wrong")
    app, secret = await register_app(organization_id, web=[REDIRECT])
    await assign(app, member)
    async with browser() as client:
        signed_in(client, member)
        code = await code_for(client, organization_id, app, REDIRECT)
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}

    basic = await token_request(organization_id, exchange, auth=(app.app_id, secret + "x"))
    assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"
    assert basic.headers["www-authenticate"] == "Basic" and "AADSTS7000215" in basic.json()["error_description"]
    posted = await token_request(organization_id, {**exchange, "client_id": app.app_id, "client_secret": "nope"})
    assert posted.status_code == 401 and posted.json()["error"] == "invalid_client"
    missing = await token_request(organization_id, {**exchange, "client_id": app.app_id})
    assert missing.status_code == 401 and "AADSTS7000218" in missing.json()["error_description"]
    other_client = await token_request(organization_id, exchange, auth=("not-a-client", secret))
    assert other_client.status_code == 401 and other_client.json()["error"] == "invalid_client"

    # The code was not used up by the refused requests: the right secret (in the form) gets tokens.
    good = await token_request(organization_id, {**exchange, "client_id": app.app_id, "client_secret": secret})
    assert good.status_code == 200, good.text
    async with session_scope() as session:
        codes = (await session.exec(select(SignInLog.error_code).where(SignInLog.user_id == member.id)
                                    .order_by(SignInLog.created_date_time))).all()
    assert codes == [0, 7000215, 7000215, 7000218]


async def test_a_confidential_client_refreshes_only_with_its_secret(server, organization_id):
    member = await make_user(organization_id, "Ref Resh")
    app, secret = await register_app(organization_id, web=[REDIRECT])
    await assign(app, member)
    async with browser() as client:
        signed_in(client, member)
        code = await code_for(client, organization_id, app, REDIRECT)
    tokens = await token_request(organization_id, {"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": REDIRECT}, auth=(app.app_id, secret))
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]}
    without = await token_request(organization_id, {**refresh, "client_id": app.app_id})
    assert without.status_code == 401 and without.json()["error"] == "invalid_client"
    wrong = await token_request(organization_id, refresh, auth=(app.app_id, "wrong"))
    assert wrong.status_code == 401
    good = await token_request(organization_id, {**refresh, "client_id": app.app_id, "client_secret": secret})
    assert good.status_code == 200 and good.json()["refresh_token"] != refresh["refresh_token"]
