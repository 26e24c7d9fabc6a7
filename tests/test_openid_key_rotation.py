"""`foyer keys rotate`: the next key signs from then on, and the retired one stays in JWKS (so
tokens it signed keep verifying at relying parties) until those tokens have expired; then it
leaves the key set and its tokens no longer verify."""

import asyncio
import os
import sys
from datetime import datetime, timedelta, timezone

import pytest
from joserfc.errors import JoseError
from joserfc.jws import extract_compact
from sqlalchemy import update

from foyer.db import session_scope
from foyer.models.openid import SigningKey
from foyer.usecases.signing_keys import TOKEN_LIFETIME, current_key_row, forget_cached_keys
from tests.factories import make_user
from tests.openid_support import assign, browser, relying_party, signed_in, tenant_url


def kid_of(token: str) -> str:
    return extract_compact(token.encode()).protected["kid"]


async def _sign_in(rp, user) -> dict:
    async with browser(follow_redirects=True) as client:
        signed_in(client, user)
        answer = await client.get(f"{rp.url}/login")
        assert answer.status_code == 200, answer.text
    token = dict(rp.last_token)
    token.pop("userinfo", None)
    return token


async def _published(organization_id: str) -> list[str]:
    async with browser() as client:
        return [k["kid"] for k in (await client.get(f"{tenant_url(organization_id)}/discovery/v2.0/keys")).json()["keys"]]


async def test_rotation_keeps_old_tokens_verifiable_until_they_expire(server, organization_id):
    member = await make_user(organization_id, "Rob Tation")
    async with relying_party(organization_id) as (rp, app):
        await assign(app, member)
        old = await _sign_in(rp, member)
        old_kid = kid_of(old["id_token"])

        rotated = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "foyer", "keys", "rotate", env=dict(os.environ),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await rotated.communicate()
        assert rotated.returncode == 0, err.decode()
        assert f"retired {old_kid}" in out.decode()
        new_kid = (await current_key_row()).kid
        assert new_kid != old_kid and f"signing with {new_kid}" in out.decode()
        forget_cached_keys()  # this API process would notice within CACHE_SECONDS; don't wait for it

        async with session_scope() as session:
            retired = await session.get(SigningKey, old_kid)
        assert retired.retired_date_time is not None
        unpublish = retired.unpublish_after.replace(tzinfo=timezone.utc)
        assert unpublish >= datetime.now(timezone.utc) + TOKEN_LIFETIME - timedelta(seconds=5)

        new = await _sign_in(rp, member)
        assert kid_of(new["id_token"]) == new_kid
        assert set(await _published(organization_id)) >= {old_kid, new_kid}
        # The relying party (which cached the set before the rotation) verifies both.
        assert (await rp.verify(old))["oid"] == member.id
        assert (await rp.verify(new))["oid"] == member.id

        # Time passes (the clock moved by writing the column): every token of the old key has
        # expired, and the key leaves the set.
        async with session_scope() as session:
            await session.exec(update(SigningKey).where(SigningKey.kid == old_kid)
                               .values(unpublish_after=datetime.now(timezone.utc) - timedelta(seconds=1)))
        forget_cached_keys()
        assert old_kid not in await _published(organization_id)
    async with relying_party(organization_id) as (fresh, _):
        fresh.client.client_id = app.app_id
        with pytest.raises(JoseError):
            await fresh.verify(old)
        assert (await fresh.verify(new))["oid"] == member.id
