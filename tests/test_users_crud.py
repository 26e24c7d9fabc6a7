"""Admins create, update and delete members; every change is audited and checked in the directory."""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import User


def _member_body(**extra) -> dict:
    handle = uuid.uuid4().hex[:10]
    return {"displayName": "Nina New", "mail": f"Nina.{handle}@Contoso.test",
            "userPrincipalName": f"nina.{handle}@contoso.test", "accountEnabled": True, **extra}


async def _audits(target_id: str) -> list[str]:
    async with session_scope() as session:
        rows = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == target_id)
                                   .order_by(AuditRecord.activity_date_time))).all()
    return [r.activity_display_name for r in rows]


async def test_create_update_delete_member(api, admin):
    body = _member_body(givenName="Nina", surname="New")
    created = await api.post("/v1.0/users", headers=admin, json=body)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["mail"] == body["mail"].lower()
    assert user["userType"] == "Member" and user["externalUserState"] is None
    assert user["identities"][0]["signInType"] == "userPrincipalName"
    async with session_scope() as session:
        row = await session.get(User, user["id"])
    assert row.user_principal_name == body["userPrincipalName"] and row.given_name == "Nina"

    patched = await api.patch(f"/v1.0/users/{user['id']}", headers=admin,
                              json={"displayName": "Nina Renamed", "accountEnabled": False,
                                    "surname": None})
    assert patched.status_code == 204, patched.text
    got = (await api.get(f"/v1.0/users/{user['id']}", headers=admin)).json()
    assert got["displayName"] == "Nina Renamed" and got["accountEnabled"] is False
    assert got["surname"] is None and got["givenName"] == "Nina"

    deleted = await api.delete(f"/v1.0/users/{user['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert (await api.get(f"/v1.0/users/{user['id']}", headers=admin)).status_code == 404
    async with session_scope() as session:
        assert await session.get(User, user["id"]) is None
    assert await _audits(user["id"]) == ["Add user", "Update user", "Delete user"]

    again = await api.delete(f"/v1.0/users/{user['id']}", headers=admin)
    assert again.status_code == 404 and again.json()["error"]["code"] == "Request_ResourceNotFound"


async def test_user_administrator_may_create(api, make_token):
    user_admin = await make_token("User Administrator")
    created = await api.post("/v1.0/users", headers=user_admin, json=_member_body())
    assert created.status_code == 201, created.text


async def test_duplicates_are_409(api, admin, new_email):
    body = _member_body()
    assert (await api.post("/v1.0/users", headers=admin, json=body)).status_code == 201

    same_mail = _member_body(mail=body["mail"].upper())
    response = await api.post("/v1.0/users", headers=admin, json=same_mail)
    assert response.status_code == 409, response.text
    assert "mail" in response.json()["error"]["message"]

    same_upn = _member_body(userPrincipalName=body["userPrincipalName"])
    response = await api.post("/v1.0/users", headers=admin, json=same_upn)
    assert response.status_code == 409, response.text
    assert "userPrincipalName" in response.json()["error"]["message"]

    async with session_scope() as session:
        rows = (await session.exec(select(User).where(
            User.user_principal_name == body["userPrincipalName"]))).all()
    assert len(rows) == 1


async def test_invalid_create_bodies_are_400(api, admin):
    cases = [
        _member_body(mail="not-an-email"),
        _member_body(userPrincipalName="nobody"),
        _member_body(userPrincipalName=f"x{uuid.uuid4().hex[:6]}@elsewhere.example"),  # unverified domain
        _member_body(userPrincipalName="x_y.com#EXT#@contoso.test"),
        _member_body(displayName=""),
        _member_body(accountEnabled="yes"),
        _member_body(shoeSize=42),  # no property of Graph's user (passwordProfile is: it is accepted)
        _member_body(userType="Guest"),  # guests come from invitations
    ]
    for body in cases:
        response = await api.post("/v1.0/users", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["message"]
        async with session_scope() as session:
            assert (await session.exec(select(User).where(
                User.user_principal_name == str(body.get("userPrincipalName")).lower()))).first() is None


async def test_patch_refuses_unknown_and_read_only_properties(api, admin, make_member):
    user = await make_member("Pat Patch")
    for body in ({"mail": "other@contoso.test"}, {"userType": "Guest"}, {"nickname": "p"},
                 {"displayName": None}, {"accountEnabled": None}, {}):
        response = await api.patch(f"/v1.0/users/{user.id}", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"]
    async with session_scope() as session:
        row = await session.get(User, user.id)
    assert row.display_name == "Pat Patch" and row.mail == user.mail and row.user_type == "Member"

    missing = await api.patch("/v1.0/users/nope", headers=admin, json={"displayName": "X"})
    assert missing.status_code == 404


async def test_disabled_user_token_stops_working(api, admin, make_member, make_token):
    user = await make_member("Dee Disabled")
    headers = await make_token("member", user_id=user.id)
    assert (await api.get("/v1.0/users", headers=headers, params={"$top": "1"})).status_code == 200
    response = await api.patch(f"/v1.0/users/{user.id}", headers=admin, json={"accountEnabled": False})
    assert response.status_code == 204
    refused = await api.get("/v1.0/users", headers=headers, params={"$top": "1"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "InvalidAuthenticationToken"


async def test_graph_user_properties_foyer_keeps_nothing_of_are_accepted(api, admin):
    """The body a Graph script sends (passwordProfile is required by Graph) creates the member; the
    password is kept nowhere, and names that are no property of Graph's user stay refused."""
    handle = uuid.uuid4().hex[:10]
    secret = f"Pw-{uuid.uuid4().hex}"
    body = {"accountEnabled": True, "displayName": "Gus Graph", "mailNickname": f"gus{handle}",
            "userPrincipalName": f"gus.{handle}@contoso.test", "userType": "Member",
            "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": secret},
            "jobTitle": "Buyer", "department": "Sales", "usageLocation": "NO",
            "businessPhones": ["+47 555 0100"], "@odata.type": "#microsoft.graph.user"}
    created = await api.post("/v1.0/users", headers=admin, json=body)
    assert created.status_code == 201, created.text
    user = created.json()
    # Graph needs no mail; Foyer reaches and signs in members at it, so it is the UPN.
    assert user["mail"] == body["userPrincipalName"] and user["userType"] == "Member"
    assert secret not in created.text and "jobTitle" not in user
    async with session_scope() as session:
        row = await session.get(User, user["id"])
        audits = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == user["id"]))).all()
    assert secret not in repr(row.model_dump()) and audits
    assert all(secret not in repr(a.model_dump()) for a in audits)

    # PATCH takes the same properties; with nothing Foyer keeps, nothing changes.
    reset = await api.patch(f"/v1.0/users/{user['id']}", headers=admin,
                            json={"passwordProfile": {"password": secret}, "jobTitle": "Head buyer"})
    assert reset.status_code == 204, reset.text
    renamed = await api.patch(f"/v1.0/users/{user['id']}", headers=admin,
                              json={"displayName": "Gus Renamed", "officeLocation": "Oslo"})
    assert renamed.status_code == 204, renamed.text
    assert (await api.get(f"/v1.0/users/{user['id']}", headers=admin)).json()["displayName"] == "Gus Renamed"
    assert await _audits(user["id"]) == ["Add user", "Update user"]

    for extra in ({"shoeSize": 42}, {"userType": "Guest"},
                  {"identities": [{"signInType": "emailAddress", "issuer": "x", "issuerAssignedId": "y"}]}):
        refused = await api.post("/v1.0/users", headers=admin, json={
            **body, "userPrincipalName": f"other.{handle}@contoso.test", **extra})
        assert refused.status_code == 400, (extra, refused.text)
        assert refused.json()["error"]["code"] and secret not in refused.text
