"""`/v1.0/identityGovernance/entitlementManagement/settings`: Graph's shape and defaults, a partial
PATCH (204, audited) by a Global Administrator only, and a 400 naming the field for bad input."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from tests.factories import update_organization

SETTINGS = "/v1.0/identityGovernance/entitlementManagement/settings"
DEFAULTS = {"external_user_lifecycle_action": "blockSignInAndDelete",
            "duration_until_external_user_deleted_after_blocked": "P30D"}


async def test_round_trip(api, admin, organization_id):
    await update_organization(organization_id, **DEFAULTS)
    got = await api.get(SETTINGS, headers=admin)
    assert got.status_code == 200, got.text
    assert got.json() == {"id": "singleton", "externalUserLifecycleAction": "blockSignInAndDelete",
                          "durationUntilExternalUserDeletedAfterBlocked": "P30D"}
    try:
        patched = await api.patch(SETTINGS, headers=admin, json={"externalUserLifecycleAction": "blockSignIn"})
        assert patched.status_code == 204, patched.text
        assert (await api.get(SETTINGS, headers=admin)).json()["externalUserLifecycleAction"] == "blockSignIn"
        patched = await api.patch(SETTINGS, headers=admin, json={
            "@odata.type": "#microsoft.graph.entitlementManagementSettings",
            "durationUntilExternalUserDeletedAfterBlocked": "P4D", "externalUserLifecycleAction": "blockSignInAndDelete"})
        assert patched.status_code == 204, patched.text
        assert (await api.get(SETTINGS, headers=admin)).json() == {
            "id": "singleton", "externalUserLifecycleAction": "blockSignInAndDelete",
            "durationUntilExternalUserDeletedAfterBlocked": "P4D"}
        assert (await api.patch(SETTINGS, headers=admin, json={
            "durationUntilExternalUserDeletedAfterBlocked": "P0D"})).status_code == 204  # delete at once
        async with session_scope() as session:
            records = (await session.exec(select(AuditRecord).where(
                AuditRecord.activity_display_name == "Update entitlement management settings",
                AuditRecord.organization_id == organization_id))).all()
        assert {"durationUntilExternalUserDeletedAfterBlocked": "P0D"} in [r.details for r in records]
        assert {"externalUserLifecycleAction": "blockSignIn"} in [r.details for r in records]
        assert {r.initiated_by_name for r in records} == {"Ada Admin"}
    finally:
        await update_organization(organization_id, **DEFAULTS)


async def test_bad_input_names_the_field(api, admin, organization_id):
    await update_organization(organization_id, **DEFAULTS)
    for body, field in [
        ({"externalUserLifecycleAction": "deleteAtOnce"}, "externalUserLifecycleAction"),
        ({"externalUserLifecycleAction": None}, "externalUserLifecycleAction"),
        ({"durationUntilExternalUserDeletedAfterBlocked": "30 days"}, "durationUntilExternalUserDeletedAfterBlocked"),
        ({"durationUntilExternalUserDeletedAfterBlocked": "P99999D"}, "durationUntilExternalUserDeletedAfterBlocked"),
        ({"durationUntilExternalUserDeletedAfterBlocked": 30}, "durationUntilExternalUserDeletedAfterBlocked"),
        ({"externalUserLifecycle": "none"}, "externalUserLifecycle"),
    ]:
        answer = await api.patch(SETTINGS, headers=admin, json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"]["code"] and field in answer.json()["error"]["message"], (body, answer.text)
    assert (await api.patch(SETTINGS, headers=admin, json={})).status_code == 400
    assert (await api.get(SETTINGS, headers=admin)).json()["durationUntilExternalUserDeletedAfterBlocked"] == "P30D"


async def test_authorization(api, make_token, organization_id):
    await update_organization(organization_id, **DEFAULTS)
    user_admin = await make_token("User Administrator")
    member = await make_token("member")
    assert (await api.get(SETTINGS, headers=user_admin)).status_code == 200
    assert (await api.get(SETTINGS, headers=member)).status_code == 403
    assert (await api.get(SETTINGS)).status_code == 401
    for headers in (user_admin, member):
        answer = await api.patch(SETTINGS, headers=headers, json={"externalUserLifecycleAction": "none"})
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "Authorization_RequestDenied"
    assert (await api.get(SETTINGS, headers=user_admin)).json()["externalUserLifecycleAction"] == "blockSignInAndDelete"
