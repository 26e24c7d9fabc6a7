"""Shared by the SAML federation tests: a federation row for a tests/saml_idp.py IdP, written
straight to the database (the Graph API that makes one is tested on its own), and a verification
as the ACS page runs it (one transaction per answer, committed as the page commits it)."""

import uuid

from foyer.db import session_scope
from foyer.models.federation import FederationConfiguration
from foyer.usecases.federation import saml_acs_url, sp_entity_id
from foyer.usecases.federation_saml import verified_identity
from tests.saml_idp import SamlIdp


def idp_for(organization_id: str) -> SamlIdp:
    """An IdP that answers this organization's SP (its entity id and ACS)."""
    return SamlIdp(sp_entity_id=sp_entity_id(organization_id), acs_url=saml_acs_url())


async def make_federation(organization_id: str, idp: SamlIdp, domains: list[str] | None = None,
                          **fields) -> FederationConfiguration:
    values = {"display_name": "Fabrikam SAML", "issuer_uri": idp.entity_id, "metadata_exchange_uri": idp.metadata_url,
              "passive_sign_in_uri": idp.sso_url, "signing_certificate": idp.certificate,
              "signing_certificates": [idp.certificate],
              "domains": domains or [f"fed-{uuid.uuid4().hex[:8]}.test"], **fields}
    row = FederationConfiguration(organization_id=organization_id, **values)
    async with session_scope() as session:
        session.add(row)
    return row


async def verify(federation: FederationConfiguration, saml_response: str, request_id: str, *,
                 organization_id: str | None = None):
    """verified_identity in a transaction of its own, committed when it answers."""
    async with session_scope() as session:
        return await verified_identity(
            session, federation, saml_response=saml_response, request_id=request_id, acs_url=saml_acs_url(),
            sp_entity_id=sp_entity_id(organization_id or federation.organization_id))


async def refusal(federation: FederationConfiguration, saml_response: str, request_id: str) -> str:
    """The code verified_identity refuses `saml_response` with (fails the test if it accepts it)."""
    from foyer.usecases.federation import FederationRefused

    try:
        identity = await verify(federation, saml_response, request_id)
    except FederationRefused as refused:
        assert refused.message, refused.code
        return refused.code
    raise AssertionError(f"accepted: {identity}")


async def requested(organization_id: str, federation: FederationConfiguration) -> str:
    """A fresh AuthnRequest's ID, as the round trip stores it on the attempt."""
    from foyer.usecases.federation_saml import authn_request_url

    _, request_id = authn_request_url(federation, relay_state="r", acs_url=saml_acs_url(),
                                      sp_entity_id=sp_entity_id(organization_id))
    return request_id


async def federation_row(federation_id: str) -> FederationConfiguration:
    async with session_scope() as session:
        return await session.get(FederationConfiguration, federation_id)


async def keep_healthy(client, federation: FederationConfiguration):
    """Start the federation's SamlMetadataWorkflow as the create does; its handle."""
    from foyer.workflows.client import saml_metadata
    from foyer.workflows.messages.saml_metadata import saml_metadata_workflow_id

    await saml_metadata.start(client, federation.id, federation.organization_id)
    return client.get_workflow_handle(saml_metadata_workflow_id(federation.id))


async def warnings_for(federation_id: str) -> list[str]:
    """The outbox keys of the federation's certificate expiry mails."""
    from sqlmodel import select

    from foyer.models.outbox import OutboxMessage

    async with session_scope() as session:
        return sorted((await session.exec(select(OutboxMessage.key).where(
            OutboxMessage.key.startswith(f"saml-certificate-expiring:{federation_id}:")))).all())


def thumbprint(key) -> str:
    """A tests.saml_idp.SigningKey's certificate as the workflow names it (SHA-256, hex)."""
    import hashlib

    from cryptography.hazmat.primitives.serialization import Encoding
    return hashlib.sha256(key.cert.public_bytes(Encoding.DER)).hexdigest()
