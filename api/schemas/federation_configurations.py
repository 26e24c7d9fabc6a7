"""SAML direct federation in Graph's shapes: samlOrWsFedExternalDomainFederation (listed under
directory/federationConfigurations) and its domains (externalDomainName)."""

from foyer.api.schemas import Collection, GraphResource, iso
from foyer.models.federation import FederationConfiguration

FEDERATION_TYPE = "#microsoft.graph.samlOrWsFedExternalDomainFederation"
DOMAIN_TYPE = "#microsoft.graph.externalDomainName"


class ExternalDomainName(GraphResource):
    id: str | None = None


class SamlOrWsFedExternalDomainFederation(GraphResource):
    id: str | None = None
    display_name: str | None = None
    issuer_uri: str | None = None
    metadata_exchange_uri: str | None = None
    passive_sign_in_uri: str | None = None
    preferred_authentication_protocol: str | None = None
    signing_certificate: str | None = None
    domains: list[ExternalDomainName] | None = None  # with $expand=domains, and in the create's answer
    # Foyer's own: every certificate an assertion may be signed with (a rollover's next one too),
    # and what the daily metadata refresh last did.
    foyer_signing_certificates: list[str] | None = None
    foyer_metadata_refreshed_date_time: str | None = None
    foyer_metadata_refresh_error: str | None = None
    foyer_created_date_time: str | None = None


SamlOrWsFedExternalDomainFederationCollection = Collection[SamlOrWsFedExternalDomainFederation]
ExternalDomainNameCollection = Collection[ExternalDomainName]


def domain_body(domain: str) -> dict:
    return {"@odata.type": DOMAIN_TYPE, "id": domain}


def federation_body(row: FederationConfiguration, with_domains: bool = False) -> dict:
    body = {
        "@odata.type": FEDERATION_TYPE, "id": row.id, "displayName": row.display_name, "issuerUri": row.issuer_uri,
        "metadataExchangeUri": row.metadata_exchange_uri, "passiveSignInUri": row.passive_sign_in_uri,
        "preferredAuthenticationProtocol": row.preferred_authentication_protocol,
        "signingCertificate": row.signing_certificate,
        "foyerSigningCertificates": list(row.signing_certificates or [row.signing_certificate]),
        "foyerMetadataRefreshedDateTime": iso(row.metadata_refreshed_date_time),
        "foyerMetadataRefreshError": row.metadata_refresh_error,
        "foyerCreatedDateTime": iso(row.created_date_time),
    }
    if with_domains:
        body["domains"] = [domain_body(d) for d in row.domains]
    return body
