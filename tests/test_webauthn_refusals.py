"""The WebAuthn use cases (foyer.usecases.mfa) with a software authenticator: a registration and
an authentication that verify (the signature counter kept, existing credentials excluded and
allowed), and what they refuse — a challenge used already, expired, of another person or another
ceremony; an answer made for another origin or relying party; a credential not registered to the
person; the same credential twice."""

from datetime import timedelta

import pytest
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import User
from foyer.models.mfa import AuthenticationMethod, WebAuthnChallenge
from foyer.usecases import mfa
from foyer.usecases.mfa import MethodRefused
from tests.webauthn_support import SoftAuthenticator

RP_ID, ORIGIN = "foyer.example", "https://foyer.example"


async def begin_registration(user: User) -> dict:
    async with session_scope() as session:
        return await mfa.begin_registration(session, user, RP_ID, "Contoso")


async def finish_registration(user: User, credential: dict, origin: str = ORIGIN, rp_id: str = RP_ID):
    async with session_scope() as session:
        return await mfa.finish_registration(session, user, credential, origin, rp_id)


async def begin_authentication(user: User) -> dict:
    async with session_scope() as session:
        return await mfa.begin_authentication(session, user, RP_ID)


async def finish_authentication(user: User, credential: dict, origin: str = ORIGIN, rp_id: str = RP_ID):
    async with session_scope() as session:
        return await mfa.finish_authentication(session, user, credential, origin, rp_id)


async def refused(call, *args, **kwargs) -> str:
    with pytest.raises(MethodRefused) as caught:
        await call(*args, **kwargs)
    return caught.value.message


async def test_registration_and_authentication_verify(make_member):
    member = await make_member("Pia Passkey")
    key = SoftAuthenticator()
    options = await begin_registration(member)
    assert options["rp"] == {"id": RP_ID, "name": "Contoso"}
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["excludeCredentials"] == []
    method = await finish_registration(member, key.create(options, ORIGIN))
    assert (method.kind, method.sign_count, method.transports) == ("fido2", 0, ["internal"])
    assert method.confirmed_date_time is not None and method.aaguid == "00000000-0000-0000-0000-000000000000"

    again = await begin_registration(member)
    assert [c["id"] for c in again["excludeCredentials"]] == [method.credential_id]

    for count in (1, 2):
        options = await begin_authentication(member)
        assert [c["id"] for c in options["allowCredentials"]] == [method.credential_id]
        used = await finish_authentication(member, key.get(options, ORIGIN))
        assert used.id == method.id and used.sign_count == count and used.last_used_date_time is not None

    async with session_scope() as session:
        assert [m.id for m in await mfa.registered_methods(session, member.id)] == [method.id]
        assert (await mfa.delete_method(session, member.id, method.id)).id == method.id
    assert "no passkey" in await refused(begin_authentication, member)


async def test_challenges_are_single_use_in_time_and_their_own(make_member):
    member, other = await make_member("Cai Challenge"), await make_member("Oli Other")
    key = SoftAuthenticator()

    options = await begin_registration(member)
    answer = key.create(options, ORIGIN)
    await finish_registration(member, answer)
    assert "already used" in await refused(finish_registration, member, answer)

    # Another person cannot finish a ceremony begun for this one.
    options = await begin_registration(member)
    assert "not started here" in await refused(finish_registration, other, SoftAuthenticator().create(options, ORIGIN))

    # An authentication answer is not a registration's, nor the other way round.
    options = await begin_authentication(member)
    assert "not started here" in await refused(finish_registration, member, {
        **key.create({"rp": {"id": RP_ID}, "challenge": options["challenge"]}, ORIGIN)})

    # Expired.
    options = await begin_authentication(member)
    async with session_scope() as session:
        row = (await session.exec(select(WebAuthnChallenge).where(
            WebAuthnChallenge.challenge == options["challenge"]))).one()
        row.expires_date_time -= timedelta(minutes=6)
        session.add(row)
    assert "expired" in await refused(finish_authentication, member, key.get(options, ORIGIN))

    # A made-up challenge.
    assert "not started here" in await refused(finish_authentication, member, key.get(
        {"rpId": RP_ID, "challenge": "bm90LWEtY2hhbGxlbmdl"}, ORIGIN))


async def test_wrong_origin_relying_party_and_unknown_credentials(make_member):
    member = await make_member("Wren Wrong")
    key = SoftAuthenticator()
    options = await begin_registration(member)
    assert "could not be registered" in await refused(
        finish_registration, member, key.create(options, "https://evil.example"))
    # The challenge was spent by the refused answer.
    assert "already used" in await refused(finish_registration, member, key.create(options, ORIGIN))

    options = await begin_registration(member)
    assert "could not be registered" in await refused(
        finish_registration, member, key.create({**options, "rp": {"id": "evil.example"}}, ORIGIN))

    await finish_registration(member, key.create(await begin_registration(member), ORIGIN))
    # The same credential again (for this person or another) is refused.
    options = await begin_registration(member)
    assert "registered already" in await refused(finish_registration, member, key.create(options, ORIGIN))

    options = await begin_authentication(member)
    assert "could not be checked" in await refused(
        finish_authentication, member, key.get(options, "https://evil.example"))

    stranger = SoftAuthenticator()
    options = await begin_authentication(member)
    assert "not registered for you" in await refused(finish_authentication, member, stranger.get(options, ORIGIN))

    # A replayed counter (a cloned key) is refused too.
    options = await begin_authentication(member)
    good = key.get(options, ORIGIN)
    await finish_authentication(member, good)
    key.sign_count -= 1
    options = await begin_authentication(member)
    assert "could not be checked" in await refused(finish_authentication, member, key.get(options, ORIGIN))

    async with session_scope() as session:
        rows = (await session.exec(select(AuthenticationMethod).where(
            AuthenticationMethod.user_id == member.id))).all()
        assert len(rows) == 1 and rows[0].sign_count == 2
