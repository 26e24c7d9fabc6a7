"""Connected organizations: CRUD, one domain per connected organization, sponsors by $ref, and
deletion refused while a policy targets the organization."""

import uuid

BASE = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations"


def _domain() -> str:
    return f"partner-{uuid.uuid4().hex[:8]}.example"


def _source(domain: str) -> dict:
    return {"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": domain,
            "displayName": domain.split(".")[0]}


async def _create(api, headers, *domains, **extra):
    return await api.post(BASE, headers=headers, json={
        "displayName": f"Partner {uuid.uuid4().hex[:6]}", "identitySources": [_source(d) for d in domains],
        **extra})


async def test_crud(api, admin):
    domain = _domain()
    created = await _create(api, admin, domain.upper(), description="Supplier", state="proposed")
    assert created.status_code == 201, created.text
    row = created.json()
    assert row["state"] == "proposed" and row["description"] == "Supplier"
    assert row["identitySources"] == [{"@odata.type": "#microsoft.graph.domainIdentitySource",
                                       "domainName": domain, "displayName": domain.split(".")[0].upper()}]
    assert (await api.get(f"{BASE}/{row['id']}", headers=admin)).json() == row

    patched = await api.patch(f"{BASE}/{row['id']}", headers=admin,
                              json={"state": "configured", "displayName": "Renamed partner"})
    assert patched.status_code == 204, patched.text
    listed = await api.get(BASE, headers=admin, params={"$filter": "displayName eq 'Renamed partner' "
                                                                  "and state eq 'configured'"})
    assert row["id"] in [r["id"] for r in listed.json()["value"]]

    assert (await api.delete(f"{BASE}/{row['id']}", headers=admin)).status_code == 204
    assert (await api.get(f"{BASE}/{row['id']}", headers=admin)).status_code == 404
    # Its domain is free again.
    assert (await _create(api, admin, domain)).status_code == 201


async def test_a_domain_belongs_to_one_connected_organization(api, admin):
    domain, other = _domain(), _domain()
    first = (await _create(api, admin, domain)).json()
    clash = await _create(api, admin, other, domain)
    assert clash.status_code == 409, clash.text
    assert domain in clash.json()["error"]["message"]
    second = (await _create(api, admin, other)).json()
    moved = await api.patch(f"{BASE}/{second['id']}", headers=admin,
                            json={"identitySources": [_source(domain)]})
    assert moved.status_code == 409, moved.text
    # Changing its own sources keeps its own domain.
    same = await api.patch(f"{BASE}/{first['id']}", headers=admin,
                           json={"identitySources": [_source(domain), _source(_domain())]})
    assert same.status_code == 204, same.text


async def test_bad_bodies_are_400(api, admin):
    cases = [
        ({"displayName": "P"}, "identitySources"),
        ({"displayName": "P", "identitySources": []}, "identitySources"),
        ({"displayName": "P", "identitySources": [{"domainName": _domain()}]}, "@odata.type"),
        ({"displayName": "P", "identitySources": [{**_source("not a domain")}]}, "domainName"),
        ({"displayName": "P", "identitySources": [_source("contoso.test")]}, "verified domain"),
        ({"displayName": "P", "identitySources": [_source(_domain())], "state": "active"}, "state"),
        ({"identitySources": [_source(_domain())]}, "displayName"),
        ({"displayName": "P", "identitySources": [{**_source(_domain()), "tenantId": "x"}]}, "tenantId"),
    ]
    for body, named in cases:
        response = await api.post(BASE, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert named in response.json()["error"]["message"], (body, response.text)
    row = (await _create(api, admin, _domain())).json()
    for patch in ({}, {"state": None}, {"identitySources": None}, {"identitySources": []}):
        response = await api.patch(f"{BASE}/{row['id']}", headers=admin, json=patch)
        assert response.status_code == 400, (patch, response.text)


async def test_sponsors(api, admin, make_member):
    row = (await _create(api, admin, _domain())).json()
    inside, outside = await make_member("Ingrid Inside"), await make_member("Oscar Outside")
    for kind, user in (("internalSponsors", inside), ("externalSponsors", outside)):
        ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{user.id}"}
        added = await api.post(f"{BASE}/{row['id']}/{kind}/$ref", headers=admin, json=ref)
        assert added.status_code == 204, added.text
        again = await api.post(f"{BASE}/{row['id']}/{kind}/$ref", headers=admin, json=ref)
        assert again.status_code == 400, again.text
        listed = (await api.get(f"{BASE}/{row['id']}/{kind}", headers=admin)).json()["value"]
        assert [u["id"] for u in listed] == [user.id]
    ghost = await api.post(f"{BASE}/{row['id']}/internalSponsors/$ref", headers=admin,
                           json={"@odata.id": f"https://graph.microsoft.com/v1.0/users/{uuid.uuid4()}"})
    assert ghost.status_code == 404, ghost.text
    malformed = await api.post(f"{BASE}/{row['id']}/internalSponsors/$ref", headers=admin, json={"id": "x"})
    assert malformed.status_code == 400, malformed.text
    got = (await api.get(f"{BASE}/{row['id']}", headers=admin)).json()
    assert got["foyerInternalSponsorIds"] == [inside.id] and got["foyerExternalSponsorIds"] == [outside.id]

    removed = await api.delete(f"{BASE}/{row['id']}/internalSponsors/{inside.id}/$ref", headers=admin)
    assert removed.status_code == 204, removed.text
    assert (await api.get(f"{BASE}/{row['id']}/internalSponsors", headers=admin)).json()["value"] == []
    assert (await api.delete(f"{BASE}/{row['id']}/internalSponsors/{inside.id}/$ref",
                             headers=admin)).status_code == 404


async def test_delete_refused_while_a_policy_targets_it(api, admin):
    row = (await _create(api, admin, _domain())).json()
    em = "/v1.0/identityGovernance/entitlementManagement"
    catalog = (await api.post(f"{em}/catalogs", headers=admin, json={"displayName": f"C {uuid.uuid4().hex[:6]}"})).json()
    package = (await api.post(f"{em}/accessPackages", headers=admin, json={
        "displayName": "Partner package", "catalog": {"id": catalog["id"]}})).json()
    policy = await api.post(f"{em}/assignmentPolicies", headers=admin, json={
        "displayName": "Partner policy", "accessPackage": {"id": package["id"]},
        "allowedTargetScope": "specificConnectedOrganizationUsers",
        "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers",
                                    "connectedOrganizationId": row["id"]}]})
    assert policy.status_code == 201, policy.text
    refused = await api.delete(f"{BASE}/{row['id']}", headers=admin)
    assert refused.status_code == 409 and "Partner policy" in refused.json()["error"]["message"]
    assert (await api.delete(f"{em}/assignmentPolicies/{policy.json()['id']}", headers=admin)).status_code == 204
    assert (await api.delete(f"{BASE}/{row['id']}", headers=admin)).status_code == 204
