"""What a relying party's own verification (authlib, from the discovery document and JWKS) refuses:
an ID token for another app (audience), one from another tenant (issuer), and one whose signature
was altered. Foyer's userinfo refuses an altered access token too."""

import uuid

import pytest
from joserfc.errors import JoseError

from foyer.db import session_scope
from foyer.models.directory import Application, AppRoleAssignment, Organization
from tests.factories import make_user, user_row
from tests.openid_support import (
    assign, browser, code_for, register_app, relying_party, signed_in, tenant_url, token_request,
)

REDIRECT = "https://other.contoso.example/callback"


def _altered(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[10] != "A" else "B")
    return ".".join([header, payload, signature[:10] + flipped + signature[11:]])


async def _tokens(organization_id: str, app: Application, secret: str, user) -> dict:
    async with browser() as client:
        signed_in(client, user)
        code = await code_for(client, organization_id, app, REDIRECT, nonce=None)
    answer = await token_request(organization_id, {"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": REDIRECT}, auth=(app.app_id, secret))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_token_for_another_app_is_refused_by_the_relying_party(server, organization_id):
    member = await make_user(organization_id, "Audi Ence")
    other, secret = await register_app(organization_id, web=[REDIRECT], name="Other App")
    await assign(other, member)
    tokens = await _tokens(organization_id, other, secret, member)
    async with relying_party(organization_id) as (rp, _):
        with pytest.raises(JoseError):
            await rp.verify(tokens)
    async with relying_party(organization_id) as (rp, _):
        rp.client.client_id = other.app_id  # the same token verifies for the app it was issued to
        assert (await rp.verify(tokens))["aud"] == other.app_id


async def test_a_token_from_another_tenant_is_refused_by_the_relying_party(server, organization_id):
    async with session_scope() as session:
        elsewhere = Organization(display_name="Elsewhere " + uuid.uuid4().hex[:6],
                                 verified_domains=[{"name": "elsewhere.example", "isDefault": True}])
        session.add(elsewhere)
    stranger = user_row(elsewhere.id, "Stan Ger")
    async with session_scope() as session:
        session.add(stranger)
    app, secret = await register_app(elsewhere.id, web=[REDIRECT])
    async with session_scope() as session:
        session.add(AppRoleAssignment(application_id=app.id, principal_id=stranger.id))
    tokens = await _tokens(elsewhere.id, app, secret, stranger)
    async with relying_party(organization_id) as (rp, _):
        rp.client.client_id = app.app_id  # same audience, but this RP trusts the first tenant's issuer
        with pytest.raises(JoseError):
            await rp.verify(tokens)


async def test_an_altered_signature_is_refused(server, organization_id):
    member = await make_user(organization_id, "Al Tered")
    async with relying_party(organization_id) as (rp, app):
        await assign(app, member)
        async with browser(follow_redirects=True) as client:
            signed_in(client, member)
            assert (await client.get(f"{rp.url}/login")).status_code == 200
        tokens = dict(rp.last_token)
        tokens.pop("userinfo", None)
        verified = await rp.verify(tokens)
        assert verified["oid"] == member.id and verified["acct"] == 0  # a member, not a guest
        with pytest.raises(JoseError):
            await rp.verify({**tokens, "id_token": _altered(tokens["id_token"])})
    async with browser() as client:
        refused = await client.get(f"{tenant_url(organization_id)}/openid/userinfo",
                                   headers={"Authorization": f"Bearer {_altered(tokens['access_token'])}"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
