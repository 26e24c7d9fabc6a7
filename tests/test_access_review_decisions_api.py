"""Decisions (…/instances/{id}/decisions): a reviewer reads them all and records Approve / Deny /
Don't know (PATCH 204: decision and justification only; reviewedBy stamped); a non-reviewer is
refused (403); in a self-review a guest sees and decides only their own; a justification is
required to approve when the review asks for one; nothing changes once the instance is no longer
InProgress (409); an administrator reads but does not decide."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.access_reviews import AccessReviewDecision
from foyer.models.audit import AuditRecord
from foyer.models.enums import Role
from foyer.usecases.access_reviews import NO_ONE
from tests.access_review_support import DEFINITIONS, instance_path, make_review
from tests.factories import make_group_and_app, make_person, make_user


async def test_a_reviewer_decides(api, admin, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    reviewer, token = await make_person(organization_id, Role.member, "Rita Reviewer")
    ann = await make_user(organization_id, "Ann Guest", guest=True)
    bob = await make_user(organization_id, "Bob Guest", guest=True)
    definition, instance, decisions = await make_review(organization_id, group, [ann, bob], reviewers=[reviewer],
                                                        recommendations={ann.id: "Approve", bob.id: "Deny"})
    path = f"{instance_path(definition, instance)}/decisions"

    listed = await api.get(path, headers=token)
    assert listed.status_code == 200, listed.text
    items = listed.json()["value"]
    assert [i["principal"]["displayName"] for i in items] == ["Ann Guest", "Bob Guest"]
    first = items[0]
    assert first["decision"] == "NotReviewed" and first["recommendation"] == "Approve"
    assert first["accessReviewId"] == instance.id and first["applyResult"] == "New"
    assert first["principal"] == {"@odata.type": "#microsoft.graph.userIdentity", "id": ann.id,
                                  "displayName": "Ann Guest", "userPrincipalName": ann.user_principal_name}
    assert first["resource"] == {"id": group.id, "displayName": group.display_name, "type": "group"}
    assert first["reviewedBy"]["id"] == NO_ONE and first["appliedBy"]["id"] == NO_ONE
    assert first["reviewedDateTime"] is None

    ann_item = f"{path}/{decisions[ann.id].id}"
    recorded = await api.patch(ann_item, headers=token, json={"decision": "Approve", "justification": "Still works with us"})
    assert recorded.status_code == 204, recorded.text
    read = (await api.get(ann_item, headers=token)).json()
    assert read["decision"] == "Approve" and read["justification"] == "Still works with us"
    assert read["reviewedBy"]["id"] == reviewer.id and read["reviewedBy"]["displayName"] == "Rita Reviewer"
    assert read["reviewedBy"]["userPrincipalName"] == reviewer.user_principal_name and read["reviewedDateTime"]
    assert (await api.patch(f"{path}/{decisions[bob.id].id}", headers=token,
                            json={"decision": "DontKnow"})).status_code == 204

    # $filter on the decision; the reviewer's own view is the same list.
    denied = await api.get(f"{path}?$filter=decision eq 'NotReviewed'", headers=token)
    assert denied.json()["value"] == []
    approved = (await api.get(f"{path}?$filter=decision eq 'Approve'", headers=token)).json()["value"]
    assert [i["principal"]["id"] for i in approved] == [ann.id]
    mine = await api.get(f"{path}/filterByCurrentUser(on='reviewer')", headers=token)
    assert len(mine.json()["value"]) == 2
    assert (await api.get(f"{path}?$filter=colour eq 'red'", headers=token)).status_code == 400

    # Only decision and justification are writable, with a decision Graph knows.
    for body in ({"decision": "Maybe"}, {"decision": "Approve", "recommendation": "Deny"}, ["Approve"],
                 {"decision": "Approve", "justification": 5}):
        refused = await api.patch(ann_item, headers=token, json=body)
        assert refused.status_code == 400, (body, refused.text)

    # An administrator reads everything but is not a reviewer.
    assert len((await api.get(path, headers=admin)).json()["value"]) == 2
    assert (await api.patch(ann_item, headers=admin, json={"decision": "Deny"})).status_code == 403

    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == ann.id, AuditRecord.category == "AccessReviews"))).all()
    assert [r.details["decision"] for r in records] == ["Approve"] and records[0].initiated_by_id == reviewer.id


async def test_a_non_reviewer_is_refused(api, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    reviewer = await make_user(organization_id, "Rita Reviewer")
    guest = await make_user(organization_id, "Gus Guest", guest=True)
    _, outsider = await make_person(organization_id, Role.member, "Otto Outsider")
    definition, instance, decisions = await make_review(organization_id, group, [guest], reviewers=[reviewer])
    path = instance_path(definition, instance)
    assert (await api.get(path, headers=outsider)).status_code == 403
    assert (await api.get(f"{path}/decisions", headers=outsider)).status_code == 403
    item = f"{path}/decisions/{decisions[guest.id].id}"
    assert (await api.get(item, headers=outsider)).status_code == 403
    refused = await api.patch(item, headers=outsider, json={"decision": "Deny"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "Authorization_RequestDenied"
    assert (await api.get(f"{DEFINITIONS}/{definition.id}/instances", headers=outsider)).json()["value"] == []
    assert (await api.get(f"{path}/decisions/{'0' * 36}", headers=outsider)).status_code == 403


async def test_a_self_review_shows_only_ones_own(api, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    ann, ann_token = await make_person(organization_id, Role.guest, "Ann Guest", guest=True)
    bob, bob_token = await make_person(organization_id, Role.guest, "Bob Guest", guest=True)
    _, outsider = await make_person(organization_id, Role.guest, "Otto Outsider", guest=True)
    definition, instance, decisions = await make_review(organization_id, group, [ann, bob], reviewers=None)
    path = instance_path(definition, instance)

    assert (await api.get(path, headers=ann_token)).json()["id"] == instance.id
    mine = (await api.get(f"{path}/decisions", headers=ann_token)).json()["value"]
    assert [i["principal"]["id"] for i in mine] == [ann.id]
    assert (await api.get(f"{path}/decisions/{decisions[bob.id].id}", headers=ann_token)).status_code == 403
    assert (await api.patch(f"{path}/decisions/{decisions[bob.id].id}", headers=ann_token,
                            json={"decision": "Deny"})).status_code == 403
    assert (await api.patch(f"{path}/decisions/{decisions[ann.id].id}", headers=ann_token,
                            json={"decision": "Approve"})).status_code == 204
    assert (await api.get(f"{path}/decisions", headers=outsider)).status_code == 403
    listed = (await api.get(f"{DEFINITIONS}/{definition.id}/instances/filterByCurrentUser(on='reviewer')",
                            headers=bob_token)).json()["value"]
    assert [i["id"] for i in listed] == [instance.id]
    async with session_scope() as session:
        assert (await session.get(AccessReviewDecision, decisions[bob.id].id)).decision == "NotReviewed"


async def test_justification_required_to_approve(api, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    reviewer, token = await make_person(organization_id, Role.member, "Rita Reviewer")
    guest = await make_user(organization_id, "Gus Guest", guest=True)
    definition, instance, decisions = await make_review(organization_id, group, [guest], reviewers=[reviewer],
                                                        settings={"justificationRequiredOnApproval": True})
    item = f"{instance_path(definition, instance)}/decisions/{decisions[guest.id].id}"
    refused = await api.patch(item, headers=token, json={"decision": "Approve", "justification": "  "})
    assert refused.status_code == 400 and "justification is required" in refused.json()["error"]["message"]
    assert (await api.patch(item, headers=token, json={"decision": "Deny"})).status_code == 204
    assert (await api.patch(item, headers=token, json={"decision": "Approve", "justification": "Needed"})).status_code == 204


async def test_no_decision_once_the_instance_is_not_in_progress(api, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    reviewer, token = await make_person(organization_id, Role.member, "Rita Reviewer")
    guest = await make_user(organization_id, "Gus Guest", guest=True)
    for status in ("Completed", "NotStarted"):
        definition, instance, decisions = await make_review(organization_id, group, [guest], reviewers=[reviewer],
                                                            status=status)
        item = f"{instance_path(definition, instance)}/decisions/{decisions[guest.id].id}"
        refused = await api.patch(item, headers=token, json={"decision": "Deny"})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "accessReviewNotInProgress"
        assert (await api.get(item, headers=token)).json()["decision"] == "NotReviewed"
