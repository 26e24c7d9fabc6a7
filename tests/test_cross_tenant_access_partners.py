"""crossTenantAccessPolicy/default's B2B blocks and inbound trust (service default, PATCH 204,
resetToSystemDefault) and /partners/{tenantId} (POST 201 echoing null blocks, which inherit the
default; PATCH 204; DELETE), audited, Global Administrator only, Graph-style refusals."""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.enums import Role

POLICY = "/v1.0/policies/crossTenantAccessPolicy"
ALL = {"usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
       "applications": {"accessType": "allowed", "targets": [{"target": "AllApplications", "targetType": "application"}]}}
BLOCK_GROUP = {"usersAndGroups": {"accessType": "blocked", "targets": [{"target": "g-1", "targetType": "group"}]},
               "applications": {"accessType": "blocked", "targets": [{"target": "AllApplications",
                                                                      "targetType": "application"}]}}


async def test_default_blocks_and_reset(api, admin, make_token):
    member = await make_token(Role.member)
    body = (await api.get(f"{POLICY}/default", headers=member)).json()
    assert body["isServiceDefault"] is True
    assert body["b2bCollaborationInbound"] == ALL and body["b2bCollaborationOutbound"] == ALL
    assert body["inboundTrust"] == {"isMfaAccepted": False, "isCompliantDeviceAccepted": False,
                                    "isHybridAzureADJoinedDeviceAccepted": False}
    assert (await api.get(POLICY, headers=member)).json()["displayName"] == "CrossTenantAccessPolicy"

    changed = await api.patch(f"{POLICY}/default", headers=admin, json={
        "b2bCollaborationOutbound": BLOCK_GROUP, "inboundTrust": {"isMfaAccepted": True}})
    assert changed.status_code == 204, changed.text
    body = (await api.get(f"{POLICY}/default", headers=member)).json()
    assert body["isServiceDefault"] is False and body["b2bCollaborationOutbound"] == BLOCK_GROUP
    assert body["b2bCollaborationInbound"] == ALL and body["inboundTrust"] == {"isMfaAccepted": True}

    assert (await api.post(f"{POLICY}/default/resetToSystemDefault", headers=member)).status_code == 403
    assert (await api.post(f"{POLICY}/default/resetToSystemDefault", headers=admin)).status_code == 204
    body = (await api.get(f"{POLICY}/default", headers=member)).json()
    assert body["isServiceDefault"] is True and body["b2bCollaborationOutbound"] == ALL


async def test_partner_lifecycle(api, admin, make_token):
    tenant = str(uuid.uuid4())
    created = await api.post(f"{POLICY}/partners", headers=admin, json={
        "tenantId": tenant.upper(), "b2bCollaborationInbound": BLOCK_GROUP})
    assert created.status_code == 201, created.text
    assert {k: v for k, v in created.json().items() if not k.startswith("@")} == {
        "tenantId": tenant, "b2bCollaborationInbound": BLOCK_GROUP, "b2bCollaborationOutbound": None,
        "inboundTrust": None}
    again = await api.post(f"{POLICY}/partners", headers=admin, json={"tenantId": tenant})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflictingObject"

    member = await make_token(Role.member)
    assert tenant in [p["tenantId"] for p in (await api.get(f"{POLICY}/partners", headers=member)).json()["value"]]
    patched = await api.patch(f"{POLICY}/partners/{tenant}", headers=admin, json={
        "b2bCollaborationInbound": None, "inboundTrust": {"isMfaAccepted": True}})
    assert patched.status_code == 204, patched.text
    read = (await api.get(f"{POLICY}/partners/{tenant}", headers=member)).json()
    assert read["b2bCollaborationInbound"] is None and read["inboundTrust"] == {"isMfaAccepted": True}

    assert (await api.delete(f"{POLICY}/partners/{tenant}", headers=member)).status_code == 403
    assert (await api.delete(f"{POLICY}/partners/{tenant}", headers=admin)).status_code == 204
    assert (await api.get(f"{POLICY}/partners/{tenant}", headers=member)).status_code == 404
    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == f"crossTenantAccessPolicy/partners/{tenant}")
            .order_by(AuditRecord.activity_date_time))).all()
    assert [r.activity_display_name for r in records] == [
        "Add cross-tenant access partner settings", "Update cross-tenant access partner settings",
        "Delete cross-tenant access partner settings"]


async def test_refusals(api, admin, make_token, organization_id):
    for body in ({}, {"tenantId": "not-a-guid"}, {"tenantId": organization_id},
                 {"tenantId": str(uuid.uuid4()), "b2bCollaborationInbound": "open"},
                 {"tenantId": str(uuid.uuid4()), "inboundTrust": {"isMfaAccepted": 1}},
                 {"tenantId": str(uuid.uuid4()), "b2bDirectConnectInbound": {}},
                 {"tenantId": str(uuid.uuid4()), "b2bCollaborationOutbound": {"applications": {
                     "accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "application"}]}}}):
        response = await api.post(f"{POLICY}/partners", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert set(response.json()["error"]) >= {"code", "message"}
    for role in (Role.user_administrator, Role.member, Role.guest):
        response = await api.post(f"{POLICY}/partners", headers=await make_token(role), json={"tenantId": str(uuid.uuid4())})
        assert response.status_code == 403, role
    missing = str(uuid.uuid4())
    assert (await api.patch(f"{POLICY}/partners/{missing}", headers=admin,
                            json={"inboundTrust": {"isMfaAccepted": True}})).status_code == 404
    assert (await api.get(f"{POLICY}/partners/{missing}", headers=admin)).status_code == 404
