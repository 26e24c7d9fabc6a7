"""A name with a control character in it (CR/LF above all) broke every mail built from it: the
subject header could not be set, the outbox row stayed pending with no error, the activity
retried forever and the access request waited for an approval mail that never left.

So: every endpoint that takes a name refuses control characters (400, naming the property);
multi-line text (descriptions, message bodies, justifications) keeps tab and line breaks and
refuses the rest; names already stored with CR/LF are folded into one header line when the mail
is built; and a message that still cannot be built is recorded on its outbox row and in the
audit log, and does not hold up the process that sent it."""

import asyncio
import uuid

import pytest
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import Organization, User
from foyer.models.entitlement import AccessPackage
from foyer.models.outbox import OutboxMessage
from tests.factories import make_package, make_user, self_service, stage
from tests.support import invite, until
from foyer.workflows.access_request import AccessRequestWorkflow

EM = "/v1.0/identityGovernance/entitlementManagement"
# Never in a name: C0 (CR, LF, TAB, ESC, NUL), DEL, C1 (NEL), the Unicode line separator.
NOT_IN_A_NAME = ["A\r\nB", "A\nB", "A\rB", "A\tB", "A\x1bB", "A\x00B", "A\x7fB", "A\x85B", "A\u2028B"]
# Never in multi-line text either; tab and line breaks are allowed there.
NOT_IN_TEXT = ["A\x00B", "A\x1bB", "A\x0bB", "A\x7fB", "A\x85B"]
LINES = "First line\r\nSecond line\n\tindented"


def _unique(prefix: str = "n") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def ids(api, admin, organization_id, make_member) -> dict:
    member = await make_member()
    group = (await api.post("/v1.0/groups", headers=admin, json={"displayName": _unique("G")})).json()
    catalog = (await api.post(f"{EM}/catalogs", headers=admin, json={"displayName": _unique("C")})).json()
    package = (await api.post(f"{EM}/accessPackages", headers=admin, json={
        "displayName": _unique("P"), "catalog": {"id": catalog["id"]}})).json()
    connected = (await api.post(f"{EM}/connectedOrganizations", headers=admin, json={
        "displayName": _unique("O"), "identitySources": [{
            "@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": f"{_unique('d')}.example"}]})).json()
    connector = (await api.post("/v1.0/identity/apiConnectors", headers=admin, json={
        "displayName": _unique("K"), "targetUrl": "https://localhost/names-connector"})).json()
    return {"org": organization_id, "user": member.id, "group": group["id"], "catalog": catalog["id"],
            "package": package["id"], "connected": connected["id"], "connector": connector["id"]}


def _set(body: dict, path: str, value) -> dict:
    """body with `value` at `path` (dots for nesting, [0] for the first item of a list)."""
    import copy

    body = copy.deepcopy(body)
    target, keys = body, path.split(".")
    for key in keys[:-1]:
        target = target[key.removesuffix("[0]")][0] if key.endswith("[0]") else target[key]
    target[keys[-1]] = value
    return body


def endpoints(ids: dict) -> list[tuple[str, str, dict, str, bool]]:
    """(method, path, a valid body, the property holding a name or text, multi-line?)."""
    invitation = {"invitedUserEmailAddress": f"{_unique('g')}@fabrikam.example",
                  "inviteRedirectUrl": "https://app.contoso.test", "sendInvitationMessage": False,
                  "invitedUserDisplayName": "Guest",
                  "invitedUserMessageInfo": {"customizedMessageBody": "Welcome",
                                             "ccRecipients": [{"emailAddress": {
                                                 "name": "Cc", "address": "cc@contoso.test"}}]}}
    policy = {"displayName": _unique("Q"), "description": "d", "accessPackage": {"id": ids["package"]},
              "questions": [{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion",
                             "text": "Why?"}]}
    extension = {"displayName": _unique("X"), "description": "d",
                 "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint",
                                           "targetUrl": "https://localhost/extension-hook"}}
    site = {"requestType": "adminAdd", "catalog": {"id": ids["catalog"]},
            "resource": {"originId": f"https://contoso.sharepoint.com/sites/{_unique()}",
                         "originSystem": "SharePointOnline", "displayName": "Site", "description": "d"}}
    connected = {"displayName": _unique("O"), "description": "d", "identitySources": [{
        "@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": f"{_unique('d')}.example"}]}

    def user() -> dict:
        email = f"{_unique('u')}@contoso.test"
        return {"displayName": "U", "mail": email, "userPrincipalName": email, "givenName": "Given",
                "surname": "Sur", "mailNickname": "nick"}

    return [
        ("PATCH", f"/v1.0/organization/{ids['org']}", {"displayName": "Contoso Test"}, "displayName", False),
        *[("POST", "/v1.0/users", user(), key, False) for key in ("displayName", "givenName", "surname", "mailNickname")],
        *[("PATCH", f"/v1.0/users/{ids['user']}", {"displayName": "Mia Member", "givenName": "Mia", "surname": "M"},
           key, False) for key in ("displayName", "givenName", "surname")],
        ("POST", "/v1.0/groups", {"displayName": "G", "mailNickname": "g", "description": "d"}, "displayName", False),
        ("POST", "/v1.0/groups", {"displayName": "G", "mailNickname": "g", "description": "d"}, "mailNickname", False),
        ("POST", "/v1.0/groups", {"displayName": "G", "description": "d"}, "description", True),
        ("PATCH", f"/v1.0/groups/{ids['group']}", {"displayName": "G2", "description": "d"}, "displayName", False),
        ("PATCH", f"/v1.0/groups/{ids['group']}", {"displayName": "G2", "description": "d"}, "description", True),
        ("POST", "/v1.0/applications", {"displayName": "App"}, "displayName", False),
        ("POST", f"{EM}/catalogs", {"displayName": "C", "description": "d"}, "displayName", False),
        ("POST", f"{EM}/catalogs", {"displayName": "C", "description": "d"}, "description", True),
        ("PATCH", f"{EM}/catalogs/{ids['catalog']}", {"displayName": "C2", "description": "d"}, "displayName", False),
        ("POST", f"{EM}/accessPackages", {"displayName": "P", "description": "d", "catalog": {"id": ids["catalog"]}},
         "displayName", False),
        ("POST", f"{EM}/accessPackages", {"displayName": "P", "description": "d", "catalog": {"id": ids["catalog"]}},
         "description", True),
        ("PATCH", f"{EM}/accessPackages/{ids['package']}", {"displayName": "P2"}, "displayName", False),
        ("POST", f"{EM}/assignmentPolicies", policy, "displayName", False),
        ("POST", f"{EM}/assignmentPolicies", policy, "description", True),
        ("POST", f"{EM}/assignmentPolicies", policy, "questions[0].text", True),
        ("POST", f"{EM}/connectedOrganizations", connected, "displayName", False),
        ("PATCH", f"{EM}/connectedOrganizations/{ids['connected']}", {"displayName": "O2"}, "displayName", False),
        ("POST", f"{EM}/catalogs/{ids['catalog']}/customWorkflowExtensions", extension, "displayName", False),
        ("POST", f"{EM}/catalogs/{ids['catalog']}/customWorkflowExtensions", extension, "description", True),
        ("POST", f"{EM}/resourceRequests", site, "resource.displayName", False),
        ("POST", "/v1.0/identity/apiConnectors", {"displayName": "K", "targetUrl": "https://localhost/x"},
         "displayName", False),
        ("PATCH", f"/v1.0/identity/apiConnectors/{ids['connector']}", {"displayName": "K2"}, "displayName", False),
        ("POST", "/v1.0/identity/userFlowAttributes", {"displayName": _unique("attr"), "dataType": "string",
                                                      "description": "d"}, "description", True),
        ("POST", "/v1.0/invitations", invitation, "invitedUserDisplayName", False),
        ("POST", "/v1.0/invitations", invitation, "invitedUserMessageInfo.ccRecipients[0].emailAddress.name", False),
        ("POST", "/v1.0/invitations", invitation, "invitedUserMessageInfo.customizedMessageBody", True),
        ("POST", "/v1.0/invitationCampaigns", {"dryRun": True, "displayName": "Campaign", "rows": [{
            "invitedUserEmailAddress": "a@fabrikam.example", "inviteRedirectUrl": "https://x.test"}]},
         "displayName", False),
    ]


async def test_every_name_refuses_control_characters(api, admin, ids):
    for method, path, good, field, multiline in endpoints(ids):
        for bad in NOT_IN_TEXT if multiline else NOT_IN_A_NAME:
            response = await api.request(method, path, headers=admin, json=_set(good, field, bad))
            assert response.status_code == 400, (method, path, field, bad, response.text)
            message = response.json()["error"]["message"]
            assert "control character" in message or "NUL" in message, (path, field, bad, message)
            if "control character" in message:
                assert field.split(".")[-1].split("[")[0] in message, (path, field, message)
    # The same bodies with a clean name are accepted: it is the character that was refused.
    for method, path, good, field, multiline in endpoints(ids):
        value = LINES if multiline else "Plain name \u00e9\u4e2d \U0001F600"
        response = await api.request(method, path, headers=admin, json=_set(good, field, value))
        assert response.status_code < 300, (method, path, field, response.text)


async def test_campaign_rows_with_control_characters(api, admin):
    """In a campaign a row is judged on its own: a display name that is not one line makes the row
    invalid (the others go on); a control character no text may hold refuses the input."""
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, json={"dryRun": True, "rows": [
        {"invitedUserEmailAddress": "a@fabrikam.example", "inviteRedirectUrl": "https://x.test",
         "invitedUserDisplayName": "Ann\r\nBcc: victim@example.org"},
        {"invitedUserEmailAddress": "b@fabrikam.example", "inviteRedirectUrl": "https://x.test",
         "customizedMessageBody": LINES}]})
    assert response.status_code == 200, response.text
    first, second = response.json()["rows"]
    assert first["verdict"] == "invalid" and first["problems"][0]["code"] == "badDisplayName", first
    assert second["verdict"] == "ok", second
    csv = ("version:v1.0\nEmail address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] "
           'Required,Name [displayName]\nc@fabrikam.example,https://x.test,"Cy\r\nEvil"\n')
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, data={"dryRun": "true"},
                              files={"file": ("c.csv", csv.encode(), "text/csv")})
    assert response.status_code == 200, response.text
    assert response.json()["rows"][0]["problems"][0]["code"] == "badDisplayName"
    for bad in ("A\x00B", "A\x1bB"):
        response = await api.post("/v1.0/invitationCampaigns", headers=admin, json={"dryRun": True, "rows": [
            {"invitedUserEmailAddress": "a@fabrikam.example", "inviteRedirectUrl": "https://x.test",
             "invitedUserDisplayName": bad}]})
        message = response.json()["error"]["message"]
        # NUL is refused app-wide before the rows are read (api.errors.RefuseNul).
        assert response.status_code == 400 and ("control character" in message or "NUL" in message), message


async def test_justification_keeps_lines_and_refuses_controls(api, make_token, organization_id):
    guest = await make_user(organization_id, "Jo Guest", guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    headers = await make_token("guest", user_id=guest.id)
    body = {"requestType": "userAdd", "assignment": {"accessPackageId": package.id,
                                                     "assignmentPolicyId": policy.id}}
    for bad in NOT_IN_TEXT:
        response = await api.post(f"{EM}/assignmentRequests", headers=headers, json={**body, "justification": bad})
        assert response.status_code == 400, (bad, response.text)
    response = await api.post(f"{EM}/assignmentRequests", headers=headers, json={**body, "justification": LINES})
    assert response.status_code == 201, response.text


async def test_sign_up_form_refuses_control_characters_in_names(server, mail, organization_id):
    """What a stranger types on the sign-up form becomes the guest's name: the form comes back
    with the field's error, and what is right goes through."""
    import httpx

    from tests.sign_up_support import result_state, submit_attributes, through_code
    from tests.factories import make_flow
    from tests.support import find_user, unique_email

    flow_id = await make_flow(organization_id)
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        sign_up_id, _ = await through_code(client, mail, flow_id, email := unique_email())
        for bad in ("Eve\r\nBcc: victim@example.org", "Eve\x1b[31m", "Eve\u2028Mallory"):
            page = await submit_attributes(client, flow_id, sign_up_id, email, displayName=bad, country="NO")
            assert page.status_code == 400, (page.status_code, page.text[-1500:])
            assert 'id="error-displayName"' in page.text and "control characters" in page.text
        ok = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Eve Good", country="NO")
        assert ok.status_code == 200 and result_state(ok.text) == "completed", ok.text[:500]
    assert (await find_user(email)).display_name == "Eve Good"


async def test_sign_up_callbacks_and_decisions_refuse_control_characters(server, api, admin, mail,
                                                                         organization_id):
    """The verifier's message and the approver's reason are mailed to the person: multi-line text,
    no other control characters; a refused callback is not remembered as heard."""
    import httpx

    from tests.connector_server import connector_server
    from tests.sign_up_support import callback, sign_up_row, submit_attributes, through_code
    from tests.factories import make_flow
    from tests.support import unique_email

    async with connector_server() as connectors:
        verifier = await connectors.connector(organization_id)
        system = await connectors.connector(organization_id)
        connectors.reply({"action": "Pending", "reference": "idv-1"}, status=202, step="identityVerification")
        connectors.reply({"action": "Pending", "reference": "t-1"}, status=202, step="approvalRequested")
        flow_id = await make_flow(organization_id, identity_verification={"apiConnectorId": verifier},
                                  approval={"approverIds": [], "apiConnectorId": system, "timeout": "P7D"})
        email = unique_email()
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            sign_up_id, _ = await through_code(client, mail, flow_id, email)
            await submit_attributes(client, flow_id, sign_up_id, email, displayName="Cy Check", country="KE")
        for bad in NOT_IN_TEXT:
            response = await callback(api, sign_up_id, "verification",
                                      {"outcome": "verified", "message": bad}, verifier)
            assert response.status_code == 400, (bad, response.text)
        ok = await callback(api, sign_up_id, "verification", {"outcome": "verified", "message": LINES}, verifier)
        assert ok.status_code == 200, ok.text
        await until(lambda: sign_up_row(email), lambda r: r.state == "pendingApproval")
        for bad in NOT_IN_TEXT:
            response = await api.post(f"/v1.0/identity/signUps/{sign_up_id}/deny", headers=admin,
                                      json={"reason": bad})
            # NUL is refused app-wide before the body is read (api.errors.RefuseNul).
            assert response.status_code == 400 and (
                "control character" in response.text or "NUL" in response.text), (bad, response.text)
            response = await callback(api, sign_up_id, "approval", {"decision": "deny", "reason": bad}, system)
            assert response.status_code == 400, (bad, response.text)
        assert (await sign_up_row(email)).state == "pendingApproval"
        denied = await api.post(f"/v1.0/identity/signUps/{sign_up_id}/deny", headers=admin, json={"reason": LINES})
        assert denied.status_code == 200, denied.text


def test_cli_token_name_refuses_control_characters():
    from tests.test_cli_token import foyer

    for bad in ("ops\nscript", "ops\x1bscript"):
        created = foyer("token", "create", "--name", bad, "--role", "member")
        assert created.returncode == 2, (bad, created.stdout, created.stderr)
        assert "control character" in created.stderr
    from foyer.tokens import create_token

    with pytest.raises(ValueError):
        create_token("ops\r\nscript", "member")


# --- names already stored with CR/LF, and mail that cannot be built --------------------------

async def _request_for_approval(api, make_token, organization_id, approvers, package_name: str):
    guest = await make_user(organization_id, "Rey Guest", guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage(approvers)]}))
    async with session_scope() as session:  # as if stored before names were checked
        row = await session.get(AccessPackage, package.id)
        row.display_name = package_name
        session.add(row)
    response = await api.post(f"{EM}/assignmentRequests", headers=await make_token("guest", user_id=guest.id),
                              json={"requestType": "userAdd", "assignment": {
                                  "accessPackageId": package.id, "assignmentPolicyId": policy.id}})
    assert response.status_code == 201, response.text
    return response.json(), package, guest


async def test_stored_crlf_in_a_package_name_is_folded_into_the_subject(api, make_token, organization_id, mail):
    approver = await make_user(organization_id, "Ava Approver")
    request, package, _ = await _request_for_approval(
        api, make_token, organization_id, [approver], "Partner\r\nBcc: victim@example.org\r\n access")
    [message] = await mail.wait_for(approver.mail, timeout=30)
    assert message.subject == "Approve or deny access to Partner Bcc: victim@example.org access for Rey Guest"
    assert message.recipients == [approver.mail]

    async def opened_rows():
        async with session_scope() as session:
            return (await session.exec(select(OutboxMessage).where(
                OutboxMessage.key.startswith(f"stage:{request['id']}-stage-1:opened:")))).all()

    # The row is marked sent just after the SMTP server accepts the message: await it, don't race.
    rows = await until(opened_rows, lambda rows: [r.state for r in rows] == ["sent"], seconds=30)
    assert [r.state for r in rows] == ["sent"]


async def test_stored_crlf_in_the_organization_name_is_folded_into_the_subject(api, admin, organization_id,
                                                                                 mail, new_email):
    async with session_scope() as session:
        org = await session.get(Organization, organization_id)
        original = org.display_name
        org.display_name = "Contoso\r\nTest"
        session.add(org)
    try:
        email = new_email()
        await invite(api, admin, email)
        [message] = await mail.wait_for(email, timeout=30)
        assert "\n" not in message.subject and "Contoso Test" in message.subject, message.subject
    finally:
        async with session_scope() as session:
            org = await session.get(Organization, organization_id)
            org.display_name = original
            session.add(org)


async def test_a_mail_that_cannot_be_built_is_recorded_and_holds_nothing_up(api, make_token, admin,
                                                                           organization_id, mail, temporal):
    """An approver whose stored address holds CR/LF: that one mail cannot be built. It is marked
    failed with the reason on its outbox row and in the audit log (with the request's workflow
    id), not retried; the other approver is mailed and the request waits for a decision."""
    broken = await make_user(organization_id, "Bo Broken")
    async with session_scope() as session:
        row = await session.get(User, broken.id)
        row.mail = "bo@contoso.test\r\nBcc: victim@example.org"
        session.add(row)
    good = await make_user(organization_id, "Gil Good")
    request, package, guest = await _request_for_approval(api, make_token, organization_id, [broken, good],
                                                          "Plain package")
    await mail.wait_for(good.mail, timeout=30)
    key = f"stage:{request['id']}-stage-1:opened:{broken.id}"

    async def outbox_row():
        async with session_scope() as session:
            return await session.get(OutboxMessage, key)

    row = await until(outbox_row, lambda r: r is not None and r.state == "failed", seconds=30)
    assert "linefeed" in row.last_error or "carriage return" in row.last_error, row.last_error
    assert row.attempts == 1

    workflow_id = f"access-request:{package.id}:{guest.id}"
    audits = await api.get("/v1.0/auditLogs/directoryAudits", headers=admin, params={
        "$filter": f"result eq 'failure' and correlationId eq '{workflow_id}'"})
    assert audits.status_code == 200, audits.text
    [record] = audits.json()["value"]
    assert record["category"] == "Mail" and record["activityDisplayName"] == "Build mail"
    assert record["targetResources"][0]["id"] == key and record["resultReason"] == row.last_error
    counted = await api.get("/v1.0/auditLogs/directoryAudits", headers=admin, params={
        "$filter": "category eq 'Mail' and result eq 'failure'", "$count": "true"})
    assert counted.json()["@odata.count"] >= 1

    handle = temporal.client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    description = await handle.describe()
    assert not description.raw_description.pending_activities  # nothing retrying in the background
    status = await handle.query(AccessRequestWorkflow.current)
    assert status.state == "pendingApproval"
    await asyncio.sleep(0.5)
    assert (await outbox_row()).attempts == 1  # not retried
    async with session_scope() as session:
        stored = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == key))).all()
    assert len(stored) == 1
