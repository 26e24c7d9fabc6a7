"""A definition Foyer cannot run is refused with a 400 that names the field at fault: the scope,
the reviewers (./manager: Foyer has no managers; ./owners needs a scope with owners), every
setting (recurrence types Entra does not support, a monthly interval that does not divide 12,
durations, default decision, apply actions), unknown properties — never a 500."""

import uuid

import pytest

from foyer.models.enums import Role
from tests.access_review_support import DEFINITIONS, definition_body
from tests.factories import make_group_and_app


def settings(**changes) -> dict:
    base = definition_body("x")["settings"]
    return {**base, **changes}


def monthly(**pattern) -> dict:
    return {"pattern": {"type": "absoluteMonthly", "interval": 1, **pattern},
            "range": {"type": "noEnd", "startDate": "2026-12-01"}}


CASES = [
    ({"displayName": None}, "displayName is required"),
    ({"displayName": 5}, "displayName"),
    ({"scope": None}, "scope"),
    ({"scope": {"query": "/groups/abc/members", "queryType": "Sql"}}, "scope.queryType"),
    ({"scope": {"query": "/devices", "queryType": "MicrosoftGraph"}}, "scope.query"),
    ({"scope": {"@odata.type": "#microsoft.graph.accessReviewInactiveUsersQueryScope", "queryType": "MicrosoftGraph",
                "query": "/users?$filter=(userType eq 'Guest')", "inactiveDuration": "soon"}},
     "scope.inactiveDuration"),
    ({"nickname": "x"}, "no property nickname"),
    ({"stageSettings": [{"stageId": "1"}]}, "stageSettings"),
    ({"reviewers": [{"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}]},
     "no managers"),
    ({"reviewers": [{"query": "/users/nobody-here", "queryType": "MicrosoftGraph"}]}, "reviewers[0].query: no user"),
    ({"reviewers": [{"query": "/groups/x/members", "queryType": "MicrosoftGraph"}]}, "reviewers[0].query"),
    ({"reviewers": [{"query": "./owners", "queryType": "Sql"}]}, "reviewers[0].queryType"),
    ({"reviewers": [{"query": "./owners", "queryRoot": "users"}]}, "reviewers[0].queryRoot"),
    ({"reviewers": [{"query": "./sponsors"}]}, "./sponsors"),
    ({"reviewers": "everyone"}, "reviewers must be a list"),
    ({"fallbackReviewers": [{"query": "./manager"}]}, "fallbackReviewers[0].query"),
    ({"reviewers": [], "fallbackReviewers": [{"query": "./owners"}]}, "fallbackReviewers"),
    ({"settings": "weekly"}, "settings must be an object"),
    ({"settings": settings(instanceDurationInDays=0.5)}, "settings.instanceDurationInDays"),
    ({"settings": settings(instanceDurationInDays=181)}, "settings.instanceDurationInDays"),
    ({"settings": settings(mailNotificationsEnabled="yes")}, "settings.mailNotificationsEnabled"),
    ({"settings": settings(colour="blue")}, "settings has no property colour"),
    ({"settings": settings(recurrence={"pattern": {"type": "daily", "interval": 1},
                                       "range": {"type": "noEnd", "startDate": "2026-12-01"}})},
     "Entra supports weekly and absoluteMonthly"),
    ({"settings": settings(recurrence={"pattern": {"type": "relativeMonthly", "interval": 1},
                                       "range": {"type": "noEnd", "startDate": "2026-12-01"}})},
     "settings.recurrence.pattern.type"),
    ({"settings": settings(recurrence=monthly(interval=5))}, "must divide 12"),
    ({"settings": settings(recurrence=monthly(dayOfMonth=31))}, "settings.recurrence.pattern.dayOfMonth"),
    ({"settings": settings(recurrence={"pattern": {"type": "weekly", "interval": 0},
                                       "range": {"type": "noEnd", "startDate": "2026-12-01"}})},
     "settings.recurrence.pattern.interval"),
    ({"settings": settings(recurrence={"pattern": {"type": "weekly", "interval": 1},
                                       "range": {"type": "noEnd", "startDate": "1 Dec 2026"}})},
     "settings.recurrence.range.startDate"),
    ({"settings": settings(recurrence={"pattern": {"type": "weekly", "interval": 1},
                                       "range": {"type": "endDate", "startDate": "2026-12-01"}})},
     "settings.recurrence.range.endDate"),
    ({"settings": settings(recurrence={"pattern": {"type": "weekly", "interval": 1},
                                       "range": {"type": "endDate", "startDate": "2026-12-01",
                                                 "endDate": "2026-11-01"}})},
     "settings.recurrence.range.endDate is before"),
    ({"settings": settings(recurrence={"pattern": {"type": "weekly", "interval": 1},
                                       "range": {"type": "numbered", "startDate": "2026-12-01"}})},
     "settings.recurrence.range.numberOfOccurrences"),
    ({"settings": settings(recurrence={"pattern": {"type": "weekly", "interval": 1},
                                       "range": {"type": "forever", "startDate": "2026-12-01"}})},
     "settings.recurrence.range.type"),
    ({"settings": settings(recurrence={"pattern": {"type": "weekly", "interval": 1}})}, "settings.recurrence.range"),
    ({"settings": settings(defaultDecisionEnabled=True)}, "settings.defaultDecision is required"),
    ({"settings": settings(defaultDecisionEnabled=True, defaultDecision="Maybe")}, "settings.defaultDecision"),
    ({"settings": settings(recommendationLookBackDuration="30 days")}, "settings.recommendationLookBackDuration"),
    ({"settings": settings(applyActions=[{"@odata.type": "#microsoft.graph.deleteEverything"}])},
     "settings.applyActions[0].@odata.type"),
    ({"settings": settings(recommendationInsightSettings=[{"signInScope": "tenant"}])},
     "settings.recommendationInsightSettings"),
]


@pytest.fixture
async def group(organization_id):
    group, _ = await make_group_and_app(organization_id, "Reviewed")
    return group


@pytest.mark.parametrize("changes,field", CASES, ids=[c[1][:40] for c in CASES])
async def test_a_bad_definition_is_refused_naming_the_field(api, admin, group, changes, field):
    answer = await api.post(DEFINITIONS, headers=admin, json=definition_body(group.id, **changes))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalidRequest"
    assert field in answer.json()["error"]["message"], answer.json()["error"]["message"]


async def test_disable_and_delete_is_only_for_guests(api, admin, group):
    scope = {"query": f"/groups/{group.id}/transitiveMembers/microsoft.graph.user", "queryType": "MicrosoftGraph"}
    answer = await api.post(DEFINITIONS, headers=admin, json=definition_body(group.id, scope=scope, settings={
        "applyActions": [{"@odata.type": "#microsoft.graph.disableAndDeleteUserApplyAction"}]}))
    assert answer.status_code == 400 and "disableAndDeleteUserApplyAction" in answer.json()["error"]["message"]


async def test_a_scope_naming_a_group_that_does_not_exist(api, admin):
    answer = await api.post(DEFINITIONS, headers=admin, json=definition_body(str(uuid.uuid4())))
    assert answer.status_code == 400 and "no group" in answer.json()["error"]["message"]


async def test_not_json_objects(api, admin, make_token):
    for body in ([], "x", 3):
        answer = await api.post(DEFINITIONS, headers=admin, json=body)
        assert answer.status_code == 400, answer.text
    answer = await api.post(DEFINITIONS, headers={**admin, "content-type": "application/json"}, content=b"{not json")
    assert answer.status_code == 400
    member = await make_token(Role.member)
    assert (await api.post(DEFINITIONS, headers=member, json=[])).status_code == 403
