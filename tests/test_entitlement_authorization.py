"""Who may do what in entitlement management: admins everything; a catalog's owners manage that
catalog's resources, packages and policies (and no other catalog's); members read catalogs and
visible packages; guests and anonymous callers nothing."""

import uuid

import pytest

from foyer.models.enums import Role
from tests.factories import make_group_and_app

BASE = "/v1.0/identityGovernance/entitlementManagement"


@pytest.fixture
async def setup(api, admin, make_member, make_token, organization_id) -> dict:
    owner = await make_member("Otto Owner")
    mine = (await api.post(f"{BASE}/catalogs", headers=admin, json={
        "displayName": f"Owned {uuid.uuid4().hex[:6]}", "foyerOwnerIds": [owner.id]})).json()
    theirs = (await api.post(f"{BASE}/catalogs", headers=admin, json={
        "displayName": f"Not owned {uuid.uuid4().hex[:6]}"})).json()
    hidden = (await api.post(f"{BASE}/accessPackages", headers=admin, json={
        "displayName": f"Hidden {uuid.uuid4().hex[:6]}", "isHidden": True,
        "catalog": {"id": theirs["id"]}})).json()
    visible = (await api.post(f"{BASE}/accessPackages", headers=admin, json={
        "displayName": f"Visible {uuid.uuid4().hex[:6]}", "catalog": {"id": theirs["id"]}})).json()
    group, _ = await make_group_and_app(organization_id, "Authz")
    return {
        "owner": await make_token(Role.member, user_id=owner.id, name="owner"),
        "member": await make_token(Role.member, user_id=(await make_member()).id),
        "guest": await make_token(Role.guest),
        "mine": mine, "theirs": theirs, "hidden": hidden, "visible": visible, "group": group,
    }


def _denied(response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"


async def test_no_token_is_401(api):
    for method, path in (("GET", "/catalogs"), ("POST", "/catalogs"), ("GET", "/accessPackages"),
                         ("POST", "/resourceRequests"), ("GET", "/assignmentPolicies"),
                         ("PATCH", "/assignmentPolicies/x"), ("GET", "/connectedOrganizations"),
                         ("DELETE", "/accessPackages/x/resourceRoleScopes/y")):
        response = await api.request(method, f"{BASE}{path}", json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    bad = await api.get(f"{BASE}/catalogs", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


async def test_member_reads_but_cannot_write(api, setup):
    member = setup["member"]
    assert (await api.get(f"{BASE}/catalogs/{setup['theirs']['id']}", headers=member)).status_code == 200
    assert (await api.get(f"{BASE}/catalogs/{setup['theirs']['id']}/resources", headers=member)).status_code == 200
    listed = (await api.get(f"{BASE}/accessPackages", headers=member,
                            params={"catalogId": setup["theirs"]["id"]})).json()["value"]
    assert [p["id"] for p in listed] == [setup["visible"]["id"]]
    assert (await api.get(f"{BASE}/accessPackages/{setup['visible']['id']}", headers=member)).status_code == 200
    assert (await api.get(f"{BASE}/accessPackages/{setup['hidden']['id']}", headers=member)).status_code == 404

    _denied(await api.post(f"{BASE}/catalogs", headers=member, json={"displayName": "Mine now"}))
    _denied(await api.patch(f"{BASE}/catalogs/{setup['theirs']['id']}", headers=member,
                            json={"displayName": "Taken"}))
    _denied(await api.post(f"{BASE}/accessPackages", headers=member, json={
        "displayName": "Sneaky", "catalog": {"id": setup["theirs"]["id"]}}))
    _denied(await api.patch(f"{BASE}/accessPackages/{setup['visible']['id']}", headers=member,
                            json={"isHidden": True}))
    _denied(await api.post(f"{BASE}/assignmentPolicies", headers=member, json={
        "displayName": "Open", "accessPackage": {"id": setup["visible"]["id"]},
        "allowedTargetScope": "allDirectoryUsers"}))
    _denied(await api.post(f"{BASE}/connectedOrganizations", headers=member, json={
        "displayName": "P", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource",
                                                 "domainName": "member-made.example"}]}))
    assert (await api.get(f"{BASE}/assignmentPolicies", headers=member)).json()["value"] == []


async def test_guest_cannot_read(api, setup):
    guest = setup["guest"]
    for path in ("/catalogs", "/accessPackages", "/assignmentPolicies", "/connectedOrganizations",
                 f"/catalogs/{setup['theirs']['id']}"):
        _denied(await api.get(f"{BASE}{path}", headers=guest))


async def test_owner_manages_own_catalog_only(api, admin, setup):
    owner, mine, theirs, group = setup["owner"], setup["mine"], setup["theirs"], setup["group"]
    # Directory groups and apps are added to a catalog by an administrator (its owners own no
    # group: tests/security/test_catalog_resources.py); the owner then uses it in packages, and
    # adds generic resources (sites) themselves.
    _denied(await api.post(f"{BASE}/resourceRequests", headers=owner, json={
        "requestType": "adminAdd", "catalog": {"id": mine["id"]},
        "resource": {"originId": group.id, "originSystem": "AadGroup"}}))
    resource = await api.post(f"{BASE}/resourceRequests", headers=admin, json={
        "requestType": "adminAdd", "catalog": {"id": mine["id"]},
        "resource": {"originId": group.id, "originSystem": "AadGroup"}})
    assert resource.status_code == 201, resource.text
    site = await api.post(f"{BASE}/resourceRequests", headers=owner, json={
        "requestType": "adminAdd", "catalog": {"id": mine["id"]},
        "resource": {"originId": "https://contoso.sharepoint.com/sites/Owned", "originSystem": "SharePointOnline"}})
    assert site.status_code == 201, site.text
    package = await api.post(f"{BASE}/accessPackages", headers=owner, json={
        "displayName": "Owner's package", "isHidden": True, "catalog": {"id": mine["id"]}})
    assert package.status_code == 201, package.text
    package_id = package.json()["id"]
    scope = await api.post(f"{BASE}/accessPackages/{package_id}/resourceRoleScopes", headers=owner, json={
        "role": {"originId": "Member", "resource": {"id": resource.json()["resource"]["id"]}}})
    assert scope.status_code == 201, scope.text
    policy = await api.post(f"{BASE}/assignmentPolicies", headers=owner, json={
        "displayName": "Members", "accessPackage": {"id": package_id}, "allowedTargetScope": "allMemberUsers"})
    assert policy.status_code == 201, policy.text
    policy_id = policy.json()["id"]
    assert (await api.patch(f"{BASE}/assignmentPolicies/{policy_id}", headers=owner,
                            json={"description": "Changed"})).status_code == 204
    assert (await api.get(f"{BASE}/assignmentPolicies/{policy_id}", headers=owner)).status_code == 200
    assert [p["id"] for p in (await api.get(f"{BASE}/assignmentPolicies", headers=owner)).json()["value"]] == [policy_id]
    # Hidden, but the owner sees it.
    assert (await api.get(f"{BASE}/accessPackages/{package_id}", headers=owner)).status_code == 200
    listed = (await api.get(f"{BASE}/accessPackages", headers=owner, params={"catalogId": mine["id"]})).json()
    assert [p["id"] for p in listed["value"]] == [package_id]
    assert (await api.patch(f"{BASE}/catalogs/{mine['id']}", headers=owner,
                            json={"description": "Ours"})).status_code == 204

    # Another catalog is not theirs.
    _denied(await api.post(f"{BASE}/resourceRequests", headers=owner, json={
        "requestType": "adminAdd", "catalog": {"id": theirs["id"]},
        "resource": {"originId": group.id, "originSystem": "AadGroup"}}))
    _denied(await api.post(f"{BASE}/resourceRequests", headers=owner, json={
        "requestType": "adminAdd", "catalog": {"id": theirs["id"]},
        "resource": {"originId": "https://contoso.sharepoint.com/sites/Theirs", "originSystem": "SharePointOnline"}}))
    _denied(await api.post(f"{BASE}/accessPackages", headers=owner, json={
        "displayName": "Elsewhere", "catalog": {"id": theirs["id"]}}))
    _denied(await api.patch(f"{BASE}/accessPackages/{setup['visible']['id']}", headers=owner,
                            json={"displayName": "Mine"}))
    _denied(await api.post(f"{BASE}/assignmentPolicies", headers=owner, json={
        "displayName": "Elsewhere", "accessPackage": {"id": setup["visible"]["id"]}}))
    _denied(await api.delete(f"{BASE}/accessPackages/{setup['visible']['id']}", headers=owner))
    assert (await api.get(f"{BASE}/accessPackages/{setup['hidden']['id']}", headers=owner)).status_code == 404
    admin_policy = (await api.post(f"{BASE}/assignmentPolicies", headers=admin, json={
        "displayName": "Admin's", "accessPackage": {"id": setup["visible"]["id"]}})).json()
    _denied(await api.get(f"{BASE}/assignmentPolicies/{admin_policy['id']}", headers=owner))
    _denied(await api.put(f"{BASE}/assignmentPolicies/{admin_policy['id']}", headers=owner, json={
        "displayName": "Taken", "accessPackage": {"id": setup["visible"]["id"]}}))
    _denied(await api.delete(f"{BASE}/assignmentPolicies/{admin_policy['id']}", headers=owner))
    _denied(await api.patch(f"{BASE}/catalogs/{theirs['id']}", headers=owner, json={"description": "x"}))
    # Deleting catalogs is for admins.
    _denied(await api.delete(f"{BASE}/catalogs/{mine['id']}", headers=owner))

    assert (await api.delete(f"{BASE}/assignmentPolicies/{policy_id}", headers=owner)).status_code == 204
    assert (await api.delete(f"{BASE}/accessPackages/{package_id}", headers=owner)).status_code == 204


async def test_user_administrator_may_do_everything(api, make_token, organization_id):
    user_admin = await make_token(Role.user_administrator)
    catalog = await api.post(f"{BASE}/catalogs", headers=user_admin, json={"displayName": f"UA {uuid.uuid4().hex[:6]}"})
    assert catalog.status_code == 201, catalog.text
    package = await api.post(f"{BASE}/accessPackages", headers=user_admin, json={
        "displayName": "UA package", "isHidden": True, "catalog": {"id": catalog.json()["id"]}})
    assert package.status_code == 201, package.text
    assert (await api.get(f"{BASE}/accessPackages/{package.json()['id']}", headers=user_admin)).status_code == 200
    connected = await api.post(f"{BASE}/connectedOrganizations", headers=user_admin, json={
        "displayName": "UA partner", "identitySources": [{
            "@odata.type": "#microsoft.graph.domainIdentitySource",
            "domainName": f"ua-{uuid.uuid4().hex[:6]}.example"}]})
    assert connected.status_code == 201, connected.text
