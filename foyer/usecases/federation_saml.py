"""SAML 2.0 direct federation, the service provider's side (pysaml2, signatures checked by the
xmlsec1 program): the AuthnRequest Foyer sends a partner's identity provider, the verification of
the Response it posts back, and Foyer's own SP metadata.

As Entra: the AuthnRequest is not signed and goes over HTTP-Redirect to the federation's
passiveSignInUri; the Response comes over HTTP-POST to the one ACS (federation.saml_acs_url); its
audience is the organization's tenanted entity id (federation.sp_entity_id); its NameID must be
persistent; the address is the `emailaddress` claim (or `email` / `mail`).

Why each step of `verified_identity`, in order:
1. The XML is read with defusedxml (no DTD, no entities) and its shape checked before anything
   trusts it: a Response holding exactly one Assertion, no encrypted assertion, no ID twice, and
   signatures only directly on the Response or on the Assertion. That shape is what the signature
   wrapping attacks need to break (a second assertion, a signed one moved aside, an ID repeated),
   so they are refused here, before a signature is even looked at.
2. pysaml2 verifies: the signature of the Response or of the Assertion (one is required), with only
   the federation's own certificates (an IdP metadata document built in memory from them; a
   certificate embedded in the message is never used), the reference pointing at the signed
   element itself; the InResponseTo of the request this browser's attempt sent; the Destination;
   the time conditions; the audience. Its configuration is built here, in memory; the temporary
   files it writes for xmlsec1 are deleted as it closes them.
3. Foyer then reads only the assertion pysaml2 returned (the verified one) and checks what pysaml2
   is lenient about: the issuers, an audience restriction naming Foyer, a bearer confirmation for
   this ACS and request, a persistent NameID.
4. The assertion's ID is recorded (saml_assertions_seen, unique per federation) in the caller's
   transaction, so the same assertion a second time is a replay.
Every failure, pysaml2's included, is raised as FederationRefused with a code.
"""

import asyncio
import base64
import binascii
import logging
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import defusedxml.ElementTree as safe_xml
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from defusedxml import DefusedXmlException
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, md, samlp
from saml2 import xmldsig as ds
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.response import StatusError, UnsolicitedResponse
from saml2.saml import NAMEID_FORMAT_PERSISTENT, SCM_BEARER
from saml2.sigver import MissingKey, SigverError
from saml2.validate import ResponseLifetimeExceed, ToEarly
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete

from foyer.models.base import new_id, utcnow
from foyer.models.federation import FederationConfiguration, SamlAssertionSeen
from foyer.usecases.federation import FederationRefused, VerifiedIdentity, saml_acs_url, sp_entity_id

log = logging.getLogger(__name__)

XMLSEC_BINARY = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"
# How far the partner's clock may be from Foyer's (pysaml2's accepted_time_diff).
CLOCK_SKEW = timedelta(minutes=3)
# A SAML response is a few kilobytes; anything this large is not one.
MAX_RESPONSE_BYTES = 512 * 1024

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DSIG = "http://www.w3.org/2000/09/xmldsig#"

CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
EMAIL_CLAIMS = (f"{CLAIMS}emailaddress", "email", "mail", "emailaddress", "urn:oid:0.9.2342.19200300.100.1.3")
GIVEN_NAME_CLAIMS = (f"{CLAIMS}givenname", "givenName", "given_name", "urn:oid:2.5.4.42")
SURNAME_CLAIMS = (f"{CLAIMS}surname", "surname", "sn", "family_name", "urn:oid:2.5.4.4")
NAME_CLAIMS = (f"{CLAIMS}name", "name", "displayName", "urn:oid:2.16.840.1.113730.3.1.241")


def _refused(code: str, message: str) -> FederationRefused:
    return FederationRefused(code, message)


# --- certificates -------------------------------------------------------------------------------

def certificate(value: str) -> x509.Certificate:
    """A base64 DER X.509 certificate (Graph's signingCertificate; a PEM's body is the same);
    ValueError if it is not one."""
    text = "".join((value or "").split())
    if text.startswith("-----BEGIN"):
        text = "".join(line for line in value.splitlines() if line and not line.startswith("-----"))
        text = "".join(text.split())
    try:
        der = base64.b64decode(text, validate=True)
        return x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError, TypeError) as error:
        raise ValueError("signingCertificate must be a base64-encoded DER X.509 certificate") from error


def certificate_text(value: str) -> str:
    """The canonical base64 DER of a certificate (no PEM armour, no whitespace)."""
    return base64.b64encode(certificate(value).public_bytes(Encoding.DER)).decode()


def not_after(value: str) -> datetime:
    return certificate(value).not_valid_after_utc


def federation_certificates(federation: FederationConfiguration) -> list[str]:
    """Every certificate an assertion of `federation` may be signed with, current one first."""
    found = [federation.signing_certificate, *(federation.signing_certificates or [])]
    return list(dict.fromkeys("".join(c.split()) for c in found if c))


def _usable_certificates(federation: FederationConfiguration) -> list[str]:
    """The federation's certificates that have not expired (Entra stops accepting a federation's
    assertions once its certificate expires; the metadata workflow warns before that)."""
    now = datetime.now(timezone.utc)
    usable = []
    for text in federation_certificates(federation):
        try:
            cert = certificate(text)
        except ValueError:
            continue
        if cert.not_valid_after_utc > now and cert.not_valid_before_utc <= now + CLOCK_SKEW:
            usable.append(text)
    return usable


# --- pysaml2's configuration, in memory -------------------------------------------------------

def idp_metadata_xml(federation: FederationConfiguration, certificates: list[str]) -> str:
    """The partner's IdP as pysaml2 reads it: its entity id (issuerUri), its sign-in endpoint
    (passiveSignInUri, HTTP-Redirect) and its signing certificates. Built with pysaml2's own
    classes, so every value is escaped."""
    keys = [md.KeyDescriptor(use="signing", key_info=ds.KeyInfo(x509_data=[ds.X509Data(
        x509_certificate=ds.X509Certificate(text=text))])) for text in certificates]
    descriptor = md.EntityDescriptor(entity_id=federation.issuer_uri, idpsso_descriptor=[md.IDPSSODescriptor(
        protocol_support_enumeration=samlp.NAMESPACE, want_authn_requests_signed="false", key_descriptor=keys,
        single_sign_on_service=[md.SingleSignOnService(binding=BINDING_HTTP_REDIRECT,
                                                       location=federation.passive_sign_in_uri)])])
    return descriptor.to_string().decode()


def _sp_config(entity_id: str, acs_url: str, idp_metadata: str | None = None) -> SPConfig:
    settings = {
        "entityid": entity_id,
        "xmlsec_binary": XMLSEC_BINARY,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)]},
            "allow_unsolicited": False,
            # Entra does not sign its requests; Foyer has no SP key to sign with.
            "authn_requests_signed": False,
            "logout_requests_signed": False,
            "want_assertions_signed": False,
            "want_response_signed": False,
            "want_assertions_or_response_signed": True,
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "name_id_format_allow_create": True,
        }},
        "accepted_time_diff": int(CLOCK_SKEW.total_seconds()),
        "allow_unknown_attributes": True,
        # Never a certificate carried in the message itself.
        "only_use_keys_in_metadata": True,
        "delete_tmpfiles": True,
    }
    if idp_metadata is not None:
        settings["metadata"] = {"inline": [idp_metadata]}
    config = SPConfig()
    config.load(settings)
    return config


def _client(federation: FederationConfiguration, *, acs_url: str, sp_entity_id: str,
            certificates: list[str]) -> Saml2Client:
    return Saml2Client(config=_sp_config(sp_entity_id, acs_url, idp_metadata_xml(federation, certificates)))


# --- the request ------------------------------------------------------------------------------

def authn_request_url(federation: FederationConfiguration, *, relay_state: str, acs_url: str,
                      sp_entity_id: str) -> tuple[str, str]:
    """An unsigned AuthnRequest over HTTP-Redirect to the federation's passiveSignInUri (a
    persistent NameID asked for, the answer to come to `acs_url` over HTTP-POST). Answers the URL
    to send the browser to and the request's ID (the Response's InResponseTo)."""
    try:
        client = _client(federation, acs_url=acs_url, sp_entity_id=sp_entity_id,
                         certificates=federation_certificates(federation))
        request_id, request = client.create_authn_request(
            federation.passive_sign_in_uri, binding=BINDING_HTTP_POST, nameid_format=NAMEID_FORMAT_PERSISTENT,
            sign=False, assertion_consumer_service_url=acs_url)
        info = client.apply_binding(BINDING_HTTP_REDIRECT, str(request), federation.passive_sign_in_uri,
                                    relay_state, sign=False)
        location = dict(info["headers"])["Location"]
    except Exception as error:  # a federation pysaml2 cannot describe: a page, not a 500
        log.warning("SAML AuthnRequest for federation %s not built: %s: %s", federation.id,
                    type(error).__name__, error)
        raise _refused("requestFailed", "Foyer could not build the sign-in request for this identity "
                                        "provider; ask an administrator to check the federation.") from None
    return location, request_id


# --- Foyer's own metadata ---------------------------------------------------------------------

def sp_metadata_xml(organization_id: str) -> str:
    """The SP metadata a partner imports: entity id (the organization's tenanted URL), the ACS
    (HTTP-POST), persistent NameIDs, requests not signed."""
    config = _sp_config(sp_entity_id(organization_id), saml_acs_url())
    return entity_descriptor(config).to_string().decode()


# --- the response -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Shape:
    """What the (not yet trusted) document says, for step 1 and for naming a refusal."""
    root: object
    assertion: object


def _decode(saml_response: str) -> bytes:
    if not saml_response or len(saml_response) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise _refused("invalidResponse", "Your identity provider's answer is missing or too large.")
    try:
        return base64.b64decode("".join(saml_response.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _refused("invalidResponse", "Your identity provider's answer could not be read.") from None


def _shape(xml: bytes) -> _Shape:
    try:
        root = safe_xml.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, safe_xml.ParseError, ValueError):
        raise _refused("invalidResponse", "Your identity provider's answer is not a valid SAML response.") from None
    if root.tag != f"{{{SAMLP}}}Response":
        raise _refused("invalidResponse", "Your identity provider's answer is not a SAML response.")
    elements = list(root.iter())
    if any(e.tag == f"{{{SAML}}}EncryptedAssertion" for e in elements):
        raise _refused("encryptedAssertion", "Your identity provider encrypted its assertion; Foyer accepts "
                                             "signed, unencrypted assertions only.")
    assertions = [e for e in elements if e.tag == f"{{{SAML}}}Assertion"]
    if len(assertions) != 1 or assertions[0] not in list(root):
        raise _refused("invalidResponse", "Your identity provider's answer must hold exactly one assertion.")
    ids = Counter(value for e in elements for name, value in e.attrib.items()
                  if name in ("ID", "Id", "id", "AssertionID"))
    if any(count > 1 for count in ids.values()):
        raise _refused("invalidResponse", "Your identity provider's answer repeats an ID.")
    signature_tag = f"{{{DSIG}}}Signature"
    parents = {child: parent for parent in elements for child in parent}
    signatures = [e for e in elements if e.tag == signature_tag]
    if any(parents.get(s) not in (root, assertions[0]) for s in signatures):
        raise _refused("invalidResponse", "Your identity provider's answer carries a signature where none belongs.")
    if len(signatures) > 2 or len({id(parents[s]) for s in signatures}) != len(signatures):
        raise _refused("invalidResponse", "Your identity provider's answer carries more than one signature "
                                          "on one element.")
    if not signatures:
        raise _refused("unsigned", "Your identity provider's answer is not signed.")
    return _Shape(root=root, assertion=assertions[0])


def _text(element, path: str) -> str | None:
    found = element.find(path, {"saml": SAML, "samlp": SAMLP})
    return found.text.strip() if found is not None and found.text else None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _diagnosis(shape: _Shape, federation: FederationConfiguration, *, request_id: str, acs_url: str,
               sp_entity_id: str) -> FederationRefused | None:
    """Why a document pysaml2 refused for something other than its signature was refused, read
    from the document (untrusted, but only used to name a refusal already decided)."""
    root, assertion = shape.root, shape.assertion
    now = datetime.now(timezone.utc)
    issuers = {_text(root, "saml:Issuer"), _text(assertion, "saml:Issuer")} - {None}
    if issuers != {federation.issuer_uri}:
        return _wrong_issuer()
    if root.get("InResponseTo") != request_id:
        return _wrong_request()
    if root.get("Destination") not in (None, acs_url):
        return _wrong_destination()
    conditions = assertion.find("saml:Conditions", {"saml": SAML})
    times = []
    if conditions is not None:
        times.append((conditions.get("NotBefore"), conditions.get("NotOnOrAfter")))
        audiences = [a.text.strip() for a in conditions.iter(f"{{{SAML}}}Audience") if a.text]
        if audiences and sp_entity_id not in audiences:
            return _wrong_audience()
    for data in assertion.iter(f"{{{SAML}}}SubjectConfirmationData"):
        times.append((data.get("NotBefore"), data.get("NotOnOrAfter")))
        if data.get("Recipient") not in (None, acs_url):
            return _wrong_destination()
        if data.get("InResponseTo") not in (None, request_id):
            return _wrong_request()
    for not_before, not_on_or_after in times:
        if (end := _time(not_on_or_after)) is not None and end + CLOCK_SKEW <= now:
            return _expired()
        if (start := _time(not_before)) is not None and start - CLOCK_SKEW > now:
            return _refused("notYetValid", "Your identity provider's answer is not valid yet; check its clock.")
    issued = _time(root.get("IssueInstant"))
    if issued is not None and abs(now - issued) > timedelta(days=1):
        return _expired()
    return None


def _wrong_issuer() -> FederationRefused:
    return _refused("wrongIssuer", "This answer did not come from the identity provider this organization trusts.")


def _wrong_request() -> FederationRefused:
    return _refused("wrongInResponseTo", "This answer does not belong to this sign-in attempt. Start again.")


def _wrong_destination() -> FederationRefused:
    return _refused("wrongDestination", "This answer was addressed to another service.")


def _wrong_audience() -> FederationRefused:
    return _refused("wrongAudience", "This answer was issued for another service, not for this organization.")


def _expired() -> FederationRefused:
    return _refused("expired", "Your identity provider's answer has expired. Start again.")


def _bad_signature() -> FederationRefused:
    return _refused("badSignature", "Your identity provider's answer is not signed by the certificate this "
                                    "organization trusts.")


def _verify(federation: FederationConfiguration, xml: bytes, shape: _Shape, *, request_id: str, acs_url: str,
            sp_entity_id: str, certificates: list[str]):
    """pysaml2's verification (blocking: it runs xmlsec1); answers its AuthnResponse."""
    client = _client(federation, acs_url=acs_url, sp_entity_id=sp_entity_id, certificates=certificates)
    try:
        # binding None: the XML is handed over as decoded here, so pysaml2 reads the same bytes
        # step 1 checked (its HTTP-POST unpacking would also try to inflate them).
        response = client.parse_authn_request_response(xml.decode("utf-8"), None, outstanding={request_id: acs_url})
    except (SigverError, MissingKey):
        raise _bad_signature() from None
    except UnsolicitedResponse:
        raise _wrong_request() from None
    except StatusError:
        raise _refused("idpError", "Your identity provider could not sign you in.") from None
    except (ResponseLifetimeExceed,):
        raise _expired() from None
    except ToEarly:
        raise _refused("notYetValid", "Your identity provider's answer is not valid yet; check its clock.") from None
    except FederationRefused:
        raise
    except Exception as error:  # pysaml2 raises bare Exceptions for audience, recipient, ...
        log.info("SAML response of federation %s refused: %s: %s", federation.id, type(error).__name__, error)
        raise _diagnosis(shape, federation, request_id=request_id, acs_url=acs_url,
                         sp_entity_id=sp_entity_id) or _refused(
            "invalidResponse", "Your identity provider's answer could not be verified.") from None
    # pysaml2 answers a response whose checks failed (Destination, IssueInstant, Status) without its
    # assertion rather than raising: no assertion means refused.
    if response is None or response.assertion is None:
        raise _diagnosis(shape, federation, request_id=request_id, acs_url=acs_url,
                         sp_entity_id=sp_entity_id) or _refused(
            "invalidResponse", "Your identity provider's answer could not be verified.")
    return response


def _attribute(assertion, names: tuple[str, ...]) -> str | None:
    wanted = {name.lower() for name in names}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            if (attribute.name or "").lower() in wanted or (attribute.friendly_name or "").lower() in wanted:
                for value in attribute.attribute_value or []:
                    if value.text and value.text.strip():
                        return value.text.strip()
    return None


def _checked_assertion(response, federation: FederationConfiguration, *, request_id: str, acs_url: str,
                       sp_entity_id: str):
    """Step 3 on what pysaml2 verified. Answers (assertion, its NotOnOrAfter)."""
    inner = response.response
    assertion = response.assertion
    if assertion is None or len(inner.assertion) != 1 or inner.assertion[0] is not assertion:
        raise _refused("invalidResponse", "Your identity provider's answer must hold exactly one assertion.")
    if not (inner.signature or assertion.signature):
        raise _refused("unsigned", "Your identity provider's answer is not signed.")
    if inner.in_response_to != request_id:
        raise _wrong_request()
    if inner.destination is not None and inner.destination != acs_url:
        raise _wrong_destination()
    response_issuer = inner.issuer.text.strip() if inner.issuer is not None and inner.issuer.text else None
    assertion_issuer = assertion.issuer.text.strip() if assertion.issuer is not None and assertion.issuer.text else None
    if assertion_issuer != federation.issuer_uri or response_issuer not in (None, federation.issuer_uri):
        raise _wrong_issuer()
    conditions = assertion.conditions
    audiences = [a.text.strip() for r in (conditions.audience_restriction if conditions else []) or []
                 for a in r.audience or [] if a.text]
    if sp_entity_id not in audiences:
        raise _wrong_audience()
    ends = [_time(conditions.not_on_or_after)] if conditions is not None and conditions.not_on_or_after else []
    confirmed = False
    for confirmation in (assertion.subject.subject_confirmation if assertion.subject else []) or []:
        data = confirmation.subject_confirmation_data
        if confirmation.method != SCM_BEARER or data is None:
            continue
        if data.recipient == acs_url and data.in_response_to in (None, request_id) and data.not_on_or_after:
            confirmed = True
            ends.append(_time(data.not_on_or_after))
    if not confirmed:
        raise _refused("wrongDestination", "Your identity provider's answer has no bearer confirmation for "
                                           "this service.")
    name_id = assertion.subject.name_id
    if name_id is None or not (name_id.text or "").strip():
        raise _refused("nameIdMissing", "Your identity provider did not say who you are (no NameID).")
    if name_id.format != NAMEID_FORMAT_PERSISTENT:
        raise _refused("nameIdNotPersistent", "Your identity provider must send a persistent NameID "
                                              f"({NAMEID_FORMAT_PERSISTENT}).")
    ends = [end for end in ends if end is not None]
    if not ends:
        raise _expired()
    return assertion, max(ends)


async def verified_identity(session, federation: FederationConfiguration, *, saml_response: str, request_id: str,
                            acs_url: str, sp_entity_id: str) -> VerifiedIdentity:
    """Who the partner's IdP vouches for in `saml_response` (the base64 SAMLResponse of the
    HTTP-POST binding), verified as the module says; raises FederationRefused otherwise. Records the
    assertion's ID in `session` (not committed: the caller commits it with the attempt)."""
    xml = _decode(saml_response)
    shape = _shape(xml)
    # The issuer names the certificates pysaml2 checks against; another issuer would only be
    # refused as badly signed, so it is named for what it is.
    if {_text(shape.root, "saml:Issuer"), _text(shape.assertion, "saml:Issuer")} - {None} != {federation.issuer_uri}:
        raise _wrong_issuer()
    certificates = _usable_certificates(federation)
    if not certificates:
        raise _refused("certificateExpired", "The identity provider's signing certificate this organization "
                                             "trusts has expired; ask an administrator to update it.")
    if not request_id:
        raise _wrong_request()
    try:
        response = await asyncio.to_thread(_verify, federation, xml, shape, request_id=request_id,
                                           acs_url=acs_url, sp_entity_id=sp_entity_id, certificates=certificates)
        assertion, keep_until = _checked_assertion(response, federation, request_id=request_id, acs_url=acs_url,
                                                   sp_entity_id=sp_entity_id)
    except FederationRefused:
        raise
    except Exception as error:  # never let a pysaml2 error escape as a 500
        log.warning("SAML response of federation %s could not be verified: %s: %s", federation.id,
                    type(error).__name__, error)
        raise _refused("invalidResponse", "Your identity provider's answer could not be verified.") from None
    await _record_assertion(session, federation.id, assertion.id, keep_until + CLOCK_SKEW)
    return VerifiedIdentity(
        issuer=federation.issuer_uri, issuer_assigned_id=assertion.subject.name_id.text.strip(),
        email=_attribute(assertion, EMAIL_CLAIMS), email_verified=False,
        display_name=_attribute(assertion, NAME_CLAIMS), given_name=_attribute(assertion, GIVEN_NAME_CLAIMS),
        surname=_attribute(assertion, SURNAME_CLAIMS))


async def _record_assertion(session, federation_id: str, assertion_id: str, keep_until: datetime) -> None:
    """The assertion ID, once per federation: a second use is refused as a replay. Rows past their
    keep_until are dropped on the way (their assertion would be refused as expired anyway)."""
    if not assertion_id:
        raise _refused("invalidResponse", "Your identity provider's assertion has no ID.")
    await session.exec(delete(SamlAssertionSeen).where(  # type: ignore[call-overload]
        SamlAssertionSeen.federation_id == federation_id, col(SamlAssertionSeen.keep_until) < utcnow()))
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # ON CONFLICT DO NOTHING … RETURNING: a row comes back only if this call inserted it (rowcount
    # is not reliable here: psycopg answers -1). A concurrent use of the same assertion waits on
    # the unique index (PostgreSQL) or the writer lock (SQLite) and then inserts nothing.
    inserted = (await session.exec(insert(SamlAssertionSeen).values(  # type: ignore[call-overload]
        id=new_id(), federation_id=federation_id, assertion_id=assertion_id, keep_until=keep_until,
    ).on_conflict_do_nothing(index_elements=["federation_id", "assertion_id"]).returning(
        SamlAssertionSeen.id))).first()
    if inserted is None:
        raise _refused("replayed", "This answer from your identity provider was already used. Start again.")
