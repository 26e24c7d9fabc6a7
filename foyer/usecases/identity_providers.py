"""Graph's identity/identityProviders: the socialIdentityProvider Google and oidcIdentityProvider
(any OpenID Connect provider) an organization's guests may sign in with. Parsing a Graph body,
checking it, storing it and answering it; foyer.api.routers.identity_providers is the HTTP edge.

Choices Foyer made where Graph leaves room:
- `clientAuthentication` `#microsoft.graph.oidcClientSecretAuthentication` {clientSecret} covers
  both secret methods; Foyer's property `foyerTokenEndpointAuthMethod` picks one:
  "client_secret_post" (the default) or "client_secret_jwt". "client_secret_basic" is refused, as
  Graph refuses it. `#microsoft.graph.oidcPrivateJwtKeyClientAuthentication` is private_key_jwt:
  Foyer signs with its own OpenID key; reads answer where the provider finds it (`foyerJwksUri`).
- `domains` (Foyer's; Graph's oidcIdentityProvider has none): the address domains whose people
  sign in with this provider (home realm discovery, foyer.rules.home_realm). Google serves
  gmail.com and googlemail.com when none are set. A domain belongs to one provider or federation.
- `wellKnownEndpoint` must be https (plain http only on 127.0.0.1 / localhost), point at a public
  address (foyer.outbound), and answer a discovery document whose issuer is `issuer`: checked
  when saved, so a mistake shows to the admin rather than to a guest.
- Secrets are write-only: reads answer "****".
- Facebook is refused ("not supported"): Foyer cannot test it against a real provider.
"""

import re
from typing import Any

from sqlmodel import select

from foyer import outbound
from foyer.audit import audit
from foyer.errors import Refused
from foyer.models.federation import FederationConfiguration, IdentityProvider
from foyer.models.sign_up import UserFlow
from foyer.names import control_character_in_name
from foyer.usecases import federation_oidc
from foyer.usecases.federation import FederationRefused, oidc_redirect_uri, provider_domains
from foyer.usecases.updates import commit

SOCIAL = "#microsoft.graph.socialIdentityProvider"
OIDC = "#microsoft.graph.oidcIdentityProvider"
SECRET_AUTHENTICATION = "#microsoft.graph.oidcClientSecretAuthentication"
PRIVATE_JWT_AUTHENTICATION = "#microsoft.graph.oidcPrivateJwtKeyClientAuthentication"
AVAILABLE_TYPES = ["Google", "OpenIDConnect"]
HIDDEN_SECRET = "****"
SECRET_METHODS = ("client_secret_post", "client_secret_jwt")
# Graph's oidcInboundClaimMappingOverride; address is an object of claim names.
CLAIM_MAPPING_KEYS = ("sub", "name", "given_name", "family_name", "email", "email_verified",
                      "phone_number", "phone_number_verified")
ADDRESS_KEYS = ("street_address", "locality", "region", "postal_code", "country")
DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
COMMON = ("displayName", "clientId", "domains")
# An oidcIdentityProvider's secret is inside its clientAuthentication.
SOCIAL_PROPERTIES = (*COMMON, "clientSecret", "identityProviderType")
OIDC_PROPERTIES = (*COMMON, "issuer", "scope", "responseType", "wellKnownEndpoint", "clientAuthentication",
                   "inboundClaimMapping", "foyerTenantId")
# Entra's and Foyer's issuers name the tenant: https://host/{tenantId}/v2.0.
TENANT_ISSUER = re.compile(r"^https?://[^/]+/(?P<tenant>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                           r"[0-9a-fA-F]{12})/v2\.0/?$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
READ_ONLY = ("id", "foyerRedirectUri")


def _bad(message: str) -> Refused:
    return Refused("invalidRequest", message)


def kind_of(odata_type: Any) -> str:
    """socialIdentityProvider or oidcIdentityProvider from an @odata.type (with or without '#')."""
    name = odata_type.lstrip("#") if isinstance(odata_type, str) else ""
    if name == SOCIAL.lstrip("#"):
        return "socialIdentityProvider"
    if name == OIDC.lstrip("#"):
        return "oidcIdentityProvider"
    if name in ("microsoft.graph.openIdConnectIdentityProvider", "microsoft.graph.openIdConnectProvider"):
        raise _bad(f"{name} is Graph beta's (B2C) type; use {OIDC.lstrip('#')}")
    if name in ("microsoft.graph.builtInIdentityProvider", "microsoft.graph.appleManagedIdentityProvider"):
        raise _bad(f"{name} cannot be created here")
    raise _bad(f"@odata.type must be {SOCIAL} or {OIDC}")


# --- reading ------------------------------------------------------------------------------------

def provider_body(row: IdentityProvider) -> dict:
    body = {"@odata.type": SOCIAL if row.kind == "socialIdentityProvider" else OIDC, "id": row.id,
            "displayName": row.display_name, "clientId": row.client_id,
            "domains": list(provider_domains(row)), "foyerRedirectUri": oidc_redirect_uri()}
    if row.kind == "socialIdentityProvider":
        body.update(identityProviderType=row.identity_provider_type, clientSecret=HIDDEN_SECRET)
        return body
    if row.client_authentication_method == "private_key_jwt":
        authentication = {"@odata.type": PRIVATE_JWT_AUTHENTICATION,
                          "foyerJwksUri": federation_oidc.client_jwks_uri(row.organization_id)}
    else:
        authentication = {"@odata.type": SECRET_AUTHENTICATION, "clientSecret": HIDDEN_SECRET,
                          "foyerTokenEndpointAuthMethod": row.client_authentication_method}
    body.update(issuer=row.issuer, scope=row.scope, responseType=row.response_type,
                wellKnownEndpoint=row.well_known_endpoint, clientAuthentication=authentication,
                inboundClaimMapping=row.inbound_claim_mapping or None, foyerTenantId=row.tenant_id)
    return body


def tenant_of_issuer(issuer: str | None) -> str | None:
    """The tenant id an Entra or Foyer issuer names (https://host/{tenantId}/v2.0), or None."""
    match = TENANT_ISSUER.match(issuer or "")
    return match.group("tenant").lower() if match else None


async def list_providers(session, organization_id: str) -> list[IdentityProvider]:
    return list((await session.exec(select(IdentityProvider).where(
        IdentityProvider.organization_id == organization_id).order_by(
        IdentityProvider.created_date_time, IdentityProvider.id))).all())


async def offered_by_flows(session, organization_id: str) -> dict[str, dict]:
    """The organization's providers as a user flow's identityProviders lists them (by id)."""
    return {row.id: {"@odata.type": SOCIAL if row.kind == "socialIdentityProvider" else OIDC, "id": row.id,
                     "displayName": row.display_name,
                     "identityProviderType": row.identity_provider_type or "OpenIDConnect"}
            for row in await list_providers(session, organization_id)}


# --- checking a body ------------------------------------------------------------------------------

def _text(body: dict, name: str, *, limit: int = 256) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{name} must be a non-empty string")
    if len(value) > limit:
        raise _bad(f"{name} may be at most {limit} characters")
    if (character := control_character_in_name(value)) is not None:
        raise _bad(f"{name} may not hold the control character {character}")
    return value.strip()


def _domains(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _bad("domains must be a list of domain names")
    found = []
    for item in value:
        # Graph's federations send {"@odata.type": "…externalDomainName", "id": "contoso.com"}.
        name = item.get("id") if isinstance(item, dict) else item
        if not isinstance(name, str) or not DOMAIN.match(name.strip().lower().rstrip(".")):
            raise _bad(f"domains: {str(name)[:100]!r} is not a domain name")
        found.append(name.strip().lower().rstrip("."))
    if len(found) > 100:
        raise _bad("domains may name at most 100 domains")
    return list(dict.fromkeys(found))


def _claim_mapping(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad("inboundClaimMapping must be an object of claim names")
    mapping = {}
    for key, claim in value.items():
        if key.startswith("@odata."):
            continue
        if key == "address":
            if claim is None:
                continue
            if not isinstance(claim, dict) or any(k not in ADDRESS_KEYS and not k.startswith("@odata.")
                                                  for k in claim):
                raise _bad(f"inboundClaimMapping.address may hold {', '.join(ADDRESS_KEYS)}")
            mapping["address"] = {k: v for k, v in claim.items() if k in ADDRESS_KEYS and isinstance(v, str) and v}
            continue
        if key not in CLAIM_MAPPING_KEYS:
            raise _bad(f"inboundClaimMapping has no property {key!r}; it has {', '.join(CLAIM_MAPPING_KEYS)}, address")
        if claim is None:
            continue
        if not isinstance(claim, str) or not claim.strip() or len(claim) > 128:
            raise _bad(f"inboundClaimMapping.{key} must be a claim name")
        mapping[key] = claim.strip()
    return mapping


def _unknown(body: dict, allowed: tuple[str, ...], kind: str) -> None:
    unknown = sorted(k for k in body if not k.startswith("@odata.") and k not in allowed and k not in READ_ONLY)
    if unknown:
        raise _bad(f"{kind} has no property {', '.join(unknown)}")


def _apply_authentication(row: IdentityProvider, value: Any) -> None:
    """Set the client authentication from Graph's clientAuthentication."""
    if not isinstance(value, dict):
        raise _bad("clientAuthentication must be an object with an @odata.type")
    kind = value.get("@odata.type")
    kind = f"#{kind.lstrip('#')}" if isinstance(kind, str) else kind
    fields = {k: v for k, v in value.items() if not k.startswith("@odata.")}
    if kind == PRIVATE_JWT_AUTHENTICATION:
        if set(fields) - {"foyerJwksUri"}:
            raise _bad("oidcPrivateJwtKeyClientAuthentication takes no properties: Foyer signs with its own key")
        row.client_authentication_method, row.client_secret = "private_key_jwt", None
        return
    if kind != SECRET_AUTHENTICATION:
        raise _bad(f"clientAuthentication @odata.type must be {SECRET_AUTHENTICATION} or {PRIVATE_JWT_AUTHENTICATION}")
    if set(fields) - {"clientSecret", "foyerTokenEndpointAuthMethod"}:
        raise _bad("oidcClientSecretAuthentication takes clientSecret and foyerTokenEndpointAuthMethod")
    method = fields.get("foyerTokenEndpointAuthMethod", "client_secret_post")
    if method == "client_secret_basic":
        raise _bad("client_secret_basic is not supported (Graph refuses it for security reasons): "
                   "use client_secret_post or client_secret_jwt")
    if method not in SECRET_METHODS:
        raise _bad("foyerTokenEndpointAuthMethod must be client_secret_post or client_secret_jwt")
    given = fields.get("clientSecret")
    if given == HIDDEN_SECRET and row.client_secret is not None:
        given = None  # "****" as read back: keep the stored secret
    if given is not None:
        _set_secret(row, given)
    elif row.client_secret is None:
        raise _bad("oidcClientSecretAuthentication needs a clientSecret")
    row.client_authentication_method = method


def _set_secret(row: IdentityProvider, secret: Any) -> None:
    if not isinstance(secret, str) or not secret or secret == HIDDEN_SECRET or len(secret) > 2048:
        raise _bad("clientSecret must be the client's secret (\"****\" is what reads answer, not a secret)")
    row.client_secret = federation_oidc.seal_client_secret(row.id, secret)


def _scope(value: Any) -> str:
    if not isinstance(value, str) or "openid" not in value.split() or len(value) > 1024:
        raise _bad("scope must be a space-separated list of scopes that includes openid")
    return " ".join(value.split())


def _apply(row: IdentityProvider, body: dict, *, creating: bool) -> list[str]:
    """Set what `body` gives on `row`; the Graph names that changed."""
    allowed = SOCIAL_PROPERTIES if row.kind == "socialIdentityProvider" else OIDC_PROPERTIES
    _unknown(body, allowed, row.kind)
    for name in ("displayName", "clientId", "domains", "issuer", "scope", "responseType", "wellKnownEndpoint",
                 "clientAuthentication", "identityProviderType"):
        if name in body and body[name] is None:
            raise _bad(f"{name} may not be null")
    changed = [k for k in body if k in allowed]
    if "displayName" in body or creating:
        row.display_name = _text(body, "displayName")
    if "clientId" in body or creating:
        row.client_id = _text(body, "clientId", limit=512)
    if "domains" in body:
        row.domains = _domains(body["domains"])
    if row.kind == "socialIdentityProvider":
        if "identityProviderType" in body and not creating:
            raise _bad("identityProviderType cannot be changed: create another provider")
        if creating:
            kind = _text(body, "identityProviderType")
            if kind == "Facebook":
                raise _bad("identityProviderType Facebook is not supported: Foyer cannot test it against a "
                           "real Facebook; use Google or an oidcIdentityProvider")
            if kind != "Google":
                raise _bad("identityProviderType must be Google (the only social provider Foyer supports)")
            row.identity_provider_type = kind
        if "clientSecret" in body or creating:
            _set_secret(row, body.get("clientSecret"))
        return changed
    if "issuer" in body or creating:
        row.issuer = _text(body, "issuer", limit=2048)
    if "scope" in body:
        row.scope = _scope(body["scope"])
    if "responseType" in body and body["responseType"] != "code":
        raise _bad("responseType must be code: Foyer uses the authorization code flow only")
    if "wellKnownEndpoint" in body or creating:
        row.well_known_endpoint = _text(body, "wellKnownEndpoint", limit=2048)
        if (why := federation_oidc.url_refusal(row.well_known_endpoint, "wellKnownEndpoint")) is not None:
            raise _bad(why)
    if "inboundClaimMapping" in body:
        row.inbound_claim_mapping = _claim_mapping(body["inboundClaimMapping"])
    # A partner organization's provider: its tokens must carry this `tid`, and the cross-tenant
    # access settings for that tenant apply to its people. Read off the issuer unless given.
    if "foyerTenantId" in body:
        tenant = body["foyerTenantId"]
        if tenant is not None and (not isinstance(tenant, str) or not GUID.match(tenant)):
            raise _bad("foyerTenantId must be the partner's tenant id (a GUID) or null")
        row.tenant_id = tenant.lower() if tenant else None
    elif "issuer" in body or creating:
        row.tenant_id = tenant_of_issuer(row.issuer)
    if "clientAuthentication" in body or creating:
        if "clientAuthentication" not in body:
            raise _bad("clientAuthentication is required")
        _apply_authentication(row, body["clientAuthentication"])
    return changed


async def _check_unique(session, row: IdentityProvider) -> None:
    others = [p for p in await list_providers(session, row.organization_id) if p.id != row.id]
    if row.identity_provider_type == "Google" and any(p.identity_provider_type == "Google" for p in others):
        raise Refused("conflictingObject", "the organization already has a Google identity provider")
    if row.issuer and any(p.kind == "oidcIdentityProvider" and p.issuer == row.issuer for p in others):
        raise Refused("conflictingObject", f"another identity provider already has the issuer {row.issuer}")
    if row.tenant_id and any(p.tenant_id == row.tenant_id for p in others):
        raise Refused("conflictingObject", f"another identity provider already signs in the tenant {row.tenant_id}")
    mine = set(provider_domains(row))
    taken = {d: p.display_name for p in others for d in provider_domains(p)}
    for federation in (await session.exec(select(FederationConfiguration).where(
            FederationConfiguration.organization_id == row.organization_id))).all():
        taken.update({d: federation.display_name for d in federation.domains})
    clash = sorted(mine & set(taken))
    if clash:
        raise Refused("conflictingObject", f"the domain {clash[0]} already signs in with '{taken[clash[0]]}'; "
                      "a domain belongs to one identity provider")


async def _check_discovery(row: IdentityProvider) -> None:
    """The endpoint must point at a public address and answer a usable discovery document whose
    issuer is the configured one (foyer.usecases.federation_oidc.discovery checks it)."""
    try:
        await outbound.check_url(row.well_known_endpoint)
    except ValueError as error:
        raise _bad(str(error).replace("targetUrl", "wellKnownEndpoint")) from None
    try:
        await federation_oidc.discovery(row, fresh=True)
    except FederationRefused as refused:
        raise _bad(f"wellKnownEndpoint cannot be used: {getattr(refused, 'detail', refused.message)}") from None


# --- writing -----------------------------------------------------------------------------------------

async def _record(session, organization_id: str, actor: dict, activity: str, row: IdentityProvider, **details):
    await audit(session, key=None, category="Policy", activity=activity, organization_id=organization_id,
                **actor, target_type="IdentityProvider", target_id=row.id, target_name=row.display_name,
                details=details)


def _body(body: Any) -> dict:
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


async def create(session, organization_id: str, actor: dict, body: Any) -> IdentityProvider:
    body = _body(body)
    row = IdentityProvider(organization_id=organization_id, kind=kind_of(body.get("@odata.type")),
                           display_name="", client_id="")
    _apply(row, body, creating=True)
    await _check_unique(session, row)
    if row.kind == "oidcIdentityProvider":
        await _check_discovery(row)
    session.add(row)
    await _record(session, organization_id, actor, "Add identity provider", row, type=row.kind,
                  identityProviderType=row.identity_provider_type, issuer=row.issuer,
                  clientAuthentication=row.client_authentication_method, domains=list(provider_domains(row)))
    await commit(session, "the identity provider could not be saved")
    return row


async def update(session, row: IdentityProvider, actor: dict, body: Any) -> None:
    body = _body(body)
    given = body.get("@odata.type")
    if given is not None and kind_of(given) != row.kind:
        raise _bad(f"@odata.type cannot be changed: this is an {row.kind}")
    changed = _apply(row, body, creating=False)
    if not changed:
        raise _bad("nothing to update")
    await _check_unique(session, row)
    if row.kind == "oidcIdentityProvider" and {"issuer", "wellKnownEndpoint"} & set(changed):
        await _check_discovery(row)
    session.add(row)
    await _record(session, row.organization_id, actor, "Update identity provider", row,
                  modifiedProperties=",".join(changed))
    await commit(session, "the identity provider could not be saved")


async def delete(session, row: IdentityProvider, actor: dict) -> None:
    flows = (await session.exec(select(UserFlow).where(UserFlow.organization_id == row.organization_id))).all()
    using = [flow.id for flow in flows if row.id in (flow.identity_provider_ids or [])]
    if using:
        raise Refused("conflictingObject", f"the identity provider '{row.display_name}' is offered by the user "
                      f"flow(s) {', '.join(using)}: remove it from them first")
    await session.delete(row)
    await _record(session, row.organization_id, actor, "Delete identity provider", row)
    await commit(session, "the identity provider could not be deleted")
