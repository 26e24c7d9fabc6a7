"""GET /v1.0/users: OData $filter, $select, $orderby, $count and paging by @odata.nextLink."""

import uuid

from tests.support import invite


async def _create_members(api, admin, prefix: str, names: list[str]) -> dict[str, str]:
    ids = {}
    for name in names:
        handle = uuid.uuid4().hex[:10]
        response = await api.post("/v1.0/users", headers=admin, json={
            "displayName": f"{prefix} {name}", "mail": f"{handle}@contoso.test",
            "userPrincipalName": f"{handle}@contoso.test", "accountEnabled": True})
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    return ids


async def test_filter_pending_guests_and_by_mail(api, admin, new_email):
    email = new_email()
    created = await invite(api, admin, email, invitedUserDisplayName="Greta Guest",
                           sendInvitationMessage=False)
    guest_id = created["invitedUser"]["id"]

    response = await api.get("/v1.0/users", headers=admin, params={
        "$filter": "userType eq 'Guest' and externalUserState eq 'PendingAcceptance'", "$top": "999"})
    assert response.status_code == 200, response.text
    listed = response.json()["value"]
    assert guest_id in {u["id"] for u in listed}
    assert all(u["userType"] == "Guest" and u["externalUserState"] == "PendingAcceptance" for u in listed)

    response = await api.get("/v1.0/users", headers=admin, params={"$filter": f"mail eq '{email}'"})
    [user] = response.json()["value"]
    assert user["id"] == guest_id
    assert user["userPrincipalName"] == email.replace("@", "_") + "#EXT#@contoso.test"
    assert user["creationType"] == "Invitation"
    assert user["accountEnabled"] is True
    assert user["createdDateTime"].endswith("Z")
    assert set(user) >= {"displayName", "givenName", "surname", "externalUserStateChangeDateTime",
                         "identities"}

    members = await api.get("/v1.0/users", headers=admin, params={
        "$filter": f"userType eq 'Member' and mail eq '{email}'"})
    assert members.json()["value"] == []


async def test_startswith_select_orderby_count_and_paging(api, admin, make_token):
    prefix = f"Pg{uuid.uuid4().hex[:8]}"
    ids = await _create_members(api, admin, prefix, ["Carol", "Alice", "Erin", "Bob", "Dave"])
    member = await make_token("member")

    params = {"$filter": f"startswith(displayName,'{prefix}')", "$top": "2",
              "$orderby": "displayName desc", "$count": "true", "$select": "displayName,mail"}
    response = await api.get("/v1.0/users", headers=member, params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["@odata.count"] == 5
    assert all(set(u) == {"id", "displayName", "mail"} for u in page["value"])

    seen = [u["displayName"] for u in page["value"]]
    pages = 1
    while "@odata.nextLink" in page:
        response = await api.get(page["@odata.nextLink"], headers=member)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [u["displayName"] for u in page["value"]]
        pages += 1
    assert pages == 3
    assert seen == [f"{prefix} {n}" for n in ["Erin", "Dave", "Carol", "Bob", "Alice"]]

    # Like Graph, startswith ignores case (on every database) and takes % and _ literally.
    lower = await api.get("/v1.0/users", headers=member, params={
        "$filter": f"startswith(displayName,'{prefix.lower()} a')"})
    assert [u["id"] for u in lower.json()["value"]] == [ids["Alice"]]
    wildcard = await api.get("/v1.0/users", headers=member, params={
        "$filter": f"startswith(displayName,'{prefix[:4]}%')"})
    assert wildcard.status_code == 200 and wildcard.json()["value"] == []

    one = await api.get("/v1.0/users", headers=member, params={
        "$filter": f"id eq '{ids['Bob']}'", "$select": "userType"})
    assert one.json()["value"] == [{"id": ids["Bob"], "userType": "Member"}]
    assert "@odata.nextLink" not in one.json()


async def test_get_user_by_id_and_404(api, admin, make_member, make_token):
    member_user = await make_member("Mo Member")
    member = await make_token("member", user_id=member_user.id)
    response = await api.get(f"/v1.0/users/{member_user.id}", headers=member)
    assert response.status_code == 200, response.text
    assert response.json()["displayName"] == "Mo Member"
    assert response.json()["userType"] == "Member"

    missing = await api.get("/v1.0/users/00000000-0000-0000-0000-00000000dead", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"
