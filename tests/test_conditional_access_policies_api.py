"""identity/conditionalAccess/policies: create (201, Graph's full shape), read (both paths, the
authentication strength expanded), PATCH (204, blocks merged), DELETE (204), audited; admins read,
Global Administrators change, members are refused; the built-in authentication strengths."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.enums import Role
from tests.conditional_access_support import MFA, PHISHING_RESISTANT, POLICIES, STRENGTHS, body, no_policies  # noqa: F401


async def test_round_trip(api, admin):
    created = await api.post(POLICIES, headers=admin, json=body())
    assert created.status_code == 201, created.text
    policy = created.json()
    policy_id = policy["id"]
    assert policy["state"] == "enabledForReportingButNotEnforced" and policy["createdDateTime"]
    assert policy["modifiedDateTime"] is None and policy["description"] is None
    users = policy["conditions"]["users"]
    assert users["includeUsers"] == [] and users["excludeGroups"] == [] and users["excludeGuestsOrExternalUsers"] is None
    assert users["includeGuestsOrExternalUsers"] == {
        "guestOrExternalUserTypes": "b2bCollaborationGuest,b2bDirectConnectUser",
        "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                            "membershipKind": "all"}}
    assert policy["conditions"]["clientAppTypes"] == ["all"] and policy["conditions"]["locations"] is None
    assert policy["grantControls"] == {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [],
                                       "termsOfUse": [], "authenticationStrength": None}
    assert policy["sessionControls"]["signInFrequency"]["value"] == 12

    listed = (await api.get(POLICIES, headers=admin)).json()["value"]
    assert [p["id"] for p in listed] == [policy_id]
    other_path = await api.get(f"/v1.0/policies/conditionalAccessPolicies/{policy_id}", headers=admin)
    assert other_path.status_code == 200 and other_path.json()["displayName"] == "Require MFA for guests"

    patched = await api.patch(f"{POLICIES}/{policy_id}", headers=admin, json={
        "state": "enabled", "grantControls": {"operator": "OR", "authenticationStrength": {"id": PHISHING_RESISTANT}}})
    assert patched.status_code == 204, patched.text
    read = (await api.get(f"{POLICIES}/{policy_id}", headers=admin)).json()
    assert read["state"] == "enabled" and read["modifiedDateTime"]
    assert read["conditions"] == policy["conditions"] and read["sessionControls"] == policy["sessionControls"]
    strength = read["grantControls"]["authenticationStrength"]
    assert strength["id"] == PHISHING_RESISTANT and strength["displayName"] == "Phishing-resistant MFA"
    assert strength["policyType"] == "builtIn" and strength["allowedCombinations"] == ["fido2"]
    assert read["grantControls"]["builtInControls"] == []

    # A PATCH of the session controls alone to null leaves the grant: still a valid policy.
    assert (await api.patch(f"{POLICIES}/{policy_id}", headers=admin,
                            json={"sessionControls": None})).status_code == 204
    assert (await api.get(f"{POLICIES}/{policy_id}", headers=admin)).json()["sessionControls"] is None

    assert (await api.delete(f"{POLICIES}/{policy_id}", headers=admin)).status_code == 204
    gone = await api.get(f"{POLICIES}/{policy_id}", headers=admin)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "Request_ResourceNotFound"
    assert (await api.delete(f"{POLICIES}/{policy_id}", headers=admin)).status_code == 404

    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == policy_id)
                                      .order_by(AuditRecord.activity_date_time))).all()
    assert [(r.category, r.activity_display_name) for r in records] == [
        ("Policy", "Add conditional access policy"), ("Policy", "Update conditional access policy"),
        ("Policy", "Update conditional access policy"), ("Policy", "Delete conditional access policy")]
    assert records[0].initiated_by_name == "Ada Admin" and records[0].target_display_name == "Require MFA for guests"
    assert records[1].details["modifiedProperties"] == "state,grantControls"
    assert records[1].details["before"]["state"] == "enabledForReportingButNotEnforced"
    assert records[1].details["after"]["grantControls"]["authenticationStrength"] == {"id": PHISHING_RESISTANT}


async def test_a_patch_merges_conditions(api, admin, make_member):
    policy = (await api.post(POLICIES, headers=admin, json=body())).json()
    breakglass = await make_member("Break Glass")
    patched = await api.patch(f"{POLICIES}/{policy['id']}", headers=admin, json={
        "conditions": {"users": {"excludeUsers": [breakglass.id]}, "clientAppTypes": ["browser"]}})
    assert patched.status_code == 204, patched.text
    read = (await api.get(f"{POLICIES}/{policy['id']}", headers=admin)).json()
    assert read["conditions"]["users"]["excludeUsers"] == [breakglass.id]
    assert read["conditions"]["users"]["includeGuestsOrExternalUsers"] == \
        policy["conditions"]["users"]["includeGuestsOrExternalUsers"]
    assert read["conditions"]["applications"] == policy["conditions"]["applications"]
    assert read["conditions"]["clientAppTypes"] == ["browser"]
    # externalTenants is replaced whole: from all to one partner.
    partner = "11111111-2222-3333-4444-555555555555"
    patched = await api.patch(f"{POLICIES}/{policy['id']}", headers=admin, json={"conditions": {"users": {
        "includeGuestsOrExternalUsers": {"externalTenants": {"membershipKind": "enumerated", "members": [partner]}}}}})
    assert patched.status_code == 204, patched.text
    read = (await api.get(f"{POLICIES}/{policy['id']}", headers=admin)).json()
    assert read["conditions"]["users"]["includeGuestsOrExternalUsers"] == {
        "guestOrExternalUserTypes": "b2bCollaborationGuest,b2bDirectConnectUser",
        "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                            "membershipKind": "enumerated", "members": [partner]}}


async def test_an_exported_policy_can_be_created_again(api, admin):
    first = (await api.post(POLICIES, headers=admin, json=body(state="disabled"))).json()
    exported = {**first, "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/"
                                           "policies/$entity", "templateId": None,
                "grantControls": {**first["grantControls"], "authenticationStrength@odata.context": "x"}}
    copied = await api.post(POLICIES, headers=admin, json=exported)
    assert copied.status_code == 201, copied.text
    assert copied.json()["id"] != first["id"] and copied.json()["conditions"] == first["conditions"]
    # A flags enum sent as a list of its members is stored as Graph writes it, comma-joined.
    as_list = body()
    as_list["conditions"]["users"]["includeGuestsOrExternalUsers"]["guestOrExternalUserTypes"] = [
        "b2bCollaborationGuest", "b2bDirectConnectUser"]
    created = await api.post(POLICIES, headers=admin, json=as_list)
    assert created.status_code == 201, created.text
    assert created.json()["conditions"] == first["conditions"]


async def test_who_may_read_and_change(api, admin, make_token):
    policy_id = (await api.post(POLICIES, headers=admin, json=body())).json()["id"]
    member = await make_token(Role.member)
    inviter = await make_token(Role.guest_inviter)
    user_admin = await make_token(Role.user_administrator)
    for headers in (member, inviter):
        for response in (await api.get(POLICIES, headers=headers),
                         await api.get(f"{POLICIES}/{policy_id}", headers=headers),
                         await api.post(POLICIES, headers=headers, json=body()),
                         await api.patch(f"{POLICIES}/{policy_id}", headers=headers, json={"state": "enabled"}),
                         await api.delete(f"{POLICIES}/{policy_id}", headers=headers),
                         await api.get(STRENGTHS, headers=headers)):
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "Authorization_RequestDenied"
    assert (await api.get(f"{POLICIES}/{policy_id}", headers=user_admin)).status_code == 200
    assert (await api.post(POLICIES, headers=user_admin, json=body())).status_code == 403
    assert (await api.delete(f"{POLICIES}/{policy_id}", headers=user_admin)).status_code == 403
    assert (await api.get(POLICIES)).status_code == 401


async def test_the_built_in_authentication_strengths(api, admin):
    listed = (await api.get(STRENGTHS, headers=admin)).json()["value"]
    assert [(s["id"], s["displayName"]) for s in listed] == [
        (MFA, "Multifactor authentication"), ("00000000-0000-0000-0000-000000000003", "Passwordless MFA"),
        (PHISHING_RESISTANT, "Phishing-resistant MFA")]
    assert all(s["policyType"] == "builtIn" for s in listed)
    one = await api.get(f"{STRENGTHS}/{MFA}", headers=admin)
    assert one.status_code == 200 and "federatedMultiFactor" in one.json()["allowedCombinations"]
    assert (await api.get(f"/v1.0/policies/authenticationStrengthPolicies/{MFA}", headers=admin)).status_code == 200
    assert (await api.get(f"{STRENGTHS}/00000000-0000-0000-0000-000000000009", headers=admin)).status_code == 404
    custom = await api.post(STRENGTHS, headers=admin, json={"displayName": "Mine", "allowedCombinations": ["fido2"]})
    assert custom.status_code == 405 and "custom authentication strengths are not supported" in \
        custom.json()["error"]["message"]
    assert (await api.delete(f"{STRENGTHS}/{MFA}", headers=admin)).status_code == 405
