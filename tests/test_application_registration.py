"""An application registered as a relying party (Graph shapes): redirect URIs of the three kinds,
home page, app roles, group claims, optional claims and appRoleAssignmentRequired are stored on
POST, replaced or kept on PATCH, and returned by GET and the list; each change is audited."""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import Application
from foyer.rules.redirect_uris import is_registered, registered_kind

READER = {"id": str(uuid.uuid4()), "value": "Reader", "displayName": "Reader",
          "description": "Reads", "isEnabled": True, "allowedMemberTypes": ["User"]}


async def test_register_read_and_update_an_application(api, admin, make_token):
    body = {
        "displayName": f"Wiki {uuid.uuid4().hex[:6]}",
        "web": {"redirectUris": ["https://wiki.example/auth/callback", "http://localhost:8400/cb"],
                "homePageUrl": "https://wiki.example/"},
        "spa": {"redirectUris": ["https://spa.example/"]},
        "publicClient": {"redirectUris": ["http://127.0.0.1:53123"]},
        "appRoles": [READER],
        "groupMembershipClaims": "SecurityGroup",
        "optionalClaims": {"idToken": [{"name": "email", "essential": False}]},
        "appRoleAssignmentRequired": False,
    }
    created = await api.post("/v1.0/applications", headers=admin, json=body)
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["web"] == body["web"] and app["spa"] == body["spa"] and app["publicClient"] == body["publicClient"]
    assert app["appRoles"] == [{**READER, "origin": "Application"}]
    assert app["groupMembershipClaims"] == "SecurityGroup" and app["appRoleAssignmentRequired"] is False
    assert app["optionalClaims"] == {"idToken": [{"name": "email", "source": None, "essential": False,
                                                  "additionalProperties": []}],
                                     "accessToken": [], "saml2Token": []}
    assert app["passwordCredentials"] == []

    member = await make_token("member")
    assert (await api.get(f"/v1.0/applications/{app['id']}", headers=member)).json() == app
    listed = await api.get("/v1.0/applications", headers=member, params={"$filter": f"appId eq '{app['appId']}'"})
    assert listed.json()["value"] == [app]
    picked = await api.get(f"/v1.0/applications/{app['id']}", headers=member, params={"$select": "appId,web"})
    assert picked.json() == {"id": app["id"], "appId": app["appId"], "web": body["web"]}

    async with session_scope() as session:
        row = await session.get(Application, app["id"])
    assert registered_kind(row, "https://wiki.example/auth/callback") == "web"
    assert registered_kind(row, "https://spa.example/") == "spa"
    assert registered_kind(row, "http://127.0.0.1:53123") == "publicClient"
    # Exact match only: no prefix, no trailing-slash or case leniency.
    for near in ("https://wiki.example/auth/callback/x", "https://wiki.example/auth/callback/",
                 "https://WIKI.example/auth/callback", "https://spa.example"):
        assert not is_registered(row, near)

    # PATCH replaces what it names and keeps the rest.
    writer = {"id": str(uuid.uuid4()), "value": "Writer", "displayName": "Writer",
              "isEnabled": True, "allowedMemberTypes": ["User", "Application"]}
    patched = await api.patch(f"/v1.0/applications/{app['id']}", headers=admin, json={
        "web": {"redirectUris": ["https://wiki.example/signin-oidc"]},
        "appRoles": [READER, writer], "groupMembershipClaims": "None", "appRoleAssignmentRequired": True})
    assert patched.status_code == 204, patched.text
    after = (await api.get(f"/v1.0/applications/{app['id']}", headers=admin)).json()
    assert after["web"] == {"redirectUris": ["https://wiki.example/signin-oidc"], "homePageUrl": "https://wiki.example/"}
    assert after["spa"] == body["spa"] and after["displayName"] == body["displayName"]
    assert [r["value"] for r in after["appRoles"]] == ["Reader", "Writer"]
    assert after["appRoles"][1]["description"] is None
    assert after["groupMembershipClaims"] is None and after["appRoleAssignmentRequired"] is True

    cleared = await api.patch(f"/v1.0/applications/{app['id']}", headers=admin,
                              json={"web": {"homePageUrl": None}, "optionalClaims": None})
    assert cleared.status_code == 204, cleared.text
    after = (await api.get(f"/v1.0/applications/{app['id']}", headers=admin)).json()
    assert after["web"]["homePageUrl"] is None and after["web"]["redirectUris"] == ["https://wiki.example/signin-oidc"]
    assert after["optionalClaims"] == {"idToken": [], "accessToken": [], "saml2Token": []}

    async with session_scope() as session:
        audits = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == app["id"])
                                     .order_by(AuditRecord.activity_date_time))).all()
    assert [a.activity_display_name for a in audits] == ["Add application", "Update application", "Update application"]
    assert audits[1].details["modifiedProperties"] == "web,appRoles,groupMembershipClaims,appRoleAssignmentRequired"


async def test_a_new_application_requires_assignment_by_default(api, admin):
    created = await api.post("/v1.0/applications", headers=admin, json={"displayName": "Plain"})
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["appRoleAssignmentRequired"] is True
    assert app["web"] == {"redirectUris": [], "homePageUrl": None}
    assert app["appRoles"] == [] and app["groupMembershipClaims"] is None


async def test_only_admins_register_or_change_applications(api, admin, make_token):
    app = (await api.post("/v1.0/applications", headers=admin, json={"displayName": "Guarded"})).json()
    member = await make_token("member")
    assert (await api.post("/v1.0/applications", headers=member, json={"displayName": "X"})).status_code == 403
    refused = await api.patch(f"/v1.0/applications/{app['id']}", headers=member,
                              json={"web": {"redirectUris": ["https://evil.example/cb"]}})
    assert refused.status_code == 403
    assert (await api.get(f"/v1.0/applications/{app['id']}", headers=admin)).json()["web"]["redirectUris"] == []
