"""users' signInActivity: only when `$select` names it (as Graph), from the columns the OpenID
Provider writes, and only to administrators; admins also filter on it (inactive guests)."""

from datetime import datetime, timezone

from foyer.db import session_scope
from foyer.models.directory import User
from tests.factories import make_user
from tests.graph_sdk import graph_client


async def test_sign_in_activity_when_selected(api, admin, make_token, organization_id, server):
    user = await make_user(organization_id, "Sia Signed", guest=True)
    never = await make_user(organization_id, "Nev Never", guest=True)
    async with session_scope() as session:
        row = await session.get(User, user.id)
        row.last_sign_in_date_time = datetime(2026, 5, 2, 9, 30, tzinfo=timezone.utc)
        row.last_successful_sign_in_date_time = datetime(2026, 5, 1, 8, 0, tzinfo=timezone.utc)
        row.last_non_interactive_sign_in_date_time = datetime(2026, 5, 3, 7, 15, tzinfo=timezone.utc)
        session.add(row)

    plain = (await api.get(f"/v1.0/users/{user.id}", headers=admin)).json()
    assert "signInActivity" not in plain
    got = await api.get(f"/v1.0/users/{user.id}", headers=admin, params={"$select": "displayName,signInActivity"})
    assert got.status_code == 200, got.text
    assert got.json() == {"id": user.id, "displayName": "Sia Signed", "signInActivity": {
        "lastSignInDateTime": "2026-05-02T09:30:00Z", "lastSuccessfulSignInDateTime": "2026-05-01T08:00:00Z",
        "lastNonInteractiveSignInDateTime": "2026-05-03T07:15:00Z"}}
    listed = await api.get("/v1.0/users", headers=admin, params={
        "$select": "id,signInActivity", "$filter": f"id eq '{never.id}'"})
    assert listed.json()["value"] == [{"id": never.id, "signInActivity": {
        "lastSignInDateTime": None, "lastSuccessfulSignInDateTime": None, "lastNonInteractiveSignInDateTime": None}}]

    # Graph: signInActivity is filtered on alone (tests/test_inactive_guests_filter.py for the rule).
    stale = await api.get("/v1.0/users", headers=admin, params={
        "$filter": "signInActivity/lastSuccessfulSignInDateTime le 2026-05-01T12:00:00Z", "$select": "id",
        "$top": "999"})
    assert stale.status_code == 200, stale.text
    ids = {row["id"] for row in stale.json()["value"]}
    assert user.id in ids and never.id not in ids
    recent = await api.get("/v1.0/users", headers=admin, params={
        "$filter": "signInActivity/lastSignInDateTime ge 2026-05-03T00:00:00Z", "$top": "999"})
    assert user.id not in {row["id"] for row in recent.json()["value"]}

    member = await make_token("member")
    refused = await api.get("/v1.0/users", headers=member, params={
        "$filter": "signInActivity/lastSignInDateTime le 2026-05-01T00:00:00Z"})
    assert refused.status_code == 403, refused.text
    for path in (f"/v1.0/users/{user.id}", "/v1.0/users"):
        refused = await api.get(path, headers=member, params={"$select": "signInActivity"})
        assert refused.status_code == 403, refused.text
    assert (await api.get(f"/v1.0/users/{user.id}", headers=member, params={"$select": "displayName"})).status_code == 200

    async with graph_client(server, admin) as graph:
        from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
        query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=["signInActivity"])
        sdk_user = await graph.users.by_user_id(user.id).get(
            request_configuration=UserItemRequestBuilder.UserItemRequestBuilderGetRequestConfiguration(query_parameters=query))
    assert sdk_user.sign_in_activity.last_successful_sign_in_date_time == datetime(2026, 5, 1, 8, 0, tzinfo=timezone.utc)
