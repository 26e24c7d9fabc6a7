"""A session cookie says where its person signed in: no idp for the email passcode, the upstream
issuer after a federated sign-in; the MAC covers it, so it cannot be changed or added."""

import base64

from foyer import sessions


def test_the_idp_round_trips_and_is_covered_by_the_mac():
    plain, data = sessions.issue("user-1")
    assert data.idp is None and sessions.read(plain).idp is None
    federated, data = sessions.issue("user-1", idp="https://idp.partner.example/saml")
    assert sessions.read(federated) == data and data.idp == "https://idp.partner.example/saml"

    forged_idp = base64.urlsafe_b64encode(b"google.com").decode().rstrip("=")
    user, expires, nonce, _, mac = federated.split(".")
    assert sessions.read(f"{user}.{expires}.{nonce}.{forged_idp}.{mac}") is None
    # An idp cannot be added to a passcode session either.
    user, expires, nonce, mac = plain.split(".")
    assert sessions.read(f"{user}.{expires}.{nonce}.{forged_idp}.{mac}") is None
    assert sessions.read(f"{user}.{expires}.{nonce}.!!.{mac}") is None
