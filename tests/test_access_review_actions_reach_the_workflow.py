"""The instance actions through the API against the running processes: an administrator creates a
one-time review of a group's guests by one reviewer; the reviewer finds it (filterByCurrentUser),
is reminded (sendReminder) and accepts the recommendations (one guest approved, one denied); stop ends the
instance early (Completed); applyDecisions then takes back what was denied — the denied guest
leaves the group, the approved one stays, each decision records its applyResult; deleting the
definition afterwards answers 204 and removes it."""

from datetime import timedelta

from foyer.models.enums import Role
from foyer.workflows.messages.access_review import access_review_workflow_id
from tests.access_review_support import (
    DEFINITIONS, decisions_of, group_scope, group_with_people, instances_of, members,
)
from tests.factories import make_person
from tests.support import until


async def test_stop_then_apply_through_the_api(server, mail, api, admin, organization_id):
    group, people = await group_with_people(organization_id, {"Ada Active": timedelta(days=2),
                                                              "Ian Idle": timedelta(days=90)})
    ada, ian = people["Ada Active"], people["Ian Idle"]
    reviewer, token = await make_person(organization_id, Role.member, "Rita Reviewer")
    created = await api.post(DEFINITIONS, headers=admin, json={
        "displayName": "Falcon partners", "scope": group_scope(group.id),
        "reviewers": [{"query": f"/users/{reviewer.id}", "queryType": "MicrosoftGraph"}],
        "settings": {"instanceDurationInDays": 7, "mailNotificationsEnabled": True, "recommendationsEnabled": True}})
    assert created.status_code == 201, created.text
    definition_id = created.json()["id"]
    await mail.wait_for(reviewer.mail, count=1, timeout=30)
    [instance] = await until(lambda: instances_of(definition_id), lambda found: found and found[0].status == "InProgress")
    assert instance.workflow_id == access_review_workflow_id(instance.id)
    base = f"{DEFINITIONS}/{definition_id}/instances"
    mine = (await api.get(f"{base}/filterByCurrentUser(on='reviewer')", headers=token)).json()["value"]
    assert [i["id"] for i in mine] == [instance.id] and mine[0]["status"] == "InProgress"

    decisions = {d["principal"]["id"]: d for d in
                 (await api.get(f"{base}/{instance.id}/decisions", headers=token)).json()["value"]}
    assert decisions[ada.id]["recommendation"] == "Approve" and decisions[ian.id]["recommendation"] == "Deny"
    # A reminder goes while something is left to decide.
    assert (await api.post(f"{base}/{instance.id}/sendReminder", headers=admin)).status_code == 204
    await mail.wait_for(reviewer.mail, count=2, timeout=30)
    accepted = await api.post(f"{base}/{instance.id}/acceptRecommendations", headers=token)
    assert accepted.status_code == 204
    early = await api.post(f"{base}/{instance.id}/applyDecisions", headers=admin)
    assert early.status_code == 409 and early.json()["error"]["code"] == "instanceNotCompleted"

    assert (await api.post(f"{base}/{instance.id}/stop", headers=admin)).status_code == 204
    await until(lambda: api.get(f"{base}/{instance.id}", headers=admin),
                lambda answer: answer.json()["status"] == "Completed", seconds=30)
    late = await api.patch(f"{base}/{instance.id}/decisions/{decisions[ada.id]['id']}", headers=token,
                           json={"decision": "Deny"})
    assert late.status_code == 409

    assert (await api.post(f"{base}/{instance.id}/applyDecisions", headers=admin)).status_code == 204
    found = await until(lambda: decisions_of(instance.id),
                        lambda rows: all(r.apply_result != "New" for r in rows.values()), seconds=30)
    assert found[ian.id].apply_result == "AppliedSuccessfully" and found[ian.id].decision == "Deny"
    assert found[ada.id].decision == "Approve"
    assert ian.id not in await members(group.id) and ada.id in await members(group.id)
    applied = (await api.get(f"{base}/{instance.id}/decisions/{found[ian.id].id}", headers=admin)).json()
    assert applied["applyResult"] == "AppliedSuccessfully" and applied["appliedDateTime"]

    assert (await api.delete(f"{DEFINITIONS}/{definition_id}", headers=admin)).status_code == 204
    assert (await api.get(f"{DEFINITIONS}/{definition_id}", headers=admin)).status_code == 404
