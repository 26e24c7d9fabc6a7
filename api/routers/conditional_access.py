"""`/v1.0/identity/conditionalAccess` (Graph): Conditional Access policies, the built-in
authentication strengths, and the what-if action.

- `/policies` and `/policies/{id}` (also at `/v1.0/policies/conditionalAccessPolicies`): GET, POST
  → 201, PATCH → 204 (the top-level blocks given replace the stored ones), DELETE → 204.
- `/authenticationStrength/policies` and `/{id}` (also `/v1.0/policies/authenticationStrengthPolicies`):
  the three built-in strengths, read-only (custom strengths are not supported).
- `POST /evaluate` (also `/microsoft.graph.evaluate`): Graph's what-if, `{"value": [whatIfAnalysisResult]}`.

Administrators read and evaluate; changes need a Global Administrator and are audited ("Policy").
Thin: foyer.usecases.conditional_access checks, stores and evaluates (foyer.rules.conditional_access).
"""

from typing import Any

from fastapi import Body, Response

from foyer.api.deps import AdminCaller, GlobalAdminCaller, OrganizationDep, SessionDep
from foyer.api.errors import GraphError, not_found
from foyer.api.graph import GraphRouter
from foyer.api.schemas import conditional_access as shapes
from foyer.rules import authentication_strength as strengths
from foyer.usecases import conditional_access

router = GraphRouter(prefix="/v1.0", tags=["conditional access"])
ROOT = "/identity/conditionalAccess"
CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess"
POLICY_PATHS = (f"{ROOT}/policies", "/policies/conditionalAccessPolicies")
WHAT_IF_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.whatIfAnalysisResult)"
STRENGTH_PATHS = (f"{ROOT}/authenticationStrength/policies", "/policies/authenticationStrengthPolicies")


# --- policies -----------------------------------------------------------------------------------------

async def list_policies(caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    rows = await conditional_access.list_policies(session, org.id)
    return {"@odata.context": f"{CONTEXT}/policies",
            "value": [conditional_access.policy_body(row) for row in rows]}


async def create_policy(caller: GlobalAdminCaller, session: SessionDep, org: OrganizationDep,
                        body: Any = Body(...)) -> dict:
    row = await conditional_access.create_policy(session, org.id, caller.actor, body)
    return {"@odata.context": f"{CONTEXT}/policies/$entity", **conditional_access.policy_body(row)}


async def get_policy(policy_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    row = await conditional_access.get_policy(session, org.id, policy_id)
    return {"@odata.context": f"{CONTEXT}/policies/$entity", **conditional_access.policy_body(row)}


async def update_policy(policy_id: str, caller: GlobalAdminCaller, session: SessionDep, org: OrganizationDep,
                        body: Any = Body(...)) -> Response:
    await conditional_access.update_policy(session, org.id, caller.actor, policy_id, body)
    return Response(status_code=204)


async def delete_policy(policy_id: str, caller: GlobalAdminCaller, session: SessionDep,
                        org: OrganizationDep) -> Response:
    await conditional_access.delete_policy(session, org.id, caller.actor, policy_id)
    return Response(status_code=204)


for path in POLICY_PATHS:
    router.add_api_route(path, list_policies, methods=["GET"], response_model=shapes.ConditionalAccessPolicyCollection)
    router.add_api_route(path, create_policy, methods=["POST"], status_code=201,
                         response_model=shapes.ConditionalAccessPolicy)
    router.add_api_route(f"{path}/{{policy_id}}", get_policy, methods=["GET"],
                         response_model=shapes.ConditionalAccessPolicy)
    router.add_api_route(f"{path}/{{policy_id}}", update_policy, methods=["PATCH"], status_code=204)
    router.add_api_route(f"{path}/{{policy_id}}", delete_policy, methods=["DELETE"], status_code=204)


# --- authentication strengths -------------------------------------------------------------------------

async def list_strengths(caller: AdminCaller) -> dict:
    return {"@odata.context": f"{CONTEXT}/authenticationStrength/policies",
            "value": [strengths.built_in_policy(strength_id) for strength_id in strengths.ORDER]}


async def get_strength(strength_id: str, caller: AdminCaller) -> dict:
    if strength_id not in strengths.BUILT_IN:
        raise not_found(f"authentication strength {strength_id[:64]}")
    return strengths.built_in_policy(strength_id)


async def refuse_custom_strength(caller: AdminCaller) -> None:
    raise GraphError(405, "Request_BadRequest", "custom authentication strengths are not supported: Foyer has the "
                     f"three built-in ones ({', '.join(strengths.ORDER)})", headers={"Allow": "GET"})


for path in STRENGTH_PATHS:
    router.add_api_route(path, list_strengths, methods=["GET"],
                         response_model=shapes.AuthenticationStrengthPolicyCollection)
    router.add_api_route(path, refuse_custom_strength, methods=["POST"], include_in_schema=False)
    router.add_api_route(f"{path}/{{strength_id}}", get_strength, methods=["GET"],
                         response_model=shapes.AuthenticationStrengthPolicy)
    router.add_api_route(f"{path}/{{strength_id}}", refuse_custom_strength, methods=["PATCH", "DELETE"],
                         include_in_schema=False)


# --- what if ------------------------------------------------------------------------------------------

async def evaluate(caller: AdminCaller, session: SessionDep, org: OrganizationDep, body: Any = Body(...)) -> dict:
    return {"@odata.context": WHAT_IF_CONTEXT, "value": await conditional_access.what_if(session, org, body)}


for path in (f"{ROOT}/evaluate", f"{ROOT}/microsoft.graph.evaluate"):
    router.add_api_route(path, evaluate, methods=["POST"], response_model=shapes.WhatIfAnalysisResultCollection)
