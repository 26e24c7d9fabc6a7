"""My Access over httpx with a signed-in guest: what they may request (and what they may not),
the request form with the policy's questions, their requests with state, their assignment with
its end date, extending it and removing it; forms refuse a missing or foreign CSRF token."""

import asyncio
import re

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import GroupMember
from foyer.models.entitlement import AccessPackage, Assignment, AssignmentRequest
from tests.factories import make_package, make_user, self_service
from tests.portal_support import csrf_in, sign_in

QUESTIONS = [
    {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "id": "sponsor", "sequence": 0,
     "text": "Who is your sponsor at Contoso?", "isRequired": True, "isSingleLineQuestion": True},
    {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "id": "tools", "sequence": 1,
     "text": "Which tools do you need?", "isRequired": False, "allowsMultipleSelection": True,
     "choices": [{"actualValue": "wiki", "text": "Wiki"}, {"actualValue": "tracker", "text": "Issue tracker"}]},
]


async def wait_until(check, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def request_row(target_id: str, package_id: str, request_type: str, state: str):
    async with session_scope() as session:
        return (await session.exec(select(AssignmentRequest).where(
            AssignmentRequest.target_id == target_id, AssignmentRequest.access_package_id == package_id,
            AssignmentRequest.request_type == request_type, AssignmentRequest.state == state))).first()


async def live_assignment(target_id: str, package_id: str) -> Assignment | None:
    async with session_scope() as session:
        return (await session.exec(select(Assignment).where(
            Assignment.target_id == target_id, Assignment.access_package_id == package_id))).first()


def section(html: str, name: str) -> str:
    match = re.search(rf'<section[^>]*id="{name}".*?</section>', html, re.S)
    assert match, f"no section {name}"
    return match.group(0)


async def test_guest_requests_sees_extends_and_removes_an_assignment(server, mail, organization_id):
    guest = await make_user(organization_id, "Gale Guest", guest=True)
    package, policy, group, _ = await make_package(
        organization_id, name="Partner wiki", policy=self_service(questions=QUESTIONS))
    members_only, members_policy, _, _ = await make_package(
        organization_id, name="Staff lounge", policy=self_service(allowed_target_scope="allMemberUsers"))
    hidden, hidden_policy, _, _ = await make_package(organization_id, name="Secret room", policy=self_service())
    async with session_scope() as session:
        row = await session.get(AccessPackage, hidden.id)
        row.is_hidden = True
        session.add(row)
    no_self, no_self_policy, _, _ = await make_package(
        organization_id, name="Admin only", policy=self_service(requestor_settings={}))

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, guest.mail)
        overview = (await client.get("/myaccess")).text
        offers = section(overview, "offers")
        assert package.display_name in offers and f'href="/myaccess/request/{policy.id}"' in offers
        for other in (members_only, hidden, no_self):
            assert other.display_name not in offers
        assert 'id="no-assignments"' in overview and 'id="no-requests"' in overview
        for refused in (members_policy, hidden_policy, no_self_policy):
            assert (await client.get(f"/myaccess/request/{refused.id}")).status_code == 404

        form = await client.get(f"/myaccess/request/{policy.id}")
        assert form.status_code == 200
        assert "Who is your sponsor at Contoso?" in form.text and "Which tools do you need?" in form.text
        assert re.search(r'<input type="text"[^>]*name="q0"[^>]*required', form.text)
        assert 'type="checkbox" name="q1"' in form.text and "Issue tracker" in form.text
        assert 'class="required"' in form.text and 'id="justification"' in form.text
        token = csrf_in(form.text, f"/myaccess/request/{policy.id}")
        action = f"/myaccess/request/{policy.id}"

        forged = await client.post(action, data={"csrf": "nope", "q0": "Ada"})
        assert forged.status_code == 403
        missing = await client.post(action, data={"csrf": token, "q1": ["wiki"]})
        assert missing.status_code == 400
        assert "needs an answer" in missing.text and 'role="alert"' in missing.text
        assert 'value="wiki" checked' in missing.text  # what was entered is kept

        sent = await client.post(action, data={"csrf": token, "q0": "Ada Lovelace",
                                               "q1": ["wiki", "tracker"], "justification": "Joint project"})
        assert sent.status_code == 200, sent.text
        assert "Request submitted" in sent.text and "No approval is needed" in sent.text

        request = await wait_until(lambda: request_row(guest.id, package.id, "userAdd", "delivered"))
        assert request.justification == "Joint project"
        assert {a["question"]["id"]: a["answeredValue"] for a in request.answers} == {
            "sponsor": "Ada Lovelace", "tools": ["wiki", "tracker"]}
        assignment = await live_assignment(guest.id, package.id)

        overview = (await client.get("/myaccess")).text
        requests = section(overview, "requests")
        assert f'id="request-row-{request.id}"' in requests and 'data-state="delivered"' in requests
        assignments = section(overview, "assignments")
        assert f'id="assignment-{assignment.id}"' in assignments
        assert assignment.end_date_time.strftime("%Y-%m-%d %H:%M UTC") in assignments
        assert "You have this access package" in section(overview, "offers")
        # A second request for a package already held is refused with the reason shown.
        again = await client.post(action, data={"csrf": token, "q0": "Ada"})
        assert again.status_code == 409 and "already have this access package" in again.text

        # Extend: the same questions again, then the end moves.
        extend_page = await client.get(f"/myaccess/assignments/{assignment.id}/extend")
        assert extend_page.status_code == 200 and "Who is your sponsor at Contoso?" in extend_page.text
        extend_token = csrf_in(extend_page.text, f"/myaccess/assignments/{assignment.id}/extend")
        extended = await client.post(f"/myaccess/assignments/{assignment.id}/extend",
                                     data={"csrf": extend_token, "q0": "Ada Lovelace"})
        assert extended.status_code == 200 and "Extension requested" in extended.text
        await wait_until(lambda: request_row(guest.id, package.id, "userUpdate", "delivered"))
        moved = await live_assignment(guest.id, package.id)
        assert moved.end_date_time > assignment.end_date_time

        # Remove: a forged token changes nothing; the real one takes the access back.
        overview = (await client.get("/myaccess")).text
        remove_action = f"/myaccess/assignments/{assignment.id}/remove"
        assert (await client.post(remove_action, data={"csrf": token})).status_code == 403
        removed = await client.post(remove_action, data={"csrf": csrf_in(overview, remove_action)})
        assert removed.status_code == 200 and "Removal requested" in removed.text

        async def gone():
            row = await live_assignment(guest.id, package.id)
            return row if row.state == "expired" else None

        await wait_until(gone)
        await wait_until(lambda: request_row(guest.id, package.id, "userRemove", "delivered"))
        async with session_scope() as session:
            assert await session.get(GroupMember, (group.id, guest.id)) is None
        overview = (await client.get("/myaccess")).text
        assert 'id="no-assignments"' in overview
        assert "Remove" in section(overview, "requests")  # the removal request is listed
        assert f'href="/myaccess/request/{policy.id}"' in section(overview, "offers")


async def test_member_sees_member_packages_and_cannot_touch_someone_elses_assignment(server, mail, organization_id):
    member = await make_user(organization_id, "Mo Member")
    guest = await make_user(organization_id, "Gil Guest", guest=True)
    members_only, _, _, _ = await make_package(
        organization_id, name="Staff lounge", policy=self_service(allowed_target_scope="allMemberUsers"))
    guests_only, guests_policy, _, _ = await make_package(organization_id, name="Guest wifi", policy=self_service())
    named, _, _, _ = await make_package(organization_id, name="Named", policy=self_service(
        allowed_target_scope="specificDirectoryUsers",
        specific_allowed_targets=[{"@odata.type": "#microsoft.graph.singleUser", "userId": member.id}]))
    async with httpx.AsyncClient(base_url=server, timeout=30) as guest_client:
        await sign_in(guest_client, mail, guest.mail)
        form = await guest_client.get(f"/myaccess/request/{guests_policy.id}")
        sent = await guest_client.post(form.url.path, data={"csrf": csrf_in(form.text)})
        assert sent.status_code == 200, sent.text
        guest_assignment = await wait_until(lambda: _delivered(guest.id, guests_only.id))

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, member.mail)
        offers = section((await client.get("/myaccess")).text, "offers")
        assert members_only.display_name in offers and named.display_name in offers
        assert guests_only.display_name not in offers
        # Another person's assignment is not found, whatever the token.
        assert (await client.get(f"/myaccess/assignments/{guest_assignment.id}/extend")).status_code == 404
        from foyer import sessions
        token = sessions.csrf_token(client.cookies.get("foyer_session"), f"remove:{guest_assignment.id}")
        refused = await client.post(f"/myaccess/assignments/{guest_assignment.id}/remove", data={"csrf": token})
        assert refused.status_code == 404
        assert (await live_assignment(guest.id, guests_only.id)).state == "delivered"


async def _delivered(target_id: str, package_id: str):
    row = await live_assignment(target_id, package_id)
    return row if row is not None and row.state == "delivered" else None
