"""identityGovernance/accessReviews/definitions: create (201, settings filled in with Entra's
defaults), list, read, PATCH and PUT (204; the scope and the recurrence stay), stop (204,
Completed), delete (204, gone with its instances), each audited ("AccessReviews"); Global and User
Administrators manage them, members and guests are refused; filterByCurrentUser(on='reviewer')
lists the definitions whose instances the caller reviews."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.access_reviews import AccessReviewInstance
from foyer.models.audit import AuditRecord
from foyer.models.enums import Role
from tests.access_review_support import DEFINITIONS, definition_body, make_review
from tests.factories import make_group_and_app, make_person, make_user


async def test_round_trip(api, admin, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    reviewer = await make_user(organization_id, "Rita Reviewer")
    created = await api.post(DEFINITIONS, headers=admin, json=definition_body(group.id, fallbackReviewers=[
        {"query": f"/users/{reviewer.id}", "queryType": "MicrosoftGraph"}]))
    assert created.status_code == 201, created.text
    body = created.json()
    review_id = body["id"]
    assert body["displayName"] == "Partners' guests" and body["status"] == "NotStarted"
    assert body["createdBy"]["displayName"] == "Ada Admin" and body["createdDateTime"]
    assert body["reviewers"] == [{"query": "./owners", "queryType": "MicrosoftGraph", "queryRoot": None}]
    settings = body["settings"]
    assert settings["instanceDurationInDays"] == 7 and settings["mailNotificationsEnabled"] is True
    for name in ("reminderNotificationsEnabled", "justificationRequiredOnApproval", "defaultDecisionEnabled",
                 "autoApplyDecisionsEnabled", "recommendationsEnabled"):
        assert settings[name] is False, name
    assert settings["recommendationLookBackDuration"] == "P30D" and settings["defaultDecision"] == "None"
    assert settings["applyActions"] == [{"@odata.type": "#microsoft.graph.removeAccessApplyAction"}]
    assert settings["recurrence"]["pattern"] == {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 1}
    assert settings["recurrence"]["range"]["startDate"] == "2026-12-01"

    listed = (await api.get(DEFINITIONS, headers=admin)).json()["value"]
    assert review_id in [d["id"] for d in listed]
    read = await api.get(f"{DEFINITIONS}/{review_id}", headers=admin)
    assert read.status_code == 200 and read.json()["scope"] == body["scope"]
    chosen = await api.get(f"{DEFINITIONS}/{review_id}?$select=displayName,status", headers=admin)
    assert set(chosen.json()) - {"@odata.context"} == {"id", "displayName", "status"}

    patched = await api.patch(f"{DEFINITIONS}/{review_id}", headers=admin, json={
        "displayName": "Partners, quarterly", "settings": {"justificationRequiredOnApproval": True}})
    assert patched.status_code == 204, patched.text
    read = (await api.get(f"{DEFINITIONS}/{review_id}", headers=admin)).json()
    assert read["displayName"] == "Partners, quarterly" and read["lastModifiedDateTime"]
    assert read["settings"]["justificationRequiredOnApproval"] is True
    assert read["settings"]["instanceDurationInDays"] == 7

    # PUT: the whole definition; scope and recurrence cannot change.
    whole = definition_body(group.id, displayName="Partners, replaced")
    assert (await api.put(f"{DEFINITIONS}/{review_id}", headers=admin, json=whole)).status_code == 204
    assert (await api.get(f"{DEFINITIONS}/{review_id}", headers=admin)).json()["displayName"] == "Partners, replaced"
    other, _ = await make_group_and_app(organization_id, "Other")
    moved = await api.put(f"{DEFINITIONS}/{review_id}", headers=admin, json=definition_body(other.id))
    assert moved.status_code == 400 and "scope" in moved.json()["error"]["message"]
    weekly = await api.patch(f"{DEFINITIONS}/{review_id}", headers=admin, json={"settings": {"recurrence": {
        "pattern": {"type": "weekly", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-12-01"}}}})
    assert weekly.status_code == 400 and "settings.recurrence" in weekly.json()["error"]["message"]
    bad = await api.patch(f"{DEFINITIONS}/{review_id}", headers=admin, json={"settings": {"instanceDurationInDays": 0.5}})
    assert bad.status_code == 400 and "instanceDurationInDays" in bad.json()["error"]["message"]

    assert (await api.post(f"{DEFINITIONS}/{review_id}/stop", headers=admin)).status_code == 204
    assert (await api.get(f"{DEFINITIONS}/{review_id}", headers=admin)).json()["status"] == "Completed"
    late = await api.patch(f"{DEFINITIONS}/{review_id}", headers=admin, json={"displayName": "Again"})
    assert late.status_code == 409

    assert (await api.delete(f"{DEFINITIONS}/{review_id}", headers=admin)).status_code == 204
    gone = await api.get(f"{DEFINITIONS}/{review_id}", headers=admin)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "Request_ResourceNotFound"
    assert (await api.delete(f"{DEFINITIONS}/{review_id}", headers=admin)).status_code == 404

    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == review_id)
                                      .order_by(AuditRecord.activity_date_time))).all()
    assert [(r.category, r.activity_display_name) for r in records] == [
        ("AccessReviews", "Create access review"), ("AccessReviews", "Update access review"),
        ("AccessReviews", "Update access review"), ("AccessReviews", "Stop access review"),
        ("AccessReviews", "Delete access review")]
    assert records[1].details["modifiedProperties"] == "displayName,settings"


async def test_deleting_takes_its_instances_and_decisions(api, admin, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    owner = await make_user(organization_id, "Olga Owner")
    guest = await make_user(organization_id, "Gus Guest", guest=True)
    definition, instance, _ = await make_review(organization_id, group, [guest], reviewers=[owner])
    assert (await api.delete(f"{DEFINITIONS}/{definition.id}", headers=admin)).status_code == 204
    async with session_scope() as session:
        assert await session.get(AccessReviewInstance, instance.id) is None


async def test_who_may_manage(api, admin, make_token, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    user_admin = await make_token(Role.user_administrator)
    created = await api.post(DEFINITIONS, headers=user_admin, json=definition_body(group.id))
    assert created.status_code == 201, created.text
    review_id = created.json()["id"]
    for role in (Role.member, Role.guest, Role.guest_inviter):
        headers = await make_token(role)
        assert (await api.get(DEFINITIONS, headers=headers)).status_code == 403
        assert (await api.post(DEFINITIONS, headers=headers, json=definition_body(group.id))).status_code == 403
        assert (await api.get(f"{DEFINITIONS}/{review_id}", headers=headers)).status_code == 403
        assert (await api.patch(f"{DEFINITIONS}/{review_id}", headers=headers, json={"displayName": "x"})).status_code == 403
        assert (await api.post(f"{DEFINITIONS}/{review_id}/stop", headers=headers)).status_code == 403
        assert (await api.delete(f"{DEFINITIONS}/{review_id}", headers=headers)).status_code == 403
    assert (await api.get(DEFINITIONS)).status_code == 401
    assert (await api.delete(f"{DEFINITIONS}/{review_id}", headers=admin)).status_code == 204


async def test_definitions_i_review(api, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    reviewer, reviewer_token = await make_person(organization_id, Role.member, "Rita Reviewer")
    guest, guest_token = await make_person(organization_id, Role.guest, "Gus Guest", guest=True)
    _, bystander_token = await make_person(organization_id, Role.member, "Bea Bystander")
    mine, _, _ = await make_review(organization_id, group, [guest], reviewers=[reviewer])
    self_review, _, _ = await make_review(organization_id, group, [guest], reviewers=None)
    path = f"{DEFINITIONS}/filterByCurrentUser(on='reviewer')"
    assert [d["id"] for d in (await api.get(path, headers=reviewer_token)).json()["value"]] == [mine.id]
    assert [d["id"] for d in (await api.get(path, headers=guest_token)).json()["value"]] == [self_review.id]
    assert (await api.get(path, headers=bystander_token)).json()["value"] == []
