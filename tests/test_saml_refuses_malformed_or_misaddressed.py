"""verified_identity refuses, with a code and never a pysaml2 error: what is not base64, not XML,
not a Response, a DTD (entity expansion), another issuer, another ACS (Destination, Recipient), a
NameID that is not persistent; and answers nothing once every certificate of the federation has
expired."""

import base64
from datetime import datetime, timedelta, timezone

import pytest

from tests.saml_idp import SigningKey
from tests.saml_support import idp_for, make_federation, refusal, requested

BOMB = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;</samlp:Response>')


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("answer, code", [
    ("not base64 !", "invalidResponse"),
    (b64("not xml"), "invalidResponse"),
    (b64("<html/>"), "invalidResponse"),
    (b64(BOMB), "invalidResponse"),
    ("", "invalidResponse"),
])
async def test_unreadable_answers(organization_id, answer, code):
    async with idp_for(organization_id) as idp:
        federation = await make_federation(organization_id, idp)
        request_id = await requested(organization_id, federation)
        assert await refusal(federation, answer, request_id) == code


@pytest.mark.parametrize("options, code", [
    ({"issuer": "https://evil.example/idp"}, "wrongIssuer"),
    ({"destination": "https://evil.example/acs"}, "wrongDestination"),
    ({"recipient": "https://evil.example/acs"}, "wrongDestination"),
    ({"name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}, "nameIdNotPersistent"),
    ({"sign": "response", "issued_at": datetime.now(timezone.utc) - timedelta(days=3)}, "expired"),
])
async def test_misaddressed_answers(organization_id, options, code):
    async with idp_for(organization_id) as idp:
        federation = await make_federation(organization_id, idp)
        request_id = await requested(organization_id, federation)
        assert await refusal(federation, idp.response(request_id, **options), request_id) == code


async def test_expired_certificate_is_no_longer_trusted(organization_id):
    expired = SigningKey(not_after=datetime.now(timezone.utc) - timedelta(minutes=5))
    async with idp_for(organization_id) as idp:
        idp.keys, idp.sign_with = [expired], expired
        federation = await make_federation(organization_id, idp)
        request_id = await requested(organization_id, federation)
        assert await refusal(federation, idp.response(request_id), request_id) == "certificateExpired"
