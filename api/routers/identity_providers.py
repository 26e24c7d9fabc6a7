"""`/v1.0/identity/identityProviders` (Graph's socialIdentityProvider and oidcIdentityProvider):
the providers guests may sign in with. Global Administrators change them; administrators read
them. Thin: foyer.usecases.identity_providers parses, checks and stores."""

from typing import Any

from fastapi import Body, Response

from foyer.api.deps import AdminCaller, GlobalAdminCaller, OrganizationDep, SessionDep, get_in_org
from foyer.api.graph import GraphRouter
from foyer.api.schemas import identity_providers as shapes
from foyer.models.federation import IdentityProvider
from foyer.usecases import identity_providers

router = GraphRouter(prefix="/v1.0/identity/identityProviders", tags=["identity providers"])


@router.get("/availableProviderTypes()", response_model=shapes.StringCollection)
async def available_provider_types(caller: AdminCaller) -> dict:
    return {"value": list(identity_providers.AVAILABLE_TYPES)}


@router.get("", response_model=shapes.IdentityProviderBaseCollection)
async def list_providers(caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    rows = await identity_providers.list_providers(session, org.id)
    return {"value": [identity_providers.provider_body(row) for row in rows]}


@router.post("", status_code=201, response_model=shapes.IdentityProviderBase)
async def create_provider(caller: GlobalAdminCaller, session: SessionDep, org: OrganizationDep,
                          body: Any = Body(...)) -> dict:
    row = await identity_providers.create(session, org.id, caller.actor, body)
    return identity_providers.provider_body(row)


@router.get("/{provider_id}", response_model=shapes.IdentityProviderBase)
async def get_provider(provider_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    return identity_providers.provider_body(
        await get_in_org(session, IdentityProvider, org, provider_id, "identity provider"))


@router.patch("/{provider_id}", status_code=204)
async def update_provider(provider_id: str, caller: GlobalAdminCaller, session: SessionDep,
                          org: OrganizationDep, body: Any = Body(...)) -> Response:
    row = await get_in_org(session, IdentityProvider, org, provider_id, "identity provider")
    await identity_providers.update(session, row, caller.actor, body)
    return Response(status_code=204)


@router.delete("/{provider_id}", status_code=204)
async def delete_provider(provider_id: str, caller: GlobalAdminCaller, session: SessionDep,
                          org: OrganizationDep) -> Response:
    row = await get_in_org(session, IdentityProvider, org, provider_id, "identity provider")
    await identity_providers.delete(session, row, caller.actor)
    return Response(status_code=204)
