"""Conditional Access policies (Graph's identity/conditionalAccess/policies): storing them, answering
them in Graph's shape, handing them to the evaluator (foyer.rules.conditional_access), and the
what-if action (`evaluate`). foyer.api.routers.conditional_access is the HTTP edge.

A body is checked whole (foyer.rules.conditional_access.normalized_policy names the field at
fault) and stored in Graph's full shape; a PATCH replaces the top-level properties it gives
(`conditions` merges, as in Graph's own example: objects merge, lists replace) and the result is
checked whole again. The users, groups and applications a policy newly names must exist
in the organization. Changes are audited ("Policy": Add / Update / Delete conditional access policy).
"""

import uuid
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.audit import audit
from foyer.errors import Refused
from foyer.models.base import utcnow
from foyer.models.conditional_access import ConditionalAccessPolicy
from foyer.models.directory import Application, Group, Organization, User
from foyer.models.enums import UserType
from foyer.rules import authentication_strength as strengths
from foyer.rules import conditional_access as rules
# The one query for a person's groups, shared with who may sign in to which app.
from foyer.usecases.app_access import group_ids_of as group_ids
from foyer.usecases.updates import commit

WHAT_IF_RESULT = "#microsoft.graph.whatIfAnalysisResult"
USER_SIGN_IN = "#microsoft.graph.userSignIn"
APPLICATION_CONTEXT = "#microsoft.graph.applicationContext"
COLUMNS = {"displayName": "display_name", "description": "description", "state": "state",
           "conditions": "conditions", "grantControls": "grant_controls", "sessionControls": "session_controls"}


def _bad(message: str) -> Refused:
    return Refused("invalidRequest", message)


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# --- reading ------------------------------------------------------------------------------------------

def stored_blocks(row: ConditionalAccessPolicy) -> dict:
    """The policy's blocks as stored (what the evaluator reads, what a PATCH merges into)."""
    return {name: getattr(row, column) for name, column in COLUMNS.items()}


def policy_body(row: ConditionalAccessPolicy) -> dict:
    """Graph's conditionalAccessPolicy; authenticationStrength expanded to the strength's policy,
    as Graph answers it."""
    grant = dict(row.grant_controls) if row.grant_controls else None
    if grant and isinstance(grant.get("authenticationStrength"), dict):
        strength_id = grant["authenticationStrength"].get("id")
        if strength_id in strengths.BUILT_IN:
            grant["authenticationStrength"] = strengths.built_in_policy(strength_id)
    return {"id": row.id, "templateId": None, "displayName": row.display_name, "description": row.description,
            "createdDateTime": _iso(row.created_date_time), "modifiedDateTime": _iso(row.modified_date_time),
            "state": row.state, "conditions": row.conditions, "grantControls": grant,
            "sessionControls": row.session_controls}


async def list_policies(session: AsyncSession, organization_id: str) -> list[ConditionalAccessPolicy]:
    return list((await session.exec(select(ConditionalAccessPolicy).where(
        ConditionalAccessPolicy.organization_id == organization_id).order_by(
        ConditionalAccessPolicy.created_date_time, ConditionalAccessPolicy.id))).all())


async def get_policy(session: AsyncSession, organization_id: str, policy_id: str) -> ConditionalAccessPolicy:
    row = await session.get(ConditionalAccessPolicy, policy_id) if len(policy_id) <= 64 else None
    if row is None or row.organization_id != organization_id:
        raise Refused("Request_ResourceNotFound", f"conditional access policy {policy_id[:64]} does not exist",
                      status_hint=404)
    return row


async def enforced_policies(session: AsyncSession, organization_id: str) -> list[dict]:
    """Every policy of the organization as the evaluator reads it (one query; disabled and
    report-only ones too, for the sign-in log's record)."""
    return [{"id": row.id, **stored_blocks(row)} for row in await list_policies(session, organization_id)]


# --- checking -------------------------------------------------------------------------------------------

def _normalized(body: Any, *, creating: bool) -> dict:
    refusal = rules.policy_refusal(body, creating=creating)
    if refusal is not None:
        raise _bad(refusal)
    return rules.normalized_policy(body)


async def _check_references(session: AsyncSession, organization_id: str, policy: dict, before: dict | None) -> None:
    """The users, groups and apps the policy names that it did not name before must exist here."""
    wanted = rules.referenced_ids(policy)
    known = rules.referenced_ids(before) if before else {"users": set(), "groups": set(), "applications": set()}
    checks = (("users", User, User.id, "includeUsers/excludeUsers", "user"),
              ("groups", Group, Group.id, "includeGroups/excludeGroups", "group"),
              ("applications", Application, Application.app_id, "includeApplications/excludeApplications",
               "application (appId)"))
    for kind, model, column, where, what in checks:
        new = sorted(wanted[kind] - known[kind])
        if not new:
            continue
        found = set((await session.exec(select(column).where(
            col(column).in_(new), model.organization_id == organization_id))).all())
        missing = [i for i in new if i not in found]
        if missing:
            block = "applications" if kind == "applications" else "users"
            raise _bad(f"conditions.{block}.{where}: no {what} {missing[0][:64]} in this organization")


# --- writing --------------------------------------------------------------------------------------------

async def _record(session, organization_id: str, actor: dict, activity: str, row: ConditionalAccessPolicy,
                  **details) -> None:
    await audit(session, key=None, category="Policy", activity=activity, organization_id=organization_id,
                **actor, target_type="Policy", target_id=row.id, target_name=row.display_name, details=details)


async def create_policy(session: AsyncSession, organization_id: str, actor: dict, body: Any) -> ConditionalAccessPolicy:
    policy = _normalized(body, creating=True)
    await _check_references(session, organization_id, policy, None)
    row = ConditionalAccessPolicy(organization_id=organization_id,
                                  **{column: policy[name] for name, column in COLUMNS.items()})
    session.add(row)
    await _record(session, organization_id, actor, "Add conditional access policy", row, state=row.state,
                  after=policy)
    await commit(session, "the conditional access policy could not be saved")
    return row


async def update_policy(session: AsyncSession, organization_id: str, actor: dict, policy_id: str,
                        body: Any) -> ConditionalAccessPolicy:
    row = await get_policy(session, organization_id, policy_id)
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    changed = [k for k in body if "@odata." not in k]
    if not changed:
        raise _bad("nothing to update: give displayName, description, state, conditions, grantControls or "
                   "sessionControls")
    before = stored_blocks(row)
    merged = {**before, **{k: v for k, v in body.items() if "@odata." not in k}}
    if isinstance(body.get("conditions"), dict):
        merged["conditions"] = _merged(before["conditions"], body["conditions"])
    policy = _normalized(merged, creating=False)
    await _check_references(session, organization_id, policy, before)
    for name, column in COLUMNS.items():
        setattr(row, column, policy[name])
    row.modified_date_time = utcnow()
    session.add(row)
    differs = [name for name in COLUMNS if before[name] != policy[name]]
    await _record(session, organization_id, actor, "Update conditional access policy", row,
                  modifiedProperties=",".join(changed),
                  before={k: before[k] for k in differs}, after={k: policy[k] for k in differs})
    await commit(session, "the conditional access policy could not be saved")
    return row


def _merged(stored, given):
    """A PATCH's conditions merged into the stored ones, as Graph merges them ({"conditions":
    {"users": {"excludeUsers": [...]}}} leaves the rest as it is): objects merge, lists and values
    replace; externalTenants is replaced whole (its kind decides its members)."""
    if not isinstance(stored, dict) or not isinstance(given, dict):
        return given
    merged = dict(stored)
    for key, value in given.items():
        merged[key] = value if key == "externalTenants" else _merged(stored.get(key), value)
    return merged


async def delete_policy(session: AsyncSession, organization_id: str, actor: dict, policy_id: str) -> None:
    row = await get_policy(session, organization_id, policy_id)
    before = stored_blocks(row)
    await session.delete(row)
    await _record(session, organization_id, actor, "Delete conditional access policy", row, before=before)
    await commit(session, "the conditional access policy could not be deleted")


# --- what if ----------------------------------------------------------------------------------------------

def _odata_type(value: dict, where: str, expected: str) -> None:
    given = value.get("@odata.type")
    if given is not None and (not isinstance(given, str) or given.lstrip("#") != expected.lstrip("#")):
        raise _bad(f"{where}.@odata.type must be {expected}: Foyer evaluates a user's sign-in to an application")


def _object(body: dict, name: str, *, required: bool) -> dict:
    value = body.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"{name} must be an object" if value is not None else f"{name} is required")
    return value


async def what_if(session: AsyncSession, org: Organization, body: Any) -> list[dict]:
    """Graph's evaluate action: which policies would apply to this user signing in to this app,
    assuming no second factor done yet (so a policy asking for MFA applies). Graph's
    whatIfAnalysisResult list: each policy's body with policyApplies and analysisReasons."""
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    unknown = sorted(set(body) - {"signInIdentity", "signInContext", "signInConditions", "appliedPoliciesOnly"})
    if unknown:
        raise _bad(f"evaluate has no parameter {', '.join(unknown)}")
    identity = _object(body, "signInIdentity", required=True)
    _odata_type(identity, "signInIdentity", USER_SIGN_IN)
    user_id = identity.get("userId")
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 64:
        raise _bad("signInIdentity.userId must be a user's id")
    user = await session.get(User, user_id.strip())
    if user is None or user.organization_id != org.id:
        raise _bad(f"signInIdentity.userId: no user {user_id[:64]} in this organization")
    tenant = identity.get("externalTenantId")
    if tenant is not None:
        try:
            tenant = str(uuid.UUID(str(tenant)))
        except ValueError:
            raise _bad("signInIdentity.externalTenantId must be a tenant id (a GUID)") from None
    guest_type = rules.B2B_COLLABORATION_GUEST if user.user_type == UserType.guest else None
    given_type = identity.get("externalUserType")
    if given_type is not None:
        if given_type not in rules.GUEST_TYPES:
            raise _bad(f"signInIdentity.externalUserType must be one of {', '.join(rules.GUEST_TYPES)}")
        guest_type = None if given_type == "none" else given_type

    context = _object(body, "signInContext", required=False)
    _odata_type(context, "signInContext", APPLICATION_CONTEXT)
    apps = context.get("includeApplications") or []
    if not isinstance(apps, list) or len(apps) > 1 or any(not isinstance(a, str) or len(a) > 64 for a in apps):
        raise _bad("signInContext.includeApplications must be a list of one application's appId (or empty: "
                   "Foyer's own pages)")
    application_id = apps[0] if apps else None
    if application_id is not None and application_id != rules.ALL:
        found = (await session.exec(select(Application.id).where(
            Application.app_id == application_id, Application.organization_id == org.id))).first()
        if found is None:
            raise _bad(f"signInContext.includeApplications: no application with appId {application_id} "
                       "in this organization")
    conditions = _object(body, "signInConditions", required=False)
    client_app_type = conditions.get("clientAppType") or "browser"
    if client_app_type not in rules.CLIENT_APP_TYPES or client_app_type == "all":
        raise _bad("signInConditions.clientAppType must be one of "
                   f"{', '.join(t for t in rules.CLIENT_APP_TYPES if t != 'all')}")
    applied_only = body.get("appliedPoliciesOnly", False)
    if not isinstance(applied_only, bool):
        raise _bad("appliedPoliciesOnly must be true or false")

    now = utcnow()
    facts = rules.SignInFacts(
        user_id=user.id, group_ids=frozenset(await group_ids(session, user.id)), user_type=user.user_type,
        guest_or_external_user_type=guest_type, external_tenant_id=tenant,
        application_id=None if application_id == rules.ALL else application_id, methods=frozenset(),
        partner_mfa_trusted=False, authenticated_at=now, now=now, client_app_type=client_app_type)
    rows = await list_policies(session, org.id)
    evaluation = rules.evaluate([{"id": row.id, **stored_blocks(row)} for row in rows], facts)
    answer = []
    for row, result in zip(rows, evaluation.results):
        if applied_only and not result.applies:
            continue
        answer.append({"@odata.type": WHAT_IF_RESULT, **policy_body(row), "policyApplies": result.applies,
                       "analysisReasons": ",".join(result.analysis_reasons) or "notSet"})
    return answer
