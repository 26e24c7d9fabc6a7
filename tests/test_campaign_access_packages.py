"""Campaign rows may name access packages: the dry run refuses unknown packages and packages
whose policy is ambiguous; once a row is invited its guest is assigned each package directly
(adminAdd), and the group and app the package grants are delivered."""

import uuid

from sqlmodel import select

from foyer.db import reading, session_scope
from foyer.models.directory import AppRoleAssignment, GroupMember
from foyer.models.entitlement import Assignment, AssignmentPolicy
from tests.factories import make_package, self_service
from tests.support import until
from tests.test_campaign_end_to_end import wait_for_state

CSV_HEADER = ("version:v1.0\nEmail address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] "
              "Required,Access packages [accessPackageIds]\n")


async def test_dry_run_names_bad_packages(api, admin, organization_id):
    package, _, _, _ = await make_package(organization_id, policy=self_service())
    two, _, _, _ = await make_package(organization_id, policy=self_service(), name="Two policies")
    async with session_scope() as session:
        session.add(AssignmentPolicy(access_package_id=two.id, display_name="Second", **self_service()))
    domain = f"pkg-{uuid.uuid4().hex[:6]}.example"
    body = (CSV_HEADER
            + f"a@{domain},https://app.test/,{package.id}\n"
            + f"b@{domain},https://app.test/,{uuid.uuid4()}\n"
            + f"c@{domain},https://app.test/,{two.id}\n"
            + f"d@{domain},https://app.test/,{package.id}/{uuid.uuid4()}\n")
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, data={"dryRun": "true"},
                              files={"file": ("guests.csv", body.encode(), "text/csv")})
    assert response.status_code == 200, response.text
    verdicts = {r["invitedUserEmailAddress"].split("@")[0]: r for r in response.json()["rows"]}
    assert verdicts["a"]["verdict"] == "ok"
    codes = {name: [(p["column"], p["code"]) for p in verdicts[name]["problems"]] for name in "bcd"}
    assert codes == {"b": [("accessPackageIds", "unknownAccessPackage")],
                     "c": [("accessPackageIds", "assignmentPolicyRequired")],
                     "d": [("accessPackageIds", "unknownAssignmentPolicy")]}
    assert verdicts["b"]["row"] == 4  # the file's line: version line, header, then rows


async def test_invited_guests_are_assigned_the_package(api, admin, mail, organization_id):
    package, policy, group, app = await make_package(organization_id, policy=self_service())
    domain = f"pkg-{uuid.uuid4().hex[:6]}.example"
    rows = [{"invitedUserEmailAddress": f"guest{i}@{domain}", "inviteRedirectUrl": "https://app.test/",
             "foyerAccessPackageIds": [package.id] if i < 3 else []} for i in range(5)]
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, json={"rows": rows, "concurrency": 4})
    assert response.status_code == 201, response.text
    done = await wait_for_state(api, admin, response.json()["id"], {"completed"})
    assert done["counts"]["invited"] == 5

    async def assignments():
        async with reading() as session:
            return (await session.exec(select(Assignment.target_id, Assignment.state, Assignment.assignment_policy_id)
                                       .where(Assignment.access_package_id == package.id))).all()

    delivered = await until(assignments, lambda found: len(found) == 3 and all(
        state == "delivered" for _, state, _ in found), seconds=60)
    assert {policy_id for _, _, policy_id in delivered} == {policy.id}
    guests = {target for target, _, _ in delivered}
    async with reading() as session:
        members = set((await session.exec(select(GroupMember.user_id).where(GroupMember.group_id == group.id))).all())
        app_users = set((await session.exec(select(AppRoleAssignment.principal_id).where(
            AppRoleAssignment.application_id == app.id))).all())
    assert guests <= members and guests <= app_users
    for i in range(5):
        await mail.wait_for(f"guest{i}@{domain}")
