"""A user flow cannot be deleted while sign-ups through it are still in progress (approvers and
verifiers act against it); once they have ended, it can."""

import uuid

from foyer.db import session_scope
from foyer.models.sign_up import SignUp
from tests.test_user_flows_crud import new_flow


async def test_flow_with_a_sign_up_in_progress_is_kept(api, admin, organization_id):
    flow = await new_flow(api, admin)
    sign_up_id = str(uuid.uuid4())
    async with session_scope() as session:
        session.add(SignUp(id=sign_up_id, organization_id=organization_id, user_flow_id=flow["id"],
                           email=f"{sign_up_id[:8]}@fabrikam.example", state="pendingApproval",
                           workflow_id=f"signup:{sign_up_id}"))

    refused = await api.delete(f"/v1.0/identity/b2xUserFlows/{flow['id']}", headers=admin)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "conflictingObject"
    assert "1 sign-up(s)" in refused.json()["error"]["message"]
    assert (await api.get(f"/v1.0/identity/b2xUserFlows/{flow['id']}", headers=admin)).status_code == 200

    async with session_scope() as session:
        row = await session.get(SignUp, sign_up_id)
        row.state = "denied"
        session.add(row)
    deleted = await api.delete(f"/v1.0/identity/b2xUserFlows/{flow['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert (await api.get(f"/v1.0/identity/b2xUserFlows/{flow['id']}", headers=admin)).status_code == 404
