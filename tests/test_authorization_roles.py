"""Every directory endpoint answers 401 without a valid token and 403 to a role it does not serve,
with Graph's error body, and changes nothing when it refuses."""

import uuid

import pytest
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import Group, User
from foyer.models.token import ApiToken

X = "00000000-0000-0000-0000-000000000001"

# (method, path, body): one for each endpoint.
ENDPOINTS = [
    ("GET", "/v1.0/users", None),
    ("POST", "/v1.0/users", {"displayName": "X", "mail": "x@contoso.test", "userPrincipalName": "x@contoso.test"}),
    ("GET", f"/v1.0/users/{X}", None),
    ("PATCH", f"/v1.0/users/{X}", {"displayName": "X"}),
    ("DELETE", f"/v1.0/users/{X}", None),
    ("GET", f"/v1.0/users/{X}/memberOf", None),
    ("GET", f"/v1.0/users/{X}/ownedObjects", None),
    ("GET", "/v1.0/groups", None),
    ("POST", "/v1.0/groups", {"displayName": "X"}),
    ("GET", f"/v1.0/groups/{X}", None),
    ("PATCH", f"/v1.0/groups/{X}", {"displayName": "X"}),
    ("DELETE", f"/v1.0/groups/{X}", None),
    ("GET", f"/v1.0/groups/{X}/members", None),
    ("GET", f"/v1.0/groups/{X}/owners", None),
    ("POST", f"/v1.0/groups/{X}/owners/$ref", {"@odata.id": f"https://g/v1.0/directoryObjects/{X}"}),
    ("DELETE", f"/v1.0/groups/{X}/owners/{X}/$ref", None),
    ("POST", f"/v1.0/groups/{X}/members/$ref", {"@odata.id": f"https://g/v1.0/directoryObjects/{X}"}),
    ("DELETE", f"/v1.0/groups/{X}/members/{X}/$ref", None),
    ("GET", "/v1.0/applications", None),
    ("POST", "/v1.0/applications", {"displayName": "X"}),
    ("GET", f"/v1.0/applications/{X}", None),
    ("PATCH", f"/v1.0/applications/{X}", {"displayName": "X"}),
    ("DELETE", f"/v1.0/applications/{X}", None),
    ("GET", f"/v1.0/applications/{X}/owners", None),
    ("POST", f"/v1.0/applications/{X}/owners/$ref", {"@odata.id": f"https://g/v1.0/users/{X}"}),
    ("DELETE", f"/v1.0/applications/{X}/owners/{X}/$ref", None),
    ("GET", f"/v1.0/applications/{X}/appRoleAssignedTo", None),
    ("POST", f"/v1.0/applications/{X}/appRoleAssignedTo", {"principalId": X}),
    ("DELETE", f"/v1.0/applications/{X}/appRoleAssignedTo/{X}", None),
    ("GET", "/v1.0/organization", None),
    ("PATCH", f"/v1.0/organization/{X}", {"displayName": "X"}),
    ("GET", "/v1.0/policies/authorizationPolicy", None),
    ("PATCH", "/v1.0/policies/authorizationPolicy", {"allowInvitesFrom": "none"}),
    ("GET", "/v1.0/policies/externalCollaborationPolicy", None),
    ("PATCH", "/v1.0/policies/externalCollaborationPolicy", {"invitationLifetime": "P1D"}),
    ("GET", "/v1.0/policies/groupSelfServicePolicy", None),
    ("PATCH", "/v1.0/policies/groupSelfServicePolicy", {"restrictUserAccessToMyGroups": False}),
    ("GET", "/v1.0/auditLogs/directoryAudits", None),
]
GLOBAL_ONLY = {("PATCH", f"/v1.0/organization/{X}"), ("PATCH", "/v1.0/policies/authorizationPolicy"),
               ("PATCH", "/v1.0/policies/externalCollaborationPolicy"),
               ("PATCH", "/v1.0/policies/groupSelfServicePolicy"),
               ("GET", "/v1.0/auditLogs/directoryAudits")}
ADMIN_WRITES = {(m, p) for m, p, _ in ENDPOINTS if m != "GET"} - GLOBAL_ONLY
# Administrators, or an owner of *that* group or application: the role alone does not decide, the
# object does, so a caller who is not an administrator learns first that the object is missing (404)
# and, for one that exists, that they do not own it (403; tests/test_owner_relation_matrix.py).
RELATION_CHECKED = {
    ("POST", f"/v1.0/groups/{X}/members/$ref"), ("DELETE", f"/v1.0/groups/{X}/members/{X}/$ref"),
    ("POST", f"/v1.0/groups/{X}/owners/$ref"), ("DELETE", f"/v1.0/groups/{X}/owners/{X}/$ref"),
    ("PATCH", f"/v1.0/groups/{X}"), ("DELETE", f"/v1.0/groups/{X}"),
    ("POST", f"/v1.0/applications/{X}/appRoleAssignedTo"), ("DELETE", f"/v1.0/applications/{X}/appRoleAssignedTo/{X}"),
    ("POST", f"/v1.0/applications/{X}/owners/$ref"), ("DELETE", f"/v1.0/applications/{X}/owners/{X}/$ref"),
    ("PATCH", f"/v1.0/applications/{X}"), ("DELETE", f"/v1.0/applications/{X}"),
}
ADMIN_WRITES -= RELATION_CHECKED
# Members create groups and applications (allowedToCreateSecurityGroups, allowedToCreateApps, on by
# default) and own them: a token without a directory user has no one to own them, so it is refused
# (tests/test_members_create_groups.py); guests never create.
CREATES = {("POST", "/v1.0/groups"), ("POST", "/v1.0/applications")}
ADMIN_WRITES -= CREATES
# Lists are refused to guests at the default (limited) guest level (403); reads by id are not
# (tests/test_guest_read_levels.py): X does not exist, so they answer 404.
GUEST_BY_ID = {("GET", f"/v1.0/users/{X}"), ("GET", f"/v1.0/users/{X}/memberOf"),
               ("GET", f"/v1.0/users/{X}/ownedObjects"), ("GET", f"/v1.0/groups/{X}"),
               ("GET", f"/v1.0/groups/{X}/members"), ("GET", f"/v1.0/groups/{X}/owners"),
               ("GET", f"/v1.0/applications/{X}"), ("GET", f"/v1.0/applications/{X}/owners"),
               ("GET", f"/v1.0/applications/{X}/appRoleAssignedTo")}


def allowed(role: str, method: str, path: str) -> bool:
    if (method, path) in CREATES:
        return role in ("Global Administrator", "User Administrator")  # the others' tokens have no user
    if role == "guest" and (method, path) in GUEST_BY_ID:
        return True
    if (method, path) in GLOBAL_ONLY:
        return role == "Global Administrator"
    if (method, path) in ADMIN_WRITES:
        return role in ("Global Administrator", "User Administrator")
    return role != "guest"  # reads: admins, guest inviters and members


async def _call(api, method, path, body, headers):
    return await api.request(method, path, headers=headers, json=body)


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
async def test_without_or_with_bad_token_is_401(api, method, path, body):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer "}):
        response = await _call(api, method, path, body, headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


async def test_revoked_token_is_401(api, make_token):
    name = f"revoked-{uuid.uuid4().hex[:6]}"
    headers = await make_token("Global Administrator", name=name)
    assert (await api.get("/v1.0/users", headers=headers, params={"$top": "1"})).status_code == 200
    async with session_scope() as session:
        token = (await session.exec(select(ApiToken).where(ApiToken.name == name))).one()
        token.revoked = True
        session.add(token)
    response = await api.get("/v1.0/users", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


@pytest.mark.parametrize("role", ["User Administrator", "Guest Inviter", "member", "guest"])
async def test_roles_are_enforced(api, make_token, role):
    headers = await make_token(role)
    for method, path, body in ENDPOINTS:
        response = await _call(api, method, path, body, headers)
        if (method, path) in RELATION_CHECKED:
            assert response.status_code == 404, (role, method, path, response.text)
        elif allowed(role, method, path):
            assert response.status_code != 403, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
            error = response.json()["error"]
            assert error["code"] == "Authorization_RequestDenied", (role, method, path, error)
            if (method, path) in CREATES:
                assert "directory user" in error["message"] or "create" in error["message"], error
            else:
                assert error["message"] == "Insufficient privileges to complete the operation."
        assert response.status_code < 500, (role, method, path, response.text)


async def test_refused_writes_change_nothing(api, make_token, make_member):
    member = await make_token("member")
    name = f"Refused {uuid.uuid4().hex[:8]}"
    assert (await api.post("/v1.0/groups", headers=member, json={"displayName": name})).status_code == 403
    victim = await make_member("Vic Victim")
    assert (await api.delete(f"/v1.0/users/{victim.id}", headers=member)).status_code == 403
    assert (await api.patch(f"/v1.0/users/{victim.id}", headers=await make_token("Guest Inviter"),
                            json={"accountEnabled": False})).status_code == 403
    async with session_scope() as session:
        assert (await session.exec(select(Group).where(Group.display_name == name))).first() is None
        user = await session.get(User, victim.id)
    assert user is not None and user.account_enabled is True
