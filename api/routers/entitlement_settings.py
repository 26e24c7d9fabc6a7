"""`/v1.0/identityGovernance/entitlementManagement/settings` (Graph's entitlementManagementSettings):
what happens to a governed guest who loses their last access package assignment
(`externalUserLifecycleAction`: none, blockSignIn, blockSignInAndDelete) and how long a blocked one
waits before deletion (`durationUntilExternalUserDeletedAfterBlocked`).

Administrators read it; a Global Administrator changes it (audited, "Policy"). A change applies to
guests who lose their last assignment later: a deletion already scheduled keeps its date (the
GuestLifecycleWorkflow carries the duration it started with)."""

from datetime import timedelta

from fastapi import Response
from pydantic import field_validator

from foyer.api.deps import AdminCaller, GlobalAdminCaller, OrganizationDep, SessionDep
from foyer.api.errors import bad_request
from foyer.api.graph import ENTITLEMENT_PREFIX, GraphRouter
from foyer.api.schemas import GraphModel, refuse_null
from foyer.api.schemas import entitlement_responses as shapes
from foyer.audit import audit
from foyer.durations import check_duration, parse_duration
from foyer.models.directory import Organization
from foyer.usecases.guest_lifecycle import ACTIONS

router = GraphRouter(prefix=ENTITLEMENT_PREFIX, tags=["entitlement management"])
# A blocked guest waits at most this long for their deletion (Temporal timers take far more).
MAX_DURATION = "P3650D"


def settings_body(org: Organization) -> dict:
    return {"id": "singleton", "externalUserLifecycleAction": org.external_user_lifecycle_action,
            "durationUntilExternalUserDeletedAfterBlocked": org.duration_until_external_user_deleted_after_blocked}


class SettingsUpdate(GraphModel):
    external_user_lifecycle_action: str | None = None
    duration_until_external_user_deleted_after_blocked: str | None = None

    _present = refuse_null("external_user_lifecycle_action", "duration_until_external_user_deleted_after_blocked")

    @field_validator("external_user_lifecycle_action")
    @classmethod
    def _action(cls, value: str) -> str:
        if value not in ACTIONS:
            raise ValueError(f"externalUserLifecycleAction must be one of {', '.join(ACTIONS)}")
        return value

    @field_validator("duration_until_external_user_deleted_after_blocked")
    @classmethod
    def _duration(cls, value: str) -> str:
        field = "durationUntilExternalUserDeletedAfterBlocked"
        try:
            check_duration(value, field, at_most=MAX_DURATION)
        except ValueError:
            # Entra: 0 days deletes at once; check_duration wants a duration longer than zero.
            if not (isinstance(value, str) and value.upper() in ("P0D", "PT0S") and
                    parse_duration(value) == timedelta(0)):
                raise
        return value


@router.get("/settings", response_model=shapes.EntitlementManagementSettings)
async def get_settings(caller: AdminCaller, org: OrganizationDep) -> dict:
    return settings_body(org)


@router.patch("/settings", status_code=204)
async def update_settings(body: SettingsUpdate, caller: GlobalAdminCaller, session: SessionDep,
                          org: OrganizationDep) -> Response:
    """A partial update; guests already blocked keep their scheduled deletion."""
    if not body.model_fields_set:
        raise bad_request("nothing to update: give externalUserLifecycleAction or "
                          "durationUntilExternalUserDeletedAfterBlocked")
    before = settings_body(org)
    if body.external_user_lifecycle_action is not None:
        org.external_user_lifecycle_action = body.external_user_lifecycle_action
    if body.duration_until_external_user_deleted_after_blocked is not None:
        org.duration_until_external_user_deleted_after_blocked = body.duration_until_external_user_deleted_after_blocked
    session.add(org)
    after = settings_body(org)
    await audit(session, key=None, category="EntitlementManagement",
                activity="Update entitlement management settings", organization_id=org.id, **caller.actor,
                target_type="Policy", target_id="entitlementManagementSettings",
                target_name="Entitlement management settings",
                details={k: v for k, v in after.items() if before[k] != v})
    await session.commit()
    return Response(status_code=204)
