"""Response shapes of identity/identityProviders (Graph's socialIdentityProvider and
oidcIdentityProvider, one shape holding both: `@odata.type` says which)."""

from pydantic import BaseModel, ConfigDict, Field

from foyer.api.schemas import Collection, GraphResource


class ClientAuthentication(BaseModel):
    """oidcClientSecretAuthentication (clientSecret "****", Foyer's foyerTokenEndpointAuthMethod) or
    oidcPrivateJwtKeyClientAuthentication (Foyer's foyerJwksUri: where Foyer's keys are)."""
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    odata_type: str | None = Field(None, alias="@odata.type")
    client_secret: str | None = Field(None, alias="clientSecret")
    foyer_token_endpoint_auth_method: str | None = Field(None, alias="foyerTokenEndpointAuthMethod")
    foyer_jwks_uri: str | None = Field(None, alias="foyerJwksUri")


class IdentityProviderBase(GraphResource):
    id: str | None = None
    display_name: str | None = None
    identity_provider_type: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    issuer: str | None = None
    scope: str | None = None
    response_type: str | None = None
    well_known_endpoint: str | None = None
    client_authentication: ClientAuthentication | None = None
    inbound_claim_mapping: dict | None = None
    domains: list[str] | None = None
    foyer_redirect_uri: str | None = None
    foyer_tenant_id: str | None = None


IdentityProviderBaseCollection = Collection[IdentityProviderBase]


class StringCollection(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    odata_context: str | None = Field(None, alias="@odata.context")
    value: list[str]
