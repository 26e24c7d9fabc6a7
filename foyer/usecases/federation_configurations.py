"""SAML direct federations with partner domains (Graph's samlOrWsFedExternalDomainFederation under
directory/federationConfigurations): creating, changing and deleting them, and their domains.

The rules, each refused as a Graph error (Refused):
- passiveSignInUri and metadataExchangeUri are https (plain http only for 127.0.0.1 / localhost);
  the metadata is fetched by Foyer itself, so its host must also resolve to an address Foyer may
  call (foyer.outbound, checked again at every fetch);
- preferredAuthenticationProtocol is `saml`: WS-Federation is not supported;
- signingCertificate is a base64 DER X.509 certificate that has not expired;
- the sign-in URL's host is one of the federated domains or a host inside one, unless the request
  sets `foyerPassiveSignInUriOutsideDomainsConfirmed` (Entra asks the partner for a DNS TXT
  record instead; Foyer asks the administrator to confirm). The rule is checked when a federation
  is created and whenever its passiveSignInUri or its domains change; the confirmation counts for
  the request that carries it;
- a domain belongs to one federation of the organization (409), never to the organization itself;
  an issuerUri to one federation (409).
Every change is audited (DirectoryManagement)."""

import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlmodel import select

from foyer import outbound
from foyer.audit import audit
from foyer.errors import Refused
from foyer.models.directory import Organization
from foyer.models.federation import FederationConfiguration
from foyer.usecases.federation_saml import certificate, certificate_text
from foyer.usecases.updates import commit

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_DOMAINS = 100
DOMAIN_PATTERN = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
CONFIRMATION = "foyerPassiveSignInUriOutsideDomainsConfirmed"
PROTOCOLS = ("saml", "wsFed")


def _invalid(message: str) -> Refused:
    return Refused("invalidRequest", message)


def checked_url(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{name} is required")
    value = value.strip()
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        raise _invalid(f"{name} is not a URL") from None
    if parts.scheme not in ("http", "https") or not hostname or len(value) > 2048 or parts.username:
        raise _invalid(f"{name} must be an absolute https URL")
    if parts.scheme == "http" and hostname not in LOCAL_HOSTS:
        raise _invalid(f"{name} must use https (plain http only for 127.0.0.1 / localhost)")
    return value


def checked_protocol(value) -> str:
    if value == "wsFed":
        raise _invalid("preferredAuthenticationProtocol wsFed is not supported: Foyer federates over SAML 2.0 "
                       "only; set it to saml")
    if value != "saml":
        raise _invalid("preferredAuthenticationProtocol must be saml")
    return value


def checked_certificate(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid("signingCertificate is required")
    try:
        cert = certificate(value)
    except ValueError as error:
        raise _invalid(str(error)) from None
    if cert.not_valid_after_utc <= datetime.now(timezone.utc):
        raise _invalid(f"signingCertificate expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    return certificate_text(value)


def checked_domain(value) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    if not isinstance(value, str):
        raise _invalid("a domain is {\"id\": \"contoso.com\"}")
    domain = value.strip().lower().rstrip(".")
    if not DOMAIN_PATTERN.match(domain):
        raise _invalid(f"{value!r} is not a domain name")
    return domain


def checked_domains(values) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise _invalid("domains must be a list of {\"id\": \"contoso.com\"}")
    domains = list(dict.fromkeys(checked_domain(v) for v in values))
    if len(domains) > MAX_DOMAINS:
        raise _invalid(f"a federation has at most {MAX_DOMAINS} domains")
    return domains


def host_in_domains(url: str, domains: list[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def check_sign_in_host(row: FederationConfiguration, confirmed) -> None:
    if confirmed is not None and not isinstance(confirmed, bool):
        raise _invalid(f"{CONFIRMATION} must be true or false")
    if confirmed is not True and not host_in_domains(row.passive_sign_in_uri, row.domains):
        host = urlsplit(row.passive_sign_in_uri).hostname
        raise _invalid(f"passiveSignInUri's host {host} is not one of the federated domains "
                       f"({', '.join(row.domains) or 'none yet'}) nor a host inside one; if the partner "
                       f"really signs in there, confirm it with \"{CONFIRMATION}\": true")


async def check_metadata_url(url: str | None) -> None:
    if url is None:
        return
    try:
        await outbound.check_url(url)
    except ValueError as error:
        raise _invalid(str(error).replace("targetUrl", "metadataExchangeUri")) from None


async def listed(session, org: Organization) -> list[FederationConfiguration]:
    return list((await session.exec(select(FederationConfiguration).where(
        FederationConfiguration.organization_id == org.id).order_by(
        FederationConfiguration.created_date_time, FederationConfiguration.id))).all())


async def _others(session, org: Organization, row_id: str | None) -> list[FederationConfiguration]:
    rows = (await session.exec(select(FederationConfiguration).where(
        FederationConfiguration.organization_id == org.id))).all()
    return [r for r in rows if r.id != row_id]


async def check_unique(session, org: Organization, row: FederationConfiguration) -> None:
    own = {d["name"].lower() for d in org.verified_domains or [] if d.get("name")}
    for domain in row.domains:
        if domain in own:
            raise _invalid(f"{domain} is a domain of this organization; only partner domains can be federated")
    for other in await _others(session, org, row.id):
        taken = set(other.domains) & set(row.domains)
        if taken:
            raise Refused("conflictingObject", f"{', '.join(sorted(taken))} already belongs to the federation "
                                               f"'{other.display_name}' ({other.id})")
        if other.issuer_uri == row.issuer_uri:
            raise Refused("conflictingObject", f"the federation '{other.display_name}' ({other.id}) already "
                                               f"has the issuerUri {row.issuer_uri}")


async def _lock(session, org: Organization) -> None:
    # Domain uniqueness spans rows: federation changes of one organization queue on its row.
    await session.get(Organization, org.id, with_for_update=True)


async def _record(session, org: Organization, actor: dict, activity: str, row: FederationConfiguration,
                  **details) -> None:
    await audit(session, key=None, category="DirectoryManagement", activity=activity, organization_id=org.id,
                **actor, target_type="FederationConfiguration", target_id=row.id, target_name=row.display_name,
                details={k: (", ".join(v) if isinstance(v, list) else v) for k, v in details.items()})


def _display_name(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise _invalid("displayName is required (1 to 256 characters)")
    return value.strip()


def _issuer(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 2048:
        raise _invalid("issuerUri is required")
    return value.strip()


FIELDS = ("displayName", "issuerUri", "metadataExchangeUri", "passiveSignInUri", "preferredAuthenticationProtocol",
          "signingCertificate")


async def create(session, org: Organization, actor: dict, body: dict) -> FederationConfiguration:
    unknown = sorted(set(body) - set(FIELDS) - {"domains", CONFIRMATION, "id"})
    if unknown:
        raise _invalid(f"unknown properties: {', '.join(unknown)}")
    missing = [name for name in ("displayName", "issuerUri", "passiveSignInUri", "preferredAuthenticationProtocol",
                                 "signingCertificate") if body.get(name) is None]
    if missing:
        raise _invalid(f"required: {', '.join(missing)}")
    checked_protocol(body["preferredAuthenticationProtocol"])
    metadata = body.get("metadataExchangeUri")
    cert = checked_certificate(body["signingCertificate"])
    row = FederationConfiguration(
        organization_id=org.id, display_name=_display_name(body["displayName"]), issuer_uri=_issuer(body["issuerUri"]),
        metadata_exchange_uri=checked_url(metadata, "metadataExchangeUri") if metadata is not None else None,
        passive_sign_in_uri=checked_url(body["passiveSignInUri"], "passiveSignInUri"),
        preferred_authentication_protocol="saml", signing_certificate=cert, signing_certificates=[cert],
        domains=checked_domains(body.get("domains")))
    check_sign_in_host(row, body.get(CONFIRMATION))
    await check_metadata_url(row.metadata_exchange_uri)
    await _lock(session, org)
    await check_unique(session, org, row)
    session.add(row)
    await _record(session, org, actor, "Add external domain federation", row, issuerUri=row.issuer_uri,
                  passiveSignInUri=row.passive_sign_in_uri, domains=row.domains)
    await commit(session, "a federation with this domain or issuerUri was added meanwhile")
    return row


async def update(session, org: Organization, actor: dict, row: FederationConfiguration, body: dict) -> list[str]:
    """Apply a PATCH; answers the names of the properties that changed."""
    unknown = sorted(set(body) - set(FIELDS) - {CONFIRMATION, "id"})
    if unknown:
        raise _invalid(f"unknown or read-only properties: {', '.join(unknown)}")
    nulls = [name for name in FIELDS if name in body and body[name] is None and name != "metadataExchangeUri"]
    if nulls:
        raise _invalid(f"may not be null: {', '.join(nulls)}")
    changed = [name for name in FIELDS if name in body]
    if not changed:
        raise _invalid(f"nothing to update: give one of {', '.join(FIELDS)}")
    if "preferredAuthenticationProtocol" in body:
        checked_protocol(body["preferredAuthenticationProtocol"])
    if "displayName" in body:
        row.display_name = _display_name(body["displayName"])
    if "issuerUri" in body:
        row.issuer_uri = _issuer(body["issuerUri"])
    if "metadataExchangeUri" in body:
        value = body["metadataExchangeUri"]
        row.metadata_exchange_uri = checked_url(value, "metadataExchangeUri") if value is not None else None
        row.metadata_refresh_error = None
        await check_metadata_url(row.metadata_exchange_uri)
    if "passiveSignInUri" in body:
        row.passive_sign_in_uri = checked_url(body["passiveSignInUri"], "passiveSignInUri")
        check_sign_in_host(row, body.get(CONFIRMATION))
    if "signingCertificate" in body:
        # The administrator names the certificate to trust: it replaces every other (a refresh of
        # the metadata adds back what the partner still publishes).
        row.signing_certificate = checked_certificate(body["signingCertificate"])
        row.signing_certificates = [row.signing_certificate]
    await _lock(session, org)
    await check_unique(session, org, row)
    session.add(row)
    await _record(session, org, actor, "Update external domain federation", row,
                  modifiedProperties=",".join(changed))
    await commit(session, "a federation with this issuerUri was added meanwhile")
    return changed


async def delete(session, org: Organization, actor: dict, row: FederationConfiguration) -> None:
    await session.delete(row)
    await _record(session, org, actor, "Delete external domain federation", row, issuerUri=row.issuer_uri,
                  domains=row.domains)
    await commit(session, "the federation changed meanwhile; retry")


async def add_domain(session, org: Organization, actor: dict, row: FederationConfiguration, body) -> str:
    if not isinstance(body, dict) or set(body) - {"id", "@odata.type"}:
        raise _invalid("the body is {\"@odata.type\": \"microsoft.graph.externalDomainName\", \"id\": \"contoso.com\"}")
    domain = checked_domain(body)
    if domain in row.domains:
        raise Refused("conflictingObject", f"{domain} is already a domain of this federation")
    if len(row.domains) >= MAX_DOMAINS:
        raise _invalid(f"a federation has at most {MAX_DOMAINS} domains")
    row.domains = [*row.domains, domain]
    await _lock(session, org)
    await check_unique(session, org, row)
    session.add(row)
    await _record(session, org, actor, "Add domain to external domain federation", row, domain=domain)
    await commit(session, f"{domain} was federated meanwhile")
    return domain


async def remove_domain(session, org: Organization, actor: dict, row: FederationConfiguration, domain: str) -> None:
    name = domain.strip().lower().rstrip(".")
    if name not in row.domains:
        raise Refused("notFound", f"{domain} is not a domain of this federation")
    remaining = [d for d in row.domains if d != name]
    if remaining and not host_in_domains(row.passive_sign_in_uri, remaining) and host_in_domains(
            row.passive_sign_in_uri, row.domains):
        # Removing the domain the sign-in URL lives in would leave an unconfirmed URL outside them.
        raise _invalid(f"passiveSignInUri's host is inside {name}: change passiveSignInUri (with "
                       f"\"{CONFIRMATION}\": true) before removing it")
    row.domains = remaining
    session.add(row)
    await _record(session, org, actor, "Remove domain from external domain federation", row, domain=name)
    await commit(session, "the federation changed meanwhile; retry")
