"""An instance's actions: acceptRecommendations (the caller's NotReviewed decisions take their
recommendation; NoInfoAvailable stays), batchRecordDecisions (one decision for all, or for one
principal; its justification rule), resetDecisions (administrators: all back to NotReviewed);
stop, applyDecisions and sendReminder are administrators' and refused (409) when the instance is
not in the state they need — before any workflow is asked."""

from foyer.db import session_scope
from foyer.models.access_reviews import AccessReviewDecision
from foyer.models.enums import Role
from tests.access_review_support import DEFINITIONS, instance_path, make_review
from tests.factories import make_group_and_app, make_person, make_user


async def decisions_of(rows: dict) -> dict[str, tuple[str, str | None]]:
    async with session_scope() as session:
        found = {}
        for user_id, row in rows.items():
            fresh = await session.get(AccessReviewDecision, row.id)
            found[user_id] = (fresh.decision, fresh.reviewed_by_id)
        return found


async def test_accept_recommendations_then_reset(api, admin, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    reviewer, token = await make_person(organization_id, Role.member, "Rita Reviewer")
    active = await make_user(organization_id, "Ann Active", guest=True)
    idle = await make_user(organization_id, "Ian Idle", guest=True)
    unknown = await make_user(organization_id, "Una Unknown", guest=True)
    decided = await make_user(organization_id, "Dan Decided", guest=True)
    definition, instance, rows = await make_review(
        organization_id, group, [active, idle, unknown, decided], reviewers=[reviewer],
        recommendations={active.id: "Approve", idle.id: "Deny", decided.id: "Deny"})
    path = instance_path(definition, instance)
    assert (await api.patch(f"{path}/decisions/{rows[decided.id].id}", headers=token,
                            json={"decision": "Approve"})).status_code == 204

    accepted = await api.post(f"{path}/acceptRecommendations", headers=token)
    assert accepted.status_code == 204, accepted.text
    found = await decisions_of(rows)
    assert found[active.id] == ("Approve", reviewer.id) and found[idle.id] == ("Deny", reviewer.id)
    assert found[unknown.id] == ("NotReviewed", None) and found[decided.id] == ("Approve", reviewer.id)

    assert (await api.post(f"{path}/resetDecisions", headers=token)).status_code == 403
    assert (await api.post(f"{path}/resetDecisions", headers=admin)).status_code == 204
    assert set((await decisions_of(rows)).values()) == {("NotReviewed", None)}


async def test_batch_record_decisions(api, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    reviewer, token = await make_person(organization_id, Role.member, "Rita Reviewer")
    _, outsider = await make_person(organization_id, Role.member, "Otto Outsider")
    ann = await make_user(organization_id, "Ann Guest", guest=True)
    bob = await make_user(organization_id, "Bob Guest", guest=True)
    definition, instance, rows = await make_review(organization_id, group, [ann, bob], reviewers=[reviewer],
                                                   settings={"justificationRequiredOnApproval": True})
    path = f"{instance_path(definition, instance)}/batchRecordDecisions"
    refused = await api.post(path, headers=token, json={"decision": "Approve"})
    assert refused.status_code == 400 and "justification" in refused.json()["error"]["message"]
    for body in ({"decision": "Deny", "colour": "red"}, {"decision": "Later"}, {"decision": "Deny", "principalId": 7}):
        assert (await api.post(path, headers=token, json=body)).status_code == 400, body
    assert (await api.post(path, headers=outsider, json={"decision": "Deny"})).status_code == 403

    assert (await api.post(path, headers=token, json={"decision": "Deny", "principalId": bob.id})).status_code == 204
    assert await decisions_of(rows) == {ann.id: ("NotReviewed", None), bob.id: ("Deny", reviewer.id)}
    assert (await api.post(path, headers=token, json={"decision": "Approve", "justification": "Partners",
                                                      "resourceId": group.id})).status_code == 204
    assert await decisions_of(rows) == {ann.id: ("Approve", reviewer.id), bob.id: ("Approve", reviewer.id)}


async def test_administrators_actions_and_their_states(api, admin, organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    reviewer, token = await make_person(organization_id, Role.member, "Rita Reviewer")
    guest = await make_user(organization_id, "Gus Guest", guest=True)
    definition, running, _ = await make_review(organization_id, group, [guest], reviewers=[reviewer])
    other, ended, _ = await make_review(organization_id, group, [guest], reviewers=[reviewer], status="Completed")
    ended_path = instance_path(other, ended)
    running_path = instance_path(definition, running)
    for action in ("stop", "applyDecisions", "sendReminder", "resetDecisions"):
        assert (await api.post(f"{running_path}/{action}", headers=token)).status_code == 403, action
    refused = await api.post(f"{running_path}/applyDecisions", headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "instanceNotCompleted"
    for action in ("stop", "sendReminder", "resetDecisions", "acceptRecommendations"):
        headers = token if action == "acceptRecommendations" else admin
        answer = await api.post(f"{ended_path}/{action}", headers=headers)
        assert answer.status_code == 409, (action, answer.text)
    missing = await api.post(f"{DEFINITIONS}/{definition.id}/instances/nope/stop", headers=admin)
    assert missing.status_code == 404
