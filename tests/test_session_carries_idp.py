"""A session cookie says how its person signed in: the email passcode or the upstream issuer after
a federated sign-in, the second factors done since, and the federation attempt behind it. The MAC
covers all of it, so none of it can be changed or added; cookies of the earlier shapes still read."""

import base64

import pytest

from foyer import sessions
from foyer.security import keyed_digest

pytestmark = pytest.mark.database_independent


def test_the_idp_round_trips_and_is_covered_by_the_mac():
    plain, data = sessions.issue("user-1")
    assert data.idp is None and sessions.read(plain).idp is None
    assert data.methods == (sessions.EMAIL_PASSCODE,)
    federated, data = sessions.issue("user-1", idp="https://idp.partner.example/saml", context_id="attempt-1")
    assert sessions.read(federated) == data and data.idp == "https://idp.partner.example/saml"
    assert data.methods == (sessions.FEDERATED,) and data.context_id == "attempt-1"

    forged_idp = base64.urlsafe_b64encode(b"google.com").decode().rstrip("=")
    user, expires, nonce, _, methods, context, mac = federated.split(".")
    assert sessions.read(f"{user}.{expires}.{nonce}.{forged_idp}.{methods}.{context}.{mac}") is None
    # An idp cannot be added to a passcode session either.
    user, expires, nonce, idp, methods, context, mac = plain.split(".")
    assert idp == "-"
    assert sessions.read(f"{user}.{expires}.{nonce}.{forged_idp}.{methods}.{context}.{mac}") is None
    assert sessions.read(f"{user}.{expires}.{nonce}.!!.{methods}.{context}.{mac}") is None


def test_a_second_factor_is_added_and_cannot_be_forged():
    plain, data = sessions.issue("user-1")
    upgraded, after = sessions.with_method(data, sessions.TOTP)
    assert sessions.read(upgraded) == after
    assert after.methods == (sessions.EMAIL_PASSCODE, sessions.TOTP)
    assert after.expires_at == data.expires_at and after.issued_at == data.issued_at
    user, expires, nonce, idp, _, context, mac = plain.split(".")
    assert sessions.read(f"{user}.{expires}.{nonce}.{idp}.otp+fido2.{context}.{mac}") is None


def test_cookies_of_the_earlier_shapes_still_read():
    payload = f"user-1.{int(sessions.datetime.now(sessions.timezone.utc).timestamp()) + 600}.nonce"
    old = f"{payload}.{keyed_digest('session', payload)}"
    assert sessions.read(old).methods == (sessions.EMAIL_PASSCODE,)
    issuer = base64.urlsafe_b64encode(b"https://idp.partner.example").decode().rstrip("=")
    federated = f"{payload}.{issuer}"
    read = sessions.read(f"{federated}.{keyed_digest('session', federated)}")
    assert read.idp == "https://idp.partner.example" and read.methods == (sessions.FEDERATED,)
