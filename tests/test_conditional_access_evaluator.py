"""The Conditional Access evaluator (foyer.rules.conditional_access.evaluate), pure: who a policy
applies to (users, groups, guests, partner tenants, applications, client apps), what it asks
(block, MFA, authentication strengths, AND / OR, controls Foyer can never see met), report-only
and disabled policies, and sign-in frequency."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from foyer.rules import authentication_strength as strengths
from foyer.rules.conditional_access import SignInFacts, evaluate, normalized_policy

pytestmark = pytest.mark.database_independent

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
PARTNER = "11111111-2222-3333-4444-555555555555"
OTHER_TENANT = "99999999-2222-3333-4444-555555555555"
GUEST = SignInFacts(user_id="u-guest", group_ids=frozenset({"g-partners"}), user_type="guest",
                    guest_or_external_user_type="b2bCollaborationGuest", external_tenant_id=PARTNER,
                    application_id="app-1", methods=frozenset({"otp"}), partner_mfa_trusted=False,
                    authenticated_at=NOW - timedelta(minutes=5), now=NOW)
MEMBER = replace(GUEST, user_id="u-member", group_ids=frozenset({"g-staff"}), user_type="member",
                 guest_or_external_user_type=None, external_tenant_id=None)
ALL_GUEST_TYPES = ("internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,"
                   "otherExternalUser,serviceProvider")


def policy(users=None, apps=None, grant=("mfa",), operator="OR", state="enabled", strength=None, session=None,
           client_apps=None, name="p"):
    body = {"displayName": name, "state": state,
            "conditions": {"users": users or {"includeUsers": ["All"]},
                           "applications": apps or {"includeApplications": ["All"]}}}
    if client_apps is not None:
        body["conditions"]["clientAppTypes"] = client_apps
    if grant or strength:
        body["grantControls"] = {"operator": operator, "builtInControls": list(grant or [])}
        if strength:
            body["grantControls"]["authenticationStrength"] = {"id": strength}
    if session:
        body["sessionControls"] = session
    return {"id": name, **normalized_policy(body)}  # what the use case stores, checked


def one(p, facts):
    evaluation = evaluate([p], facts)
    return evaluation, evaluation.results[0]


@pytest.mark.parametrize(("users", "applies_to_guest", "applies_to_member"), [
    ({"includeUsers": ["All"]}, True, True),
    ({"includeUsers": ["None"]}, False, False),
    ({"includeUsers": ["u-member"]}, False, True),
    ({"includeUsers": ["GuestsOrExternalUsers"]}, True, False),
    ({"includeGroups": ["g-partners"]}, True, False),
    ({"includeUsers": ["All"], "excludeGroups": ["g-partners"]}, False, True),
    ({"includeUsers": ["All"], "excludeUsers": ["GuestsOrExternalUsers"]}, False, True),
    ({"includeUsers": ["All"], "excludeUsers": ["u-member"]}, True, False),
    ({"includeGroups": ["g-partners"], "excludeUsers": ["u-guest"]}, False, False),
    ({"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": ALL_GUEST_TYPES,
                                       "externalTenants": {"membershipKind": "all"}}}, True, False),
    ({"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bDirectConnectUser"}}, False, False),
    ({"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest",
                                       "externalTenants": {"membershipKind": "enumerated", "members": [PARTNER]}}},
     True, False),
    ({"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest",
                                       "externalTenants": {"membershipKind": "enumerated",
                                                           "members": [OTHER_TENANT]}}}, False, False),
    ({"includeUsers": ["All"], "excludeGuestsOrExternalUsers": {
        "guestOrExternalUserTypes": "b2bCollaborationGuest",
        "externalTenants": {"membershipKind": "enumerated", "members": [PARTNER]}}}, False, True),
])
def test_who_a_policy_applies_to(users, applies_to_guest, applies_to_member):
    p = policy(users=users)
    assert one(p, GUEST)[1].applies is applies_to_guest
    assert one(p, MEMBER)[1].applies is applies_to_member
    if not applies_to_guest:
        assert one(p, GUEST)[1].analysis_reasons == ("users",)
        assert one(p, GUEST)[1].result == "notApplied"


def test_an_enumerated_tenant_does_not_match_a_guest_from_no_partner():
    p = policy(users={"includeGuestsOrExternalUsers": {
        "guestOrExternalUserTypes": "b2bCollaborationGuest",
        "externalTenants": {"membershipKind": "enumerated", "members": [PARTNER]}}})
    assert not one(p, replace(GUEST, external_tenant_id=None))[1].applies


@pytest.mark.parametrize(("apps", "app_id", "applies"), [
    ({"includeApplications": ["All"]}, "app-1", True),
    ({"includeApplications": ["All"]}, None, True),
    ({"includeApplications": ["app-1"]}, "app-1", True),
    ({"includeApplications": ["app-1"]}, "app-2", False),
    ({"includeApplications": ["app-1"]}, None, False),
    ({"includeApplications": ["None"]}, "app-1", False),
    ({"includeApplications": ["All"], "excludeApplications": ["app-1"]}, "app-1", False),
    ({"includeApplications": ["All"], "excludeApplications": ["app-1"]}, "app-2", True),
    ({"includeApplications": ["All"], "excludeApplications": ["app-1"]}, None, True),
])
def test_which_applications(apps, app_id, applies):
    _, result = one(policy(apps=apps), replace(GUEST, application_id=app_id))
    assert result.applies is applies
    assert result.analysis_reasons == (() if applies else ("application",))


def test_client_app_types():
    assert one(policy(client_apps=["browser"]), GUEST)[1].applies
    _, result = one(policy(client_apps=["mobileAppsAndDesktopClients"]), GUEST)
    assert not result.applies and result.analysis_reasons == ("clientApps",)
    _, result = one(policy(users={"includeUsers": ["None"]}, client_apps=["other"]), GUEST)
    assert result.analysis_reasons == ("users", "clientApps")


def test_block_refuses():
    evaluation, result = one(policy(grant=["block"], name="Block guests"), GUEST)
    assert evaluation.blocked_by is result and result.result == "failure"
    assert result.enforced_grant_controls == ("Block",) and evaluation.status == "failure"
    assert result.applied() == {"id": "Block guests", "displayName": "Block guests", "enforcedGrantControls": ["Block"],
                                "enforcedSessionControls": [], "result": "failure"}


def test_mfa_met_or_prompted():
    p = policy(grant=["mfa"])
    evaluation, result = one(p, replace(GUEST, methods=frozenset({"otp", "totp"})))
    assert result.result == "success" and evaluation.status == "success" and evaluation.required_strength is None
    assert result.enforced_grant_controls == ("Mfa",)
    evaluation, result = one(p, GUEST)  # the passcode alone
    assert result.result == "failure" and result.required_strength == strengths.MFA
    assert evaluation.required_strength == strengths.MFA and evaluation.blocked_by is None
    assert evaluation.status == "failure"
    # The partner's MFA, trusted: MFA met.
    assert one(p, replace(GUEST, methods=frozenset({"fed"}), partner_mfa_trusted=True))[1].result == "success"


def test_the_partners_mfa_does_not_meet_phishing_resistant():
    p = policy(grant=(), strength=strengths.PHISHING_RESISTANT)
    evaluation, result = one(p, replace(GUEST, methods=frozenset({"fed"}), partner_mfa_trusted=True))
    assert result.result == "failure" and evaluation.required_strength == strengths.PHISHING_RESISTANT
    assert result.enforced_grant_controls == ("Authentication strength: Phishing-resistant MFA",)
    assert one(p, replace(GUEST, methods=frozenset({"otp", "fido2"})))[1].result == "success"
    # A TOTP code is MFA but not phishing-resistant.
    assert one(p, replace(GUEST, methods=frozenset({"otp", "totp"})))[1].required_strength == strengths.PHISHING_RESISTANT


def test_the_strongest_strength_asked_is_prompted_for():
    evaluation = evaluate([policy(grant=["mfa"], name="a"),
                           policy(grant=(), strength=strengths.PASSWORDLESS, name="b"),
                           policy(grant=["mfa"], name="c")], GUEST)
    assert evaluation.required_strength == strengths.PASSWORDLESS
    evaluation = evaluate([policy(grant=(), strength=strengths.PHISHING_RESISTANT, name="a"),
                           policy(grant=["mfa"], name="b")], GUEST)
    assert evaluation.required_strength == strengths.PHISHING_RESISTANT


def test_controls_foyer_never_sees_met():
    evaluation, result = one(policy(grant=["compliantDevice"]), replace(GUEST, methods=frozenset({"otp", "fido2"})))
    assert result.result == "failure" and evaluation.blocked_by is result
    assert result.enforced_grant_controls == ("RequireCompliantDevice",)


def test_or_and_and():
    either = policy(grant=["mfa", "compliantDevice"], operator="OR")
    both = policy(grant=["mfa", "compliantDevice"], operator="AND")
    done = replace(GUEST, methods=frozenset({"otp", "totp"}))
    assert one(either, done)[1].result == "success"
    evaluation, result = one(either, GUEST)  # MFA not done yet: a prompt still meets the policy
    assert result.required_strength == strengths.MFA and evaluation.blocked_by is None
    evaluation, result = one(both, done)  # no prompt can meet a compliant device
    assert result.result == "failure" and evaluation.blocked_by is result and evaluation.required_strength is None
    only_prompts = policy(grant=["mfa"], strength=None, operator="AND")
    assert one(only_prompts, done)[1].result == "success"
    either_strength = {**policy(grant=["compliantDevice"], operator="OR")}
    either_strength["grantControls"] = {**either_strength["grantControls"],
                                        "authenticationStrength": {"id": strengths.PASSWORDLESS}}
    assert one(either_strength, GUEST)[1].required_strength == strengths.PASSWORDLESS


@pytest.mark.parametrize(("grant", "strength", "facts", "expected"), [
    (["mfa"], None, replace(GUEST, methods=frozenset({"otp", "totp"})), "reportOnlySuccess"),
    (["block"], None, GUEST, "reportOnlyFailure"),
    (["compliantDevice"], None, GUEST, "reportOnlyFailure"),
    (["mfa"], None, GUEST, "reportOnlyInterrupted"),
    ((), strengths.PHISHING_RESISTANT, GUEST, "reportOnlyInterrupted"),
    (["block"], None, replace(GUEST, application_id="app-2"), "reportOnlyNotApplied"),
])
def test_report_only_results_never_decide(grant, strength, facts, expected):
    p = policy(grant=grant, strength=strength, state="enabledForReportingButNotEnforced",
               apps={"includeApplications": ["app-1"]})
    evaluation, result = one(p, facts)
    assert result.result == expected and result.required_strength is None
    assert evaluation.blocked_by is None and evaluation.required_strength is None
    assert evaluation.reauthenticate is False and evaluation.status == "notApplied"


def test_a_disabled_policy_is_not_enabled():
    evaluation, result = one(policy(grant=["block"], state="disabled"), GUEST)
    assert result.result == "notEnabled" and not result.applies
    assert result.analysis_reasons == ("policyNotEnabled",)
    assert evaluation.blocked_by is None and evaluation.status == "notApplied"
    assert evaluation.applied_policies()[0]["result"] == "notEnabled"


def test_no_policy_applying_is_not_applied():
    evaluation = evaluate([policy(users={"includeUsers": ["u-member"]})], GUEST)
    assert evaluation.status == "notApplied" and evaluation.results[0].result == "notApplied"
    assert evaluate([], GUEST).status == "notApplied"


@pytest.mark.parametrize(("frequency", "signed_in_ago", "stale"), [
    ({"type": "hours", "value": 12}, timedelta(hours=11), False),
    ({"type": "hours", "value": 12}, timedelta(hours=13), True),
    ({"type": "days", "value": 1}, timedelta(hours=23), False),
    ({"type": "days", "value": 1}, timedelta(hours=25), True),
])
def test_sign_in_frequency(frequency, signed_in_ago, stale):
    session = {"signInFrequency": {"isEnabled": True, "frequencyInterval": "timeBased", **frequency}}
    facts = replace(GUEST, authenticated_at=NOW - signed_in_ago)
    evaluation, result = one(policy(grant=(), session=session), facts)
    assert result.enforced_session_controls == ("SignInFrequency",)
    assert evaluation.reauthenticate is stale
    assert result.result == ("failure" if stale else "success")
    assert evaluation.status == ("failure" if stale else "success")
    report_only = policy(grant=(), session=session, state="enabledForReportingButNotEnforced")
    evaluation, result = one(report_only, facts)
    assert evaluation.reauthenticate is False
    assert result.result == ("reportOnlyInterrupted" if stale else "reportOnlySuccess")


def test_results_follow_the_policies_order():
    evaluation = evaluate([policy(name="a", grant=["mfa"]), policy(name="b", grant=["block"]),
                           policy(name="c", grant=["block"])], GUEST)
    assert [r.id for r in evaluation.results] == ["a", "b", "c"]
    assert evaluation.blocked_by.id == "b"
    assert [p["result"] for p in evaluation.applied_policies()] == ["failure", "failure", "failure"]
