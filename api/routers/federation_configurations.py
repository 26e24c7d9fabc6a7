"""`/v1.0/directory/federationConfigurations` (Graph's samlOrWsFedExternalDomainFederation): SAML
2.0 direct federation with partner domains, and each federation's `domains`. Administrators read
them; Global Administrators change them (audited, DirectoryManagement). The rules are
foyer.usecases.federation_configurations'; Foyer's own request property
`foyerPassiveSignInUriOutsideDomainsConfirmed` confirms a sign-in URL outside the federated
domains.

Creating a federation starts its SamlMetadataWorkflow (daily metadata refresh, certificate
rollover, expiry warnings); a PATCH starts it again if it is missing and wakes it; DELETE ends it.
"""

import logging
from typing import Any

from fastapi import Body, Request, Response

from foyer.api.deps import AdminCaller, GlobalAdminCaller, OrganizationDep, SessionDep, TemporalDep, get_in_org
from foyer.api.errors import bad_request, not_found
from foyer.api.graph import GraphRouter
from foyer.api.schemas import federation_configurations as shapes
from foyer.api.schemas.federation_configurations import domain_body, federation_body
from foyer.errors import Refused
from foyer.models.federation import FederationConfiguration
from foyer.usecases import federation_configurations as federations
from foyer.workflows.client import saml_metadata

router = GraphRouter(prefix="/v1.0/directory/federationConfigurations", tags=["federation"])
CAST = "microsoft.graph.samlOrWsFedExternalDomainFederation"
DOMAIN_CAST = "microsoft.graph.externalDomainName"
WHAT = "federation configuration"
NOT_RUNNING = ("the metadata refresh is not running (the workflow service did not answer); "
               "PATCH the federation to start it")

log = logging.getLogger(__name__)


def _object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    kind = body.get("@odata.type")
    if kind is not None and (not isinstance(kind, str) or kind.lstrip("#") != CAST):
        raise bad_request(f"@odata.type must be {CAST}")
    return {k: v for k, v in body.items() if not k.startswith("@odata.")}


def _expand_domains(request: Request) -> bool:
    expand = request.query_params.get("$expand")
    if expand is None:
        return False
    if [part.strip() for part in expand.split(",")] != ["domains"]:
        raise bad_request("only $expand=domains is supported here")
    return True


async def _keep_healthy(session, temporal, row: FederationConfiguration, *, wake: bool) -> None:
    """Start (or find) the federation's SamlMetadataWorkflow; if Temporal does not answer, the
    change stands and the federation says so (foyerMetadataRefreshError) until a PATCH succeeds."""
    try:
        await saml_metadata.start(temporal, row.id, row.organization_id)
        if wake:
            await saml_metadata.refresh(temporal, row.id)
    except Refused as refused:
        log.warning("SAML metadata workflow of federation %s not started: %s", row.id, refused.message)
        row.metadata_refresh_error = NOT_RUNNING
        session.add(row)
        await session.commit()
        await session.refresh(row)


@router.get("", response_model=shapes.SamlOrWsFedExternalDomainFederationCollection)
async def list_federations(request: Request, caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    expand = _expand_domains(request)
    rows = await federations.listed(session, org)
    return {"value": [federation_body(row, with_domains=expand) for row in rows]}


@router.post(f"/{CAST}", status_code=201, response_model=shapes.SamlOrWsFedExternalDomainFederation)
async def create_federation(caller: GlobalAdminCaller, session: SessionDep, org: OrganizationDep,
                            temporal: TemporalDep, body: Any = Body(...)) -> dict:
    row = await federations.create(session, org, caller.actor, _object(body))
    await _keep_healthy(session, temporal, row, wake=False)
    return federation_body(row, with_domains=True)


@router.get("/{federation_id}", response_model=shapes.SamlOrWsFedExternalDomainFederation)
async def get_federation(federation_id: str, request: Request, caller: AdminCaller, session: SessionDep,
                         org: OrganizationDep) -> dict:
    expand = _expand_domains(request)
    row = await get_in_org(session, FederationConfiguration, org, federation_id, WHAT)
    return federation_body(row, with_domains=expand)


@router.patch("/{federation_id}", status_code=204)
async def update_federation(federation_id: str, caller: GlobalAdminCaller, session: SessionDep,
                            org: OrganizationDep, temporal: TemporalDep, body: Any = Body(...)) -> Response:
    row = await get_in_org(session, FederationConfiguration, org, federation_id, WHAT)
    await federations.update(session, org, caller.actor, row, _object(body))
    await _keep_healthy(session, temporal, row, wake=True)
    return Response(status_code=204)


@router.delete("/{federation_id}", status_code=204)
async def delete_federation(federation_id: str, caller: GlobalAdminCaller, session: SessionDep,
                            org: OrganizationDep, temporal: TemporalDep) -> Response:
    row = await get_in_org(session, FederationConfiguration, org, federation_id, WHAT)
    await federations.delete(session, org, caller.actor, row)
    await saml_metadata.stop(temporal, federation_id)
    return Response(status_code=204)


# --- domains --------------------------------------------------------------------------------

@router.get(f"/{{federation_id}}/{CAST}/domains", response_model=shapes.ExternalDomainNameCollection)
async def list_domains(federation_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    row = await get_in_org(session, FederationConfiguration, org, federation_id, WHAT)
    return {"value": [domain_body(d) for d in row.domains]}


@router.post(f"/{{federation_id}}/{CAST}/domains", status_code=201, response_model=shapes.ExternalDomainName)
async def add_domain(federation_id: str, caller: GlobalAdminCaller, session: SessionDep, org: OrganizationDep,
                     body: Any = Body(...)) -> dict:
    row = await get_in_org(session, FederationConfiguration, org, federation_id, WHAT)
    kind = body.get("@odata.type", DOMAIN_CAST) if isinstance(body, dict) else DOMAIN_CAST
    if not isinstance(kind, str) or kind.lstrip("#") != DOMAIN_CAST:
        raise bad_request("@odata.type must be microsoft.graph.externalDomainName")
    return domain_body(await federations.add_domain(session, org, caller.actor, row, body))


@router.get(f"/{{federation_id}}/{CAST}/domains/{{domain}}", response_model=shapes.ExternalDomainName)
async def get_domain(federation_id: str, domain: str, caller: AdminCaller, session: SessionDep,
                     org: OrganizationDep) -> dict:
    row = await get_in_org(session, FederationConfiguration, org, federation_id, WHAT)
    name = domain.strip().lower().rstrip(".")
    if name not in row.domains:
        raise not_found(f"domain {domain} of federation {federation_id}")
    return domain_body(name)


@router.delete(f"/{{federation_id}}/{CAST}/domains/{{domain}}", status_code=204)
async def remove_domain(federation_id: str, domain: str, caller: GlobalAdminCaller, session: SessionDep,
                        org: OrganizationDep) -> Response:
    row = await get_in_org(session, FederationConfiguration, org, federation_id, WHAT)
    await federations.remove_domain(session, org, caller.actor, row, domain)
    return Response(status_code=204)

