"""`/v1.0/users/{id}/authentication`: a person's second factors, as Graph shows them — read by
admins and by the person themself; removed by admins (audited), e.g. for someone who lost their
phone or key, who then registers again at their next sign-in that asks for MFA."""

from fastapi import Response

from foyer.api.deps import AdminCaller, CallerDep, OrganizationDep, SessionDep, get_in_org
from foyer.api.errors import GraphError, not_found
from foyer.api.graph import GraphRouter
from foyer.api.schemas.authentication_methods import AuthenticationMethodCollection, method_body
from foyer.audit import audit
from foyer.usecases import mfa
from foyer.models.directory import User

router = GraphRouter(prefix="/v1.0/users/{user_id}/authentication", tags=["authentication methods"])
KINDS = {"softwareOathMethods": mfa.SOFTWARE_OATH, "fido2Methods": mfa.FIDO2}


@router.get("/methods", response_model=AuthenticationMethodCollection)
async def list_methods(user_id: str, caller: CallerDep, session: SessionDep, org: OrganizationDep) -> dict:
    if not caller.is_admin and caller.user_id != user_id:
        raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    user = await get_in_org(session, User, org, user_id, "user")
    return {"value": [method_body(m) for m in await mfa.registered_methods(session, user.id)]}


async def _delete(collection: str, user_id: str, method_id: str, caller, session, org) -> Response:
    user = await get_in_org(session, User, org, user_id, "user")
    # Added first, so that the removal's commit writes both (or neither).
    await audit(session, key=None, category="UserManagement", activity="Admin deleted security info",
                organization_id=org.id, **caller.actor, target_type="User", target_id=user.id,
                target_name=user.user_principal_name,
                details={"methodType": collection, "methodId": method_id})
    if await mfa.delete_method(session, user.id, method_id, kind=KINDS[collection]) is None:
        await session.rollback()
        raise not_found(f"authentication method {method_id}")
    return Response(status_code=204)


@router.delete("/softwareOathMethods/{method_id}", status_code=204)
async def delete_software_oath(user_id: str, method_id: str, caller: AdminCaller, session: SessionDep,
                               org: OrganizationDep) -> Response:
    return await _delete("softwareOathMethods", user_id, method_id, caller, session, org)


@router.delete("/fido2Methods/{method_id}", status_code=204)
async def delete_fido2(user_id: str, method_id: str, caller: AdminCaller, session: SessionDep,
                       org: OrganizationDep) -> Response:
    return await _delete("fido2Methods", user_id, method_id, caller, session, org)
