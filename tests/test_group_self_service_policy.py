"""GET|PATCH /v1.0/policies/groupSelfServicePolicy (Foyer's): Entra's "Owners can manage group
membership requests in My Groups" and "Restrict user ability to access groups features in My
Groups", both off by default; partial updates by a Global Administrator, audited."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import Organization
from foyer.models.enums import Role
from tests.factories import make_person

PATH = "/v1.0/policies/groupSelfServicePolicy"


async def test_read_change_and_audit(api, make_token, organization_id):
    member = await make_token(Role.member)
    assert (await api.get(PATH, headers=member)).json() == {
        "id": "groupSelfServicePolicy", "ownersCanManageMembershipRequests": False,
        "restrictUserAccessToMyGroups": False}
    person, admin = await make_person(organization_id, Role.global_administrator, "Pat Policy")
    patched = await api.patch(PATH, headers=admin, json={"ownersCanManageMembershipRequests": True})
    assert patched.status_code == 204, patched.text
    assert (await api.get(PATH, headers=member)).json()["ownersCanManageMembershipRequests"] is True
    async with session_scope() as session:
        org = await session.get(Organization, organization_id)
        [record] = (await session.exec(select(AuditRecord).where(AuditRecord.initiated_by_id == person.id))).all()
    assert org.owners_can_manage_join_requests is True and org.restrict_my_groups is False
    assert record.category == "Policy" and record.details == {"ownersCanManageMembershipRequests": True}


async def test_refusals(api, admin, make_token, organization_id):
    for body in ({}, {"restrictUserAccessToMyGroups": None}, {"restrictUserAccessToMyGroups": "yes"},
                 {"somethingElse": True}):
        assert (await api.patch(PATH, headers=admin, json=body)).status_code == 400, body
    for role in (Role.user_administrator, Role.member):
        response = await api.patch(PATH, headers=await make_token(role), json={"restrictUserAccessToMyGroups": True})
        assert response.status_code == 403
    assert (await api.get(PATH, headers=await make_token(Role.guest))).status_code == 403
    async with session_scope() as session:
        assert (await session.get(Organization, organization_id)).restrict_my_groups is False
