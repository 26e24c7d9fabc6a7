"""Keeping a SAML federation's certificates current from the partner's metadata (the
SamlMetadataWorkflow's activities call these), and warning its administrators before the last
certificate Foyer trusts expires.

`refresh`: fetch metadataExchangeUri (through foyer.outbound: public addresses only, no
redirects), read the IdP's signing certificates from the EntityDescriptor whose entityID is the
federation's issuerUri (defusedxml; the document's own signature, if any, is not relied on: it
comes over https from the partner's own host, as Entra reads it), then in one transaction:
- a certificate not yet trusted and not expired is added to `signing_certificates`;
- once the current `signing_certificate` has expired (as of the workflow's time, passed in), the
  newest valid one becomes current (Entra's rollover);
- certificates expired as of then are dropped (the current one stays if nothing replaces it);
- the refresh time and what went wrong, if anything, are kept on the row for administrators.
Each addition and rollover is audited once (keyed by federation and thumbprint).
"""

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

import defusedxml.ElementTree as safe_xml
import httpx
from cryptography.hazmat.primitives.serialization import Encoding
from defusedxml import DefusedXmlException
from sqlmodel import col, select

from foyer import outbound
from foyer.db import session_scope
from foyer.audit import audit
from foyer.models.base import utcnow
from foyer.models.directory import Organization, User
from foyer.models.enums import ADMIN_ROLES
from foyer.models.federation import FederationConfiguration
from foyer.models.token import ApiToken
from foyer.usecases.federation_saml import certificate, certificate_text, federation_certificates

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 20.0
MAX_METADATA_BYTES = 2 * 1024 * 1024
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DSIG = "http://www.w3.org/2000/09/xmldsig#"


@dataclass
class Certificate:
    text: str  # base64 DER
    thumbprint: str  # SHA-256, hex
    not_after: datetime


@dataclass
class Refreshed:
    exists: bool = True
    certificates: list[Certificate] = field(default_factory=list)  # the current one first
    added: int = 0
    error: str | None = None


def described(text: str) -> Certificate | None:
    try:
        cert = certificate(text)
    except ValueError:
        return None
    canonical = certificate_text(text)
    return Certificate(text=canonical, thumbprint=hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest(),
                       not_after=cert.not_valid_after_utc)


def published_certificates(xml: bytes, issuer_uri: str) -> list[str]:
    """The signing certificates the metadata publishes for the IdP `issuer_uri`; ValueError (with
    a message for administrators) when the document is not metadata for it."""
    try:
        root = safe_xml.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, safe_xml.ParseError, ValueError):
        raise ValueError("the metadata is not well-formed XML") from None
    entities = [root] if root.tag == f"{{{MD}}}EntityDescriptor" else list(root.iter(f"{{{MD}}}EntityDescriptor"))
    entity = next((e for e in entities if e.get("entityID") == issuer_uri), None)
    if entity is None:
        raise ValueError(f"the metadata describes no entity {issuer_uri} (the federation's issuerUri)")
    found = []
    for descriptor in entity.findall(f"{{{MD}}}IDPSSODescriptor"):
        for key in descriptor.findall(f"{{{MD}}}KeyDescriptor"):
            if key.get("use") not in (None, "signing"):
                continue
            for value in key.iter(f"{{{DSIG}}}X509Certificate"):
                if value.text and value.text.strip():
                    found.append("".join(value.text.split()))
    if not found:
        raise ValueError("the metadata publishes no signing certificate for the identity provider")
    return found


async def fetch_metadata(url: str) -> bytes:
    """The metadata document; ValueError with what went wrong."""
    try:
        async with outbound.client(timeout=FETCH_TIMEOUT_SECONDS) as client:
            async with client.stream("GET", url, headers={"Accept": "application/samlmetadata+xml, "
                                                                   "application/xml, text/xml"}) as answer:
                if answer.status_code != 200:
                    raise ValueError(f"the metadata URL answered HTTP {answer.status_code}")
                body = b""
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_METADATA_BYTES:
                        raise ValueError("the metadata is larger than 2 MB")
                return body
    except httpx.HTTPError as error:
        refused = outbound.refusal_in(error)
        if refused is not None:
            raise ValueError(f"the metadata URL is refused: {refused.public_reason}") from None
        raise ValueError(f"the metadata could not be fetched: {type(error).__name__}") from None


async def refresh(federation_id: str, now: datetime) -> Refreshed:
    """One refresh of `federation_id` as of `now` (see the module); the fetch happens between two
    transactions, never inside one."""
    async with session_scope() as session:
        row = await session.get(FederationConfiguration, federation_id)
        url, issuer = (row.metadata_exchange_uri, row.issuer_uri) if row else (None, None)
    if row is None:
        return Refreshed(exists=False)
    published, error = [], None
    if url:
        try:
            published = published_certificates(await fetch_metadata(url), issuer)
        except ValueError as problem:
            error = str(problem)
            log.info("SAML metadata of federation %s not refreshed: %s", federation_id, error)
    async with session_scope() as session:
        row = await session.get(FederationConfiguration, federation_id, with_for_update=True)
        if row is None:
            return Refreshed(exists=False)
        trusted = [c for c in (described(t) for t in federation_certificates(row)) if c]
        known = {c.thumbprint for c in trusted}
        added = []
        for candidate in (described(t) for t in published):
            if candidate is None or candidate.thumbprint in known or candidate.not_after <= now:
                continue
            trusted.append(candidate)
            known.add(candidate.thumbprint)
            added.append(candidate)
        current = next((c for c in trusted if c.text == "".join(row.signing_certificate.split())), None) \
            or (trusted[0] if trusted else None)
        rolled_over = None
        valid = [c for c in trusted if c.not_after > now]
        if current is not None and current.not_after <= now and valid:
            rolled_over = current
            current = max(valid, key=lambda c: c.not_after)
        if current is None:
            kept = valid
        else:
            kept = [current] + [c for c in valid if c.thumbprint != current.thumbprint]
            row.signing_certificate = current.text
        row.signing_certificates = [c.text for c in kept]
        if url:
            row.metadata_refreshed_date_time = utcnow()
            row.metadata_refresh_error = error
        session.add(row)
        target = {"organization_id": row.organization_id, "category": "DirectoryManagement",
                  "target_type": "FederationConfiguration", "target_id": row.id, "target_name": row.display_name}
        for new in added:
            await audit(session, key=f"saml-certificate-added:{row.id}:{new.thumbprint}",
                        activity="Add signing certificate from federation metadata", **target,
                        details={"thumbprint": new.thumbprint, "notAfter": new.not_after.isoformat()})
        if rolled_over is not None:
            await audit(session, key=f"saml-certificate-current:{row.id}:{current.thumbprint}",
                        activity="Roll over federation signing certificate", **target,
                        details={"expired": rolled_over.thumbprint, "current": current.thumbprint})
        return Refreshed(certificates=kept, added=len(added), error=error)


async def administrator_addresses(session, organization_id: str) -> list[str]:
    """Where Foyer mails an organization's administrators: the enabled users holding a live
    Global or User Administrator token."""
    rows = (await session.exec(select(User.mail).join(ApiToken, col(ApiToken.user_id) == User.id).where(
        ApiToken.organization_id == organization_id, col(ApiToken.role).in_(list(ADMIN_ROLES)),
        ApiToken.revoked == False, User.account_enabled == True))).all()  # noqa: E712
    return sorted({mail for mail in rows if mail})


async def expiry_warning(session, federation_id: str) -> tuple[FederationConfiguration, Organization, list[str]] | None:
    row = await session.get(FederationConfiguration, federation_id)
    if row is None:
        return None
    org = await session.get(Organization, row.organization_id)
    return row, org, await administrator_addresses(session, row.organization_id)
