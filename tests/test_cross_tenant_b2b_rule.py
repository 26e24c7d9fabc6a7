"""How `usersAndGroups` and `applications` combine (foyer.rules.cross_tenant_access.b2b_allowed),
against the table in Graph's crossTenantAccessPolicy overview ("Interpreting the API response"):
an allowed list is an allow-list of its dimension, a blocked list a deny-list, both must pass (two
blocked lists name one pair to refuse);
plus the service default and a partner's inheritance of null blocks."""

import pytest

from foyer.rules.cross_tenant_access import (
    b2b_allowed, b2b_setting_refusal, effective, inbound_trust_refusal, service_default, service_default_b2b,
)

pytestmark = pytest.mark.database_independent

G1, A1, A2 = "group-1", "app-1", "app-2"
IN_G1, OUTSIDE = {"user-a", G1}, {"user-b", "group-2"}


def users(access, *targets):
    return {"accessType": access, "targets": [{"target": t, "targetType": "user" if t == "AllUsers" else "group"}
                                              for t in targets]}


def apps(access, *targets):
    return {"accessType": access, "targets": [{"target": t, "targetType": "application"} for t in targets]}


# (users rule, apps rule) → who may reach which app: {(in g1?, app): allowed}
TABLE = [
    ("only g1, all apps", users("allowed", G1), apps("allowed", "AllApplications"),
     {(True, A1): True, (True, A2): True, (False, A1): False, (False, A2): False}),
    ("everyone, only a1", users("allowed", "AllUsers"), apps("allowed", A1),
     {(True, A1): True, (True, A2): False, (False, A1): True, (False, A2): False}),
    ("g1 everything but a1", users("allowed", G1), apps("blocked", A1),
     {(True, A1): False, (True, A2): True, (False, A1): False, (False, A2): False}),
    ("g1 blocked everywhere, others all apps", users("blocked", G1), apps("blocked", "AllApplications"),
     {(True, A1): False, (True, A2): False, (False, A1): True, (False, A2): True}),
    ("g1 blocked, others only a1", users("blocked", G1), apps("allowed", A1),
     {(True, A1): False, (True, A2): False, (False, A1): True, (False, A2): False}),
    ("only g1, only a1", users("allowed", G1), apps("allowed", A1),
     {(True, A1): True, (True, A2): False, (False, A1): False, (False, A2): False}),
    ("g1 blocked from a1 only", users("blocked", G1), apps("blocked", A1),
     {(True, A1): False, (True, A2): True, (False, A1): True, (False, A2): True}),
]


@pytest.mark.parametrize(("case", "users_rule", "apps_rule", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_the_table(case, users_rule, apps_rule, expected):
    setting = {"usersAndGroups": users_rule, "applications": apps_rule}
    found = {(member, app): b2b_allowed(setting, user_and_group_ids=IN_G1 if member else OUTSIDE, application_id=app)
             for member, app in expected}
    assert found == expected, case


def test_the_service_default_allows_everyone_everywhere():
    for ids in (IN_G1, OUTSIDE):
        for app in (A1, A2, None):
            assert b2b_allowed(service_default_b2b(), user_and_group_ids=ids, application_id=app)
    assert b2b_allowed(None, user_and_group_ids=OUTSIDE, application_id=A1)


def test_without_an_application_only_a_block_of_every_application_refuses():
    blocked_everywhere = {"usersAndGroups": users("allowed", "AllUsers"), "applications": apps("blocked", "AllApplications")}
    assert not b2b_allowed(blocked_everywhere, user_and_group_ids=OUTSIDE, application_id=None)
    only_a1 = {"usersAndGroups": users("allowed", "AllUsers"), "applications": apps("allowed", A1)}
    assert b2b_allowed(only_a1, user_and_group_ids=OUTSIDE, application_id=None)
    g1_everywhere = {"usersAndGroups": users("blocked", G1), "applications": apps("blocked", "AllApplications")}
    assert not b2b_allowed(g1_everywhere, user_and_group_ids=IN_G1, application_id=None)
    assert b2b_allowed(g1_everywhere, user_and_group_ids=OUTSIDE, application_id=None)


def test_a_partner_inherits_what_it_leaves_null():
    default = service_default()
    blocked = {"usersAndGroups": users("blocked", G1), "applications": apps("blocked", "AllApplications")}
    merged = effective(default, {"b2bCollaborationInbound": blocked, "b2bCollaborationOutbound": None,
                                 "inboundTrust": None})
    assert merged["b2bCollaborationInbound"] == blocked
    assert merged["b2bCollaborationOutbound"] == default["b2bCollaborationOutbound"]
    assert merged["inboundTrust"] == {"isMfaAccepted": False, "isCompliantDeviceAccepted": False,
                                      "isHybridAzureADJoinedDeviceAccepted": False}
    assert default == service_default()  # the default itself is not changed


def test_what_cannot_be_stored():
    good = {"usersAndGroups": users("allowed", G1), "applications": apps("blocked", A1)}
    assert b2b_setting_refusal("b2bCollaborationInbound", good) is None
    assert b2b_setting_refusal("b2bCollaborationInbound", None) is None
    for bad, says in (
            ("open", "must be an object"),
            ({"devices": {}}, "must be an object"),
            ({"usersAndGroups": {"accessType": "maybe", "targets": [{"target": G1, "targetType": "group"}]}}, "accessType"),
            ({"usersAndGroups": {"accessType": "allowed", "targets": []}}, "non-empty"),
            ({"usersAndGroups": {"accessType": "allowed", "targets": [{"target": G1, "targetType": "application"}]}},
             "targetType"),
            ({"applications": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "application"}]}},
             "invalid target"),
            ({"applications": {"accessType": "allowed", "targets": [{"target": "x\x00", "targetType": "application"}]}},
             "keyword or an object id")):
        assert says in (b2b_setting_refusal("b2bCollaborationInbound", bad) or ""), bad
    assert inbound_trust_refusal({"isMfaAccepted": True}) is None
    assert inbound_trust_refusal({"isMfaAccepted": "yes"}) is not None
    assert inbound_trust_refusal({"trustEverything": True}) is not None
