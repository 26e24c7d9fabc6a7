"""A real SAML 2.0 identity provider on 127.0.0.1 (pysaml2's IdP side, signatures by xmlsec1),
standing in for a partner's AD FS / Shibboleth in federation tests.

    async with SamlIdp(sp_entity_id=sp_entity_id(org_id), acs_url=saml_acs_url()) as idp:
        body = idp.federation_body(["fabrikam.test"])      # POST …/samlOrWsFedExternalDomainFederation
        idp.sign_in_as(SamlUser(name_id="p-123", email="ann@fabrikam.test", given_name="Ann"))
        # A browser sent to the AuthnRequest URL gets an auto-posting form to the ACS:
        #   GET idp.sso_url?SAMLRequest=…&RelayState=… → <form action=ACS> SAMLResponse, RelayState
        # Without a browser, answer the URL foyer.usecases.federation_saml.authn_request_url made:
        saml_response, relay_state = idp.answer(url)
        idp.issued[-1]                                     # (saml_response, relay_state, request_id)

It generates its own key and self-signed certificate (cryptography) and serves its metadata at
`metadata_url` (every published certificate: `rotate()` adds a new one, `sign_with` picks which
key signs). `entity_id` is the issuerUri, `sso_url` the passiveSignInUri.

Forgeries, each a base64 SAMLResponse answering `request_id`:
    idp.response(request_id, user, sign="assertion" | "response" | "both" | None,
                 key=other, audience=…, destination=…, recipient=…, issuer=…, in_response_to=…,
                 lifetime=timedelta(…), issued_at=datetime, assertion_id=…, name_id_format=…)
    idp.unsigned(request_id), idp.signed_by_another_key(request_id), idp.for_audience(request_id, "…"),
    idp.expired(request_id), idp.wrapped(request_id, victim)    # XML signature wrapping
"""

import asyncio
import base64
import datetime
import html
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT, md, saml, samlp
from saml2 import xmldsig as ds
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.s_utils import sid
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT
from saml2.server import Server
from saml2.sigver import pre_signature_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from foyer.usecases.federation_saml import _sp_config
from tests.ports import free_port

CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
XMLSEC = "/usr/bin/xmlsec1"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
RESPONSE = "urn:oasis:names:tc:SAML:2.0:protocol:Response"


@dataclass
class SamlUser:
    name_id: str = field(default_factory=lambda: f"persistent-{uuid.uuid4().hex[:12]}")
    email: str | None = "ann@fabrikam.test"
    given_name: str | None = "Ann"
    surname: str | None = "Partner"
    display_name: str | None = "Ann Partner"
    # The claim the address is sent in (Entra's emailaddress, or "email" / "mail").
    email_claim: str = f"{CLAIMS}emailaddress"


class SigningKey:
    """An RSA key and its self-signed certificate, valid from a day ago (or a month before
    `not_after`, for one that has expired already) for `days` days or until `not_after`."""

    def __init__(self, common_name: str = "Fabrikam IdP", days: float = 365,
                 not_after: datetime.datetime | None = None):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        self.not_after = not_after or now + datetime.timedelta(days=days)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(min(now - datetime.timedelta(days=1),
                                           self.not_after - datetime.timedelta(days=30)))
                     .not_valid_after(self.not_after)
                     .sign(self.key, hashes.SHA256()))
        self.key_pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        # Graph's signingCertificate: base64 DER.
        self.certificate = base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()


class SamlIdp:
    def __init__(self, *, sp_entity_id: str, acs_url: str, key: SigningKey | None = None,
                 host: str = "127.0.0.1"):
        self.sp_entity_id, self.acs_url = sp_entity_id, acs_url
        self.port = free_port()
        self.base = f"http://{host}:{self.port}"
        self.entity_id = f"{self.base}/idp"
        self.sso_url = f"{self.base}/sso"
        self.metadata_url = f"{self.base}/metadata"
        self.keys: list[SigningKey] = [key or SigningKey()]
        self.sign_with: SigningKey = self.keys[0]
        self.user = SamlUser()
        self.issued: list[tuple[str, str, str]] = []
        self.metadata_requests = 0
        self.metadata_status = 200
        self._folder = tempfile.TemporaryDirectory(prefix="foyer-saml-idp-")
        self._server = self._pysaml2_server()
        app = Starlette(routes=[Route("/sso", self._sso, methods=["GET"]),
                                Route("/metadata", self._metadata, methods=["GET"])])
        self.uvicorn = uvicorn.Server(uvicorn.Config(app, host=host, port=self.port, log_level="warning",
                                                     lifespan="off"))
        self.task: asyncio.Task | None = None

    # --- what the federation is configured with -------------------------------------------------

    @property
    def certificate(self) -> str:
        return self.sign_with.certificate

    def federation_body(self, domains: list[str], display_name: str = "Fabrikam SAML", **extra) -> dict:
        """The Graph body that federates `domains` with this IdP (its sign-in URL is on 127.0.0.1,
        outside the domains, so the confirmation is set)."""
        return {"@odata.type": "microsoft.graph.samlOrWsFedExternalDomainFederation",
                "displayName": display_name, "issuerUri": self.entity_id, "metadataExchangeUri": self.metadata_url,
                "passiveSignInUri": self.sso_url, "preferredAuthenticationProtocol": "saml",
                "signingCertificate": self.certificate,
                "domains": [{"@odata.type": "microsoft.graph.externalDomainName", "id": d} for d in domains],
                "foyerPassiveSignInUriOutsideDomainsConfirmed": True, **extra}

    def rotate(self, days: float = 365) -> SigningKey:
        """A new key, published in the metadata next to the old ones (it does not sign yet)."""
        key = SigningKey(days=days)
        self.keys.append(key)
        return key

    def metadata_xml(self) -> str:
        keys = [md.KeyDescriptor(use="signing", key_info=ds.KeyInfo(x509_data=[ds.X509Data(
            x509_certificate=ds.X509Certificate(text=k.certificate))])) for k in self.keys]
        descriptor = md.EntityDescriptor(entity_id=self.entity_id, idpsso_descriptor=[md.IDPSSODescriptor(
            protocol_support_enumeration=samlp.NAMESPACE, want_authn_requests_signed="false", key_descriptor=keys,
            name_id_format=[md.NameIDFormat(text=NAMEID_FORMAT_PERSISTENT)],
            single_sign_on_service=[md.SingleSignOnService(binding=BINDING_HTTP_REDIRECT, location=self.sso_url)])])
        return descriptor.to_string().decode()

    def sign_in_as(self, user: SamlUser) -> SamlUser:
        """The person the SSO endpoint signs in from now on."""
        self.user = user
        return user

    # --- pysaml2 --------------------------------------------------------------------------------

    def _file(self, name: str, content: bytes) -> str:
        path = os.path.join(self._folder.name, name)
        with open(path, "wb") as handle:
            handle.write(content)
        return path

    def _key_file(self, key: SigningKey) -> str:
        return self._file(f"{id(key)}.key.pem", key.key_pem)

    def _pysaml2_server(self) -> Server:
        sp_metadata = entity_descriptor(_sp_config(self.sp_entity_id, self.acs_url)).to_string().decode()
        config = IdPConfig()
        config.load({
            "entityid": self.entity_id, "xmlsec_binary": XMLSEC, "delete_tmpfiles": True,
            "key_file": self._key_file(self.keys[0]), "cert_file": self._file("cert.pem", self.keys[0].cert_pem),
            "metadata": {"inline": [sp_metadata]},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "policy": {"default": {"lifetime": {"minutes": 15}, "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_URI}},
            }},
        })
        return Server(config=config)

    def _unsigned_response(self, request_id: str, user: SamlUser, *, audience: str | None, destination: str | None,
                           recipient: str | None, issuer: str | None, in_response_to: str | None,
                           lifetime: datetime.timedelta, issued_at: datetime.datetime | None,
                           assertion_id: str | None, name_id_format: str) -> samlp.Response:
        response = self._server.create_authn_response(
            {}, in_response_to if in_response_to is not None else request_id, destination or self.acs_url,
            self.sp_entity_id, name_id=saml.NameID(format=name_id_format, text=user.name_id),
            authn={"class_ref": saml.AUTHN_PASSWORD, "authn_auth": self.entity_id},
            sign_assertion=False, sign_response=False)
        if isinstance(response, str):
            response = samlp.response_from_string(response)
        assertion = response.assertion[0] if isinstance(response.assertion, list) else response.assertion
        response.assertion = [assertion]
        issued = issued_at or datetime.datetime.now(datetime.timezone.utc)
        ends = issued + lifetime

        def stamp(moment: datetime.datetime) -> str:
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

        response.issue_instant = assertion.issue_instant = stamp(issued)
        assertion.conditions.not_before = stamp(issued - datetime.timedelta(seconds=30))
        assertion.conditions.not_on_or_after = stamp(ends)
        for confirmation in assertion.subject.subject_confirmation:
            data = confirmation.subject_confirmation_data
            data.not_on_or_after = stamp(ends)
            if recipient is not None:
                data.recipient = recipient
        for statement in assertion.authn_statement:
            statement.authn_instant = stamp(issued)
        if issuer is not None:
            response.issuer = saml.Issuer(text=issuer, format=saml.NAMEID_FORMAT_ENTITY)
            assertion.issuer = saml.Issuer(text=issuer, format=saml.NAMEID_FORMAT_ENTITY)
        if assertion_id is not None:
            assertion.id = assertion_id
        if audience is not None:
            assertion.conditions.audience_restriction = [saml.AudienceRestriction(
                audience=[saml.Audience(text=audience)])]
        claims = {user.email_claim: user.email, f"{CLAIMS}givenname": user.given_name,
                  f"{CLAIMS}surname": user.surname, f"{CLAIMS}name": user.display_name}
        attributes = []
        for name, value in claims.items():
            if value is not None:
                attribute_value = saml.AttributeValue()
                attribute_value.set_text(value)
                attributes.append(saml.Attribute(name=name, name_format=NAME_FORMAT_URI,
                                                 attribute_value=[attribute_value]))
        assertion.attribute_statement = [saml.AttributeStatement(attribute=attributes)]
        return response

    def _signed(self, response: samlp.Response, sign: str | None, key: SigningKey) -> str:
        assertion = response.assertion[0]
        to_sign = []
        if sign in ("assertion", "both"):
            assertion.signature = pre_signature_part(assertion.id, key.certificate, digest_alg=DIGEST_SHA256,
                                                     sign_alg=SIG_RSA_SHA256)
            to_sign.append((ASSERTION, assertion.id))
        if sign in ("response", "both"):
            response.signature = pre_signature_part(response.id, key.certificate, digest_alg=DIGEST_SHA256,
                                                    sign_alg=SIG_RSA_SHA256)
            to_sign.append((RESPONSE, response.id))
        xml = response.to_string().decode()
        key_file = self._key_file(key)
        for node_name, node_id in to_sign:  # the assertion first: the response's digest covers it
            xml = self._server.sec.sign_statement(xml, node_name=node_name, key_file=key_file, node_id=node_id)
        return xml

    # --- answers --------------------------------------------------------------------------------

    def response_xml(self, request_id: str, user: SamlUser | None = None, *, sign: str | None = "assertion",
                     key: SigningKey | None = None, audience: str | None = None, destination: str | None = None,
                     recipient: str | None = None, issuer: str | None = None, in_response_to: str | None = None,
                     lifetime: datetime.timedelta = datetime.timedelta(minutes=5),
                     issued_at: datetime.datetime | None = None, assertion_id: str | None = None,
                     name_id_format: str = NAMEID_FORMAT_PERSISTENT) -> str:
        response = self._unsigned_response(
            request_id, user or self.user, audience=audience, destination=destination, recipient=recipient,
            issuer=issuer, in_response_to=in_response_to, lifetime=lifetime, issued_at=issued_at,
            assertion_id=assertion_id, name_id_format=name_id_format)
        return self._signed(response, sign, key or self.sign_with)

    def response(self, request_id: str, user: SamlUser | None = None, **options) -> str:
        """A base64 SAMLResponse (HTTP-POST binding) answering `request_id`."""
        return encode(self.response_xml(request_id, user, **options))

    def answer(self, authn_request_url: str, user: SamlUser | None = None, **options) -> tuple[str, str]:
        """What the SSO endpoint would post back for this AuthnRequest URL: (SAMLResponse, RelayState)."""
        query = parse_qs(urlsplit(authn_request_url).query)
        request = self._server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        relay_state = query.get("RelayState", [""])[0]
        acs = request.message.assertion_consumer_service_url
        if acs and acs != self.acs_url:
            raise AssertionError(f"the AuthnRequest asks for ACS {acs}, not {self.acs_url}")
        saml_response = self.response(request.message.id, user, **options)
        self.issued.append((saml_response, relay_state, request.message.id))
        return saml_response, relay_state

    # --- forgeries ------------------------------------------------------------------------------

    def unsigned(self, request_id: str, user: SamlUser | None = None) -> str:
        return self.response(request_id, user, sign=None)

    def signed_by_another_key(self, request_id: str, user: SamlUser | None = None, sign: str = "both") -> str:
        return self.response(request_id, user, sign=sign, key=SigningKey(common_name="Mallory"))

    def for_audience(self, request_id: str, audience: str, user: SamlUser | None = None) -> str:
        return self.response(request_id, user, audience=audience)

    def expired(self, request_id: str, user: SamlUser | None = None) -> str:
        return self.response(request_id, user, issued_at=datetime.datetime.now(datetime.timezone.utc)
                             - datetime.timedelta(hours=2), lifetime=datetime.timedelta(minutes=5))

    def wrapped(self, request_id: str, victim: SamlUser, attacker: SamlUser | None = None) -> str:
        """XML signature wrapping: the attacker's genuinely signed assertion is moved into the
        Response's Extensions and an unsigned assertion for `victim` (same ID, the attacker's
        signature copied in) takes its place, hoping the verifier checks one and reads the other."""
        import xml.etree.ElementTree as tree

        signed = self.response_xml(request_id, attacker or SamlUser(email="mallory@fabrikam.test"), sign="assertion")
        evil = self.response_xml(request_id, victim, sign=None)
        namespaces = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
                      "ds": "http://www.w3.org/2000/09/xmldsig#"}
        for prefix, uri in namespaces.items():
            tree.register_namespace(prefix, uri)
        signed_root, evil_root = tree.fromstring(signed), tree.fromstring(evil)
        original = signed_root.find("saml:Assertion", namespaces)
        forged = evil_root.find("saml:Assertion", namespaces)
        forged.set("ID", original.get("ID"))
        forged.insert(1, original.find("ds:Signature", namespaces))
        signed_root.remove(original)
        extensions = tree.Element(f"{{{namespaces['samlp']}}}Extensions")
        extensions.append(original)
        signed_root.insert(1, extensions)
        signed_root.append(forged)
        return encode(tree.tostring(signed_root, encoding="unicode"))

    # --- HTTP -----------------------------------------------------------------------------------

    async def _sso(self, request: Request) -> Response:
        url = str(request.url)
        saml_response, relay_state = self.answer(url)
        return HTMLResponse(auto_post_form(self.acs_url, saml_response, relay_state))

    async def _metadata(self, request: Request) -> Response:
        self.metadata_requests += 1
        if self.metadata_status != 200:
            return Response(b"unavailable", status_code=self.metadata_status)
        return Response(self.metadata_xml().encode(), media_type="application/samlmetadata+xml")

    async def __aenter__(self) -> "SamlIdp":
        self.task = asyncio.create_task(self.uvicorn.serve())
        while not self.uvicorn.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc) -> None:
        self.uvicorn.should_exit = True
        if self.task is not None:
            await self.task
        self._folder.cleanup()


def encode(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def auto_post_form(acs_url: str, saml_response: str, relay_state: str) -> str:
    """The HTTP-POST binding's page: a form that posts itself to the ACS."""
    return (f'<!doctype html><html><body onload="document.forms[0].submit()">'
            f'<form method="post" action="{html.escape(acs_url)}">'
            f'<input type="hidden" name="SAMLResponse" value="{html.escape(saml_response)}">'
            f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
            f'<noscript><button type="submit">Continue</button></noscript></form></body></html>')


def new_request_id() -> str:
    return sid()


__all__ = ["SamlIdp", "SamlUser", "SigningKey", "auto_post_form", "encode", "new_request_id"]
