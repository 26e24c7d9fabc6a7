"""GET /v1.0/auditLogs/signIns: the sign-in log in Graph's signIn shape, newest first, with
$filter on userId, appId, createdDateTime (ge/le) and status/errorCode (eq/ne), $top paging, and
only for administrators. The rows are written as the OpenID Provider writes them."""

import uuid
from datetime import datetime, timedelta, timezone

from foyer.db import session_scope
from foyer.models.openid import SignInLog
from tests.graph_sdk import graph_client

URL = "/v1.0/auditLogs/signIns"


async def _rows(organization_id: str) -> tuple[str, str, list[SignInLog]]:
    user_id, app_id = str(uuid.uuid4()), str(uuid.uuid4())
    base = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    rows = [SignInLog(organization_id=organization_id, created_date_time=base + timedelta(minutes=n),
                      user_id=user_id, user_principal_name="gil_fabrikam.example#EXT#@contoso.test",
                      user_display_name="Gil", app_id=app_id, app_display_name="Wiki",
                      ip_address="203.0.113.7", client_app_used="Browser", is_interactive=n != 2,
                      error_code=0 if n != 1 else 50105,
                      failure_reason=None if n != 1 else "You are not assigned to Wiki.")
            for n in range(4)]
    async with session_scope() as session:
        session.add_all(rows)
    return user_id, app_id, rows


async def test_sign_ins_newest_first_filtered_and_paged(api, admin, organization_id):
    user_id, app_id, rows = await _rows(organization_id)
    mine = f"userId eq '{user_id}'"
    listed = await api.get(URL, headers=admin, params={"$filter": mine})
    assert listed.status_code == 200, listed.text
    value = listed.json()["value"]
    assert [v["id"] for v in value] == [r.id for r in reversed(rows)]
    failed = value[2]
    assert failed == {
        "id": rows[1].id, "createdDateTime": "2026-03-01T12:01:00Z", "userId": user_id,
        "userPrincipalName": "gil_fabrikam.example#EXT#@contoso.test", "userDisplayName": "Gil",
        "appId": app_id, "appDisplayName": "Wiki", "ipAddress": "203.0.113.7", "clientAppUsed": "Browser",
        "isInteractive": True,
        "status": {"errorCode": 50105, "failureReason": "You are not assigned to Wiki.", "additionalDetails": None},
        "conditionalAccessStatus": "notApplied", "appliedConditionalAccessPolicies": []}

    async def ids(filter_: str, **params) -> list[str]:
        response = await api.get(URL, headers=admin, params={"$filter": filter_, **params})
        assert response.status_code == 200, response.text
        return [v["id"] for v in response.json()["value"]]

    assert await ids(f"appId eq '{app_id}' and status/errorCode eq 50105") == [rows[1].id]
    assert await ids(f"{mine} and status/errorCode ne 0") == [rows[1].id]
    assert await ids(f"{mine} and status/errorCode eq 0") == [rows[3].id, rows[2].id, rows[0].id]
    assert await ids(f"{mine} and createdDateTime ge 2026-03-01T12:01:00Z and createdDateTime le 2026-03-01T12:02:00Z") \
        == [rows[2].id, rows[1].id]
    assert await ids(f"{mine} and isInteractive eq false") == [rows[2].id]
    assert await ids(f"appId eq '{uuid.uuid4()}'") == []

    first = await api.get(URL, headers=admin, params={"$filter": mine, "$top": 3})
    assert [v["id"] for v in first.json()["value"]] == [r.id for r in reversed(rows)][:3]
    rest = await api.get(first.json()["@odata.nextLink"], headers=admin)
    assert [v["id"] for v in rest.json()["value"]] == [rows[0].id] and "@odata.nextLink" not in rest.json()


async def test_only_administrators_read_sign_ins(api, make_token):
    for role in ("member", "Guest Inviter", "User Administrator"):
        refused = await api.get(URL, headers=await make_token(role))
        assert refused.status_code == 403, (role, refused.text)


async def test_bad_sign_in_queries_are_400(api, admin):
    for params in ({"$filter": "deviceDetail eq 'x'"}, {"$filter": "status/errorCode eq 'zero'"},
                   {"$filter": "createdDateTime ge 'yesterday'"}, {"$top": "0"}, {"$select": "nothing"}):
        refused = await api.get(URL, headers=admin, params=params)
        assert refused.status_code == 400, (params, refused.text)


async def test_the_graph_sdk_reads_sign_ins(server, admin, organization_id):
    user_id, app_id, rows = await _rows(organization_id)
    async with graph_client(server, admin) as graph:
        from msgraph.generated.audit_logs.sign_ins.sign_ins_request_builder import SignInsRequestBuilder
        query = SignInsRequestBuilder.SignInsRequestBuilderGetQueryParameters(filter=f"appId eq '{app_id}'")
        config = SignInsRequestBuilder.SignInsRequestBuilderGetRequestConfiguration(query_parameters=query)
        page = await graph.audit_logs.sign_ins.get(request_configuration=config)
    assert [s.id for s in page.value] == [r.id for r in reversed(rows)]
    assert page.value[2].status.error_code == 50105 and page.value[0].user_id == user_id
    assert page.value[1].is_interactive is False
