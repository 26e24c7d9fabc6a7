"""Discovery and JWKS at Entra's paths: the issuer is {FOYER_PUBLIC_URL}/{tenantId}/v2.0, an
unknown tenant is a 404, the key set carries kid and only public parts and says how long it may be
cached, and replicas starting at once settle on one first key."""

import asyncio
import os
import sys

from sqlalchemy import delete
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.openid import SigningKey
from foyer.settings import get_settings
from foyer.usecases.signing_keys import forget_cached_keys
from tests.openid_support import browser, discovery_url, tenant_url


async def test_discovery_names_the_endpoints_at_entras_paths(server, organization_id):
    base = f"{get_settings().public_url}/{organization_id}"
    async with browser() as client:
        answer = await client.get(discovery_url(organization_id))
        assert answer.status_code == 200
        doc = answer.json()
        assert doc["issuer"] == f"{base}/v2.0"
        assert doc["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
        assert doc["token_endpoint"] == f"{base}/oauth2/v2.0/token"
        assert doc["end_session_endpoint"] == f"{base}/oauth2/v2.0/logout"
        assert doc["jwks_uri"] == f"{base}/discovery/v2.0/keys"
        assert doc["userinfo_endpoint"] == f"{base}/openid/userinfo"
        assert doc["code_challenge_methods_supported"] == ["S256"]
        assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
        assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_post", "client_secret_basic", "none"}

        for path in ("/v2.0/.well-known/openid-configuration", "/discovery/v2.0/keys"):
            missing = await client.get(f"{get_settings().public_url}/no-such-tenant{path}")
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"
        token = await client.post(f"{get_settings().public_url}/no-such-tenant/oauth2/v2.0/token",
                                  data={"grant_type": "authorization_code", "code": "x"})
        assert token.status_code == 404 and token.json()["error"] == "invalid_tenant"
        page = await client.get(f"{get_settings().public_url}/no-such-tenant/oauth2/v2.0/authorize")
        assert page.status_code == 404 and "location" not in page.headers


async def test_the_key_set_has_kids_public_parts_only_and_a_cache_lifetime(server, organization_id):
    async with browser() as client:
        answer = await client.get(f"{tenant_url(organization_id)}/discovery/v2.0/keys")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=300"
    keys = answer.json()["keys"]
    assert keys and all(k["kid"] and k["alg"] == "RS256" and k["kty"] == "RSA" and k["use"] == "sig" for k in keys)
    assert not any(part in key for key in keys for part in ("d", "p", "q", "dp", "dq", "qi"))
    async with session_scope() as session:
        stored = (await session.exec(select(SigningKey))).all()
    assert all(row.private_key.startswith("foyer-sealed:v1:") for row in stored)


async def test_replicas_starting_at_once_settle_on_one_first_key(server, organization_id):
    async with session_scope() as session:
        await session.exec(delete(SigningKey))
    forget_cached_keys()
    script = ("import asyncio\nfrom foyer.usecases.signing_keys import current_key_row\n"
              "async def main():\n    print((await current_key_row()).kid)\n"
              "asyncio.run(main())\n")
    processes = [await asyncio.create_subprocess_exec(sys.executable, "-c", script, env=dict(os.environ),
                                                      stdout=asyncio.subprocess.PIPE,
                                                      stderr=asyncio.subprocess.PIPE) for _ in range(4)]
    outputs = [await process.communicate() for process in processes]
    assert all(process.returncode == 0 for process in processes), [err.decode()[-500:] for _, err in outputs]
    kids = {out.decode().strip() for out, _ in outputs}
    async with session_scope() as session:
        rows = (await session.exec(select(SigningKey))).all()
    assert len(kids) == 1 and [row.kid for row in rows] == list(kids)
    async with browser() as client:
        published = (await client.get(f"{tenant_url(organization_id)}/discovery/v2.0/keys")).json()["keys"]
    assert [key["kid"] for key in published] == list(kids)
