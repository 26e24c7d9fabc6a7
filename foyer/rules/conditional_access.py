"""Conditional Access (Graph's conditionalAccessPolicy): which policies apply to a sign-in, what
they ask, and which policy body may be stored. Pure: no database, no I/O.

A policy applies when its users, applications and client app types all match the sign-in:
- users: `includeUsers` ("All", "None", "GuestsOrExternalUsers" or user ids), `includeGroups`,
  `includeGuestsOrExternalUsers` ({guestOrExternalUserTypes: comma-joined flags, externalTenants:
  {membershipKind: all | enumerated, members}}); the `exclude…` ones win over every include.
- applications: `includeApplications` ("All", "None" or appIds), `excludeApplications`. Foyer's own
  pages (no application) match only "All".
- clientAppTypes: "all", or the sign-in's type among them.

What it asks (grantControls, `operator` OR: one control met is enough; AND: all of them):
`block` refuses; `mfa` is the built-in "Multifactor authentication" strength and
`authenticationStrength` {id} a built-in strength (foyer.rules.authentication_strength), both met
by the methods done or, when unmet, by a prompt; every other built-in control (compliantDevice,
domainJoinedDevice, approvedApplication, compliantApplication, passwordChange) is something Foyer
can never see, so it is never met. `sessionControls.signInFrequency` asks for a fresh sign-in once
its time since the first factor has run out.

Results, per policy (Graph's appliedConditionalAccessPolicy.result): enforced policies give
success, failure (refused, or a prompt not done yet) or notApplied; report-only ones
(enabledForReportingButNotEnforced) are evaluated the same way and give reportOnlySuccess,
reportOnlyFailure (refused), reportOnlyInterrupted (a prompt would be needed) or
reportOnlyNotApplied, and never change the outcome; disabled ones give notEnabled.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from foyer.rules import authentication_strength as strengths

ENABLED, DISABLED, REPORT_ONLY = "enabled", "disabled", "enabledForReportingButNotEnforced"
STATES = (ENABLED, DISABLED, REPORT_ONLY)

ALL, NONE, GUESTS_OR_EXTERNAL = "All", "None", "GuestsOrExternalUsers"
GUEST_TYPES = ("none", "internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember", "b2bDirectConnectUser",
               "otherExternalUser", "serviceProvider")
# Foyer's guests, in Graph's guestOrExternalUserTypes.
B2B_COLLABORATION_GUEST = "b2bCollaborationGuest"
CLIENT_APP_TYPES = ("all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "easSupported", "other")
BLOCK, MFA = "block", "mfa"
# Built-in controls Foyer can never find met: it sees no device, app protection or password.
NEVER_MET = ("compliantDevice", "domainJoinedDevice", "approvedApplication", "compliantApplication", "passwordChange")
BUILT_IN_CONTROLS = (BLOCK, MFA, *NEVER_MET)
# Graph's display strings (appliedConditionalAccessPolicy.enforcedGrantControls).
CONTROL_NAMES = {BLOCK: "Block", MFA: "Mfa", "compliantDevice": "RequireCompliantDevice",
                 "domainJoinedDevice": "RequireDomainJoinedDevice", "approvedApplication": "RequireApprovedApp",
                 "compliantApplication": "RequireCompliantApp", "passwordChange": "RequirePasswordChange"}
SIGN_IN_FREQUENCY = "SignInFrequency"
ALL_TENANTS_TYPE = "#microsoft.graph.conditionalAccessAllExternalTenants"
ENUMERATED_TENANTS_TYPE = "#microsoft.graph.conditionalAccessEnumeratedExternalTenants"

MAX_ITEMS = 500
MAX_ID = 256
MAX_NAME = 256
MAX_DESCRIPTION = 1024
MAX_HOURS, MAX_DAYS = 23, 365

# Read-only properties a copied (exported) policy carries; ignored on create.
READ_ONLY = ("id", "createdDateTime", "modifiedDateTime", "templateId", "deletedDateTime")
TOP_LEVEL = ("displayName", "description", "state", "conditions", "grantControls", "sessionControls")
USER_LISTS = ("includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles")
USER_GUESTS = ("includeGuestsOrExternalUsers", "excludeGuestsOrExternalUsers")
APP_LISTS = ("includeApplications", "excludeApplications", "includeUserActions",
             "includeAuthenticationContextClassReferences")
# Conditions Foyer does not evaluate: accepted empty (as exports carry them), refused when set.
UNSUPPORTED_LISTS = ("signInRiskLevels", "userRiskLevels", "servicePrincipalRiskLevels")
UNSUPPORTED_OBJECTS = ("locations", "platforms", "devices", "clientApplications", "authenticationFlows",
                       "insiderRiskLevels")
UNSUPPORTED_SESSION = ("persistentBrowser", "applicationEnforcedRestrictions", "cloudAppSecurity",
                       "secureSignInSession", "disableResilienceDefaults", "continuousAccessEvaluation",
                       "globalSecureAccessFilteringProfile")


# --- evaluating -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignInFacts:
    user_id: str
    group_ids: frozenset[str]
    user_type: str                       # "member" | "guest"
    # Graph's guestOrExternalUserTypes member for this person: "b2bCollaborationGuest" for Foyer's
    # guests, None for members.
    guest_or_external_user_type: str | None
    external_tenant_id: str | None       # the partner tenant (tid) of a partner organization's person
    application_id: str | None           # the app's appId; None: Foyer's own pages (only "All" matches)
    methods: frozenset[str]              # foyer.sessions.METHODS done in this session
    partner_mfa_trusted: bool            # the partner's token had mfa AND inboundTrust.isMfaAccepted
    authenticated_at: datetime           # when the session's first factor was done
    now: datetime
    client_app_type: str = "browser"


@dataclass(frozen=True)
class PolicyResult:
    id: str
    display_name: str
    state: str
    applies: bool
    # What-if's analysisReasons when it does not apply (users, application, clientApps, policyNotEnabled).
    analysis_reasons: tuple[str, ...]
    # success | failure | notApplied | notEnabled | reportOnlySuccess | reportOnlyFailure |
    # reportOnlyInterrupted | reportOnlyNotApplied
    result: str
    enforced_grant_controls: tuple[str, ...]
    enforced_session_controls: tuple[str, ...]
    # For an enforced, applying policy whose grant a prompt could still satisfy: the strength to prompt for.
    required_strength: str | None = None
    # For an enforced, applying policy: its signInFrequency has run out since the first factor.
    reauthenticate: bool = False
    # For an enforced, applying policy: refused outright (block, or a control no prompt can meet).
    refused: bool = False

    def applied(self) -> dict:
        """Graph's appliedConditionalAccessPolicy."""
        return {"id": self.id, "displayName": self.display_name,
                "enforcedGrantControls": list(self.enforced_grant_controls),
                "enforcedSessionControls": list(self.enforced_session_controls), "result": self.result}


@dataclass(frozen=True)
class Evaluation:
    results: tuple[PolicyResult, ...]
    blocked_by: PolicyResult | None      # first enforced policy that refuses outright
    required_strength: str | None        # strongest strength an enforced policy still needs, else None
    reauthenticate: bool                 # an enforced applying policy's signInFrequency has run out

    @property
    def status(self) -> str:
        """Graph's conditionalAccessStatus for the sign-in."""
        if self.blocked_by is not None or self.required_strength is not None or self.reauthenticate:
            return "failure"
        if any(r.state == ENABLED and r.applies for r in self.results):
            return "success"
        return "notApplied"

    def applied_policies(self) -> list[dict]:
        return [r.applied() for r in self.results]


def _flags(value) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()} if isinstance(value, str) else set()


def _guests_match(selector: dict | None, facts: SignInFacts) -> bool:
    if not selector or facts.guest_or_external_user_type is None:
        return False
    if facts.guest_or_external_user_type not in _flags(selector.get("guestOrExternalUserTypes")):
        return False
    tenants = selector.get("externalTenants")
    if not tenants or tenants.get("membershipKind") != "enumerated":
        return True
    members = {str(m).lower() for m in tenants.get("members") or []}
    return facts.external_tenant_id is not None and facts.external_tenant_id.lower() in members


def _users_match(users: dict, facts: SignInFacts) -> bool:
    is_guest = facts.guest_or_external_user_type is not None
    excluded_users = set(users.get("excludeUsers") or [])
    if (facts.user_id in excluded_users or (GUESTS_OR_EXTERNAL in excluded_users and is_guest)
            or facts.group_ids & set(users.get("excludeGroups") or [])
            or _guests_match(users.get("excludeGuestsOrExternalUsers"), facts)):
        return False
    included = set(users.get("includeUsers") or [])
    return (ALL in included or facts.user_id in included or (GUESTS_OR_EXTERNAL in included and is_guest)
            or bool(facts.group_ids & set(users.get("includeGroups") or []))
            or _guests_match(users.get("includeGuestsOrExternalUsers"), facts))


def _applications_match(applications: dict, facts: SignInFacts) -> bool:
    included = set(applications.get("includeApplications") or [])
    excluded = set(applications.get("excludeApplications") or [])
    if facts.application_id is None:
        return ALL in included and ALL not in excluded
    if facts.application_id in excluded or ALL in excluded:
        return False
    return ALL in included or facts.application_id in included


def _client_apps_match(types, facts: SignInFacts) -> bool:
    types = list(types or ["all"])
    return "all" in types or facts.client_app_type in types


def condition_reasons(conditions: dict, facts: SignInFacts) -> tuple[str, ...]:
    """The analysisReasons flags of the conditions the sign-in does not meet (empty: all met)."""
    reasons = []
    if not _users_match(conditions.get("users") or {}, facts):
        reasons.append("users")
    if not _applications_match(conditions.get("applications") or {}, facts):
        reasons.append("application")
    if not _client_apps_match(conditions.get("clientAppTypes"), facts):
        reasons.append("clientApps")
    return tuple(reasons)


def _strength_of(grant: dict) -> str | None:
    strength = grant.get("authenticationStrength")
    return strength.get("id") if isinstance(strength, dict) else None


def grant_display(grant: dict | None) -> tuple[str, ...]:
    """The grant controls as sign-in logs name them."""
    if not grant:
        return ()
    shown = [CONTROL_NAMES.get(c, c) for c in grant.get("builtInControls") or []]
    if (strength_id := _strength_of(grant)) is not None:
        name = strengths.BUILT_IN.get(strength_id, {}).get("displayName", strength_id)
        shown.append(f"Authentication strength: {name}")
    return tuple(shown)


def session_display(session_controls: dict | None) -> tuple[str, ...]:
    frequency = (session_controls or {}).get("signInFrequency") or {}
    return (SIGN_IN_FREQUENCY,) if frequency.get("isEnabled") else ()


def _grant_outcome(grant: dict | None, facts: SignInFacts) -> tuple[str, str | None]:
    """("met" | "prompt" | "refused", the strength to prompt for)."""
    if not grant:
        return "met", None
    controls = []  # each: ("met" | "prompt" | "never", strength)
    for control in grant.get("builtInControls") or []:
        if control == BLOCK:
            return "refused", None
        if control == MFA:
            met = strengths.satisfied(strengths.MFA, facts.methods, facts.partner_mfa_trusted)
            controls.append(("met" if met else "prompt", strengths.MFA))
        else:
            controls.append(("never", None))
    if (strength_id := _strength_of(grant)) is not None:
        if strength_id in strengths.BUILT_IN:
            met = strengths.satisfied(strength_id, facts.methods, facts.partner_mfa_trusted)
            controls.append(("met" if met else "prompt", strength_id))
        else:
            controls.append(("never", None))
    if not controls:
        return "met", None
    outcomes = {outcome for outcome, _ in controls}
    prompts = [strength for outcome, strength in controls if outcome == "prompt"]
    if grant.get("operator") == "AND":
        if "never" in outcomes:
            return "refused", None
        if prompts:
            return "prompt", strengths.strongest(prompts)
        return "met", None
    if "met" in outcomes:
        return "met", None
    if prompts:  # one prompt meets the policy: the weakest that any control accepts
        return "prompt", next(s for s in strengths.ORDER if s in prompts)
    return "refused", None


def _frequency(session_controls: dict | None) -> timedelta | None:
    frequency = (session_controls or {}).get("signInFrequency") or {}
    if not frequency.get("isEnabled") or frequency.get("frequencyInterval", "timeBased") != "timeBased":
        return None
    value = frequency.get("value")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return timedelta(days=value) if frequency.get("type") == "days" else timedelta(hours=value)


def evaluate_policy(policy: dict, facts: SignInFacts) -> PolicyResult:
    state = policy.get("state")
    grant, session_controls = policy.get("grantControls"), policy.get("sessionControls")
    common = dict(id=policy.get("id", ""), display_name=policy.get("displayName", ""), state=state,
                  enforced_grant_controls=grant_display(grant),
                  enforced_session_controls=session_display(session_controls))
    if state not in (ENABLED, REPORT_ONLY):
        return PolicyResult(applies=False, analysis_reasons=("policyNotEnabled",), result="notEnabled", **common)
    reasons = condition_reasons(policy.get("conditions") or {}, facts)
    enforced = state == ENABLED
    if reasons:
        return PolicyResult(applies=False, analysis_reasons=reasons,
                            result="notApplied" if enforced else "reportOnlyNotApplied", **common)
    outcome, strength = _grant_outcome(grant, facts)
    frequency = _frequency(session_controls)
    stale = frequency is not None and facts.now - facts.authenticated_at > frequency
    if outcome == "refused":
        result = "failure" if enforced else "reportOnlyFailure"
    elif outcome == "prompt" or stale:
        result = "failure" if enforced else "reportOnlyInterrupted"
    else:
        result = "success" if enforced else "reportOnlySuccess"
    return PolicyResult(applies=True, analysis_reasons=(), result=result,
                        required_strength=strength if enforced and outcome == "prompt" else None,
                        reauthenticate=enforced and stale, refused=enforced and outcome == "refused", **common)


def evaluate(policies: list[dict], facts: SignInFacts) -> Evaluation:
    """Every policy's result for this sign-in, and what the enforced ones ask of it."""
    results = tuple(evaluate_policy(policy, facts) for policy in policies)
    blocked_by = next((r for r in results if r.refused), None)
    return Evaluation(results=results, blocked_by=blocked_by,
                      required_strength=strengths.strongest([r.required_strength for r in results
                                                             if r.required_strength]),
                      reauthenticate=any(r.reauthenticate for r in results))


# --- what may be stored ------------------------------------------------------------------------------

class _Refusal(Exception):
    pass


def _refuse(message: str):
    raise _Refusal(message)


def _text(value, where: str, limit: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        _refuse(f"{where} is required" if value is None else f"{where} must be a non-empty string")
    if len(value) > limit:
        _refuse(f"{where} may be at most {limit} characters")
    if not value.replace("\n", "").replace("\t", "").isprintable():
        _refuse(f"{where} may not hold control characters")
    return value


def _object(value, where: str, *, required: bool = False) -> dict | None:
    if value is None:
        if required:
            _refuse(f"{where} is required")
        return None
    if not isinstance(value, dict):
        _refuse(f"{where} must be an object")
    return value


def _unknown(value: dict, where: str, known) -> None:
    extra = sorted(str(k) for k in value if k not in known and "@odata." not in str(k))
    if extra:
        _refuse(f"{where} has no property {', '.join(extra)}")


def _ids(value, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        _refuse(f"{where} must be a list of strings")
    if len(value) > MAX_ITEMS:
        _refuse(f"{where} may hold at most {MAX_ITEMS} entries")
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_ID or not item.isprintable():
            _refuse(f"{where} must be a list of ids (non-empty strings of at most {MAX_ID} characters)")
    return list(dict.fromkeys(item.strip() for item in value))


def _keywords_alone(values: list[str], where: str, keywords: tuple[str, ...]) -> None:
    for keyword in keywords:
        if keyword in values and len(values) > 1:
            _refuse(f"{where}: {keyword} cannot be combined with other entries")


def _guests(value, where: str) -> dict | None:
    value = _object(value, where)
    if value is None:
        return None
    _unknown(value, where, ("guestOrExternalUserTypes", "externalTenants"))
    types = value.get("guestOrExternalUserTypes")
    if types is None:
        _refuse(f"{where}.guestOrExternalUserTypes is required")
    if isinstance(types, list) and 0 < len(types) <= len(GUEST_TYPES) and all(isinstance(t, str) for t in types):
        types = ",".join(types)  # a flags enum sent as a list of its members
    if not isinstance(types, str) or not types.strip():
        _refuse(f"{where}.guestOrExternalUserTypes must be a comma-separated list of "
                f"{', '.join(GUEST_TYPES)}")
    flags = [part.strip() for part in types.split(",")]
    for flag in flags:
        if flag not in GUEST_TYPES:
            _refuse(f"{where}.guestOrExternalUserTypes: unknown type {flag[:64]!r}; use {', '.join(GUEST_TYPES)}")
    flags = list(dict.fromkeys(flags))
    if "none" in flags and len(flags) > 1:
        _refuse(f"{where}.guestOrExternalUserTypes: none cannot be combined with other types")
    stored: dict = {"guestOrExternalUserTypes": ",".join(flags)}
    tenants = _object(value.get("externalTenants"), f"{where}.externalTenants")
    if tenants is not None:
        if flags == ["none"]:
            _refuse("externalTenants may be set only when guestOrExternalUserTypes is not empty")
        _unknown(tenants, f"{where}.externalTenants", ("membershipKind", "members"))
        kind = tenants.get("membershipKind")
        if kind == "all":
            if tenants.get("members"):
                _refuse(f"{where}.externalTenants: members may be given only with membershipKind enumerated")
            stored["externalTenants"] = {"@odata.type": ALL_TENANTS_TYPE, "membershipKind": "all"}
        elif kind == "enumerated":
            members = _ids(tenants.get("members"), f"{where}.externalTenants.members")
            if not members:
                _refuse(f"{where}.externalTenants.members must name at least one tenant id")
            normalized = []
            for member in members:
                try:
                    normalized.append(str(uuid.UUID(member)))
                except ValueError:
                    _refuse(f"{where}.externalTenants.members: {member[:64]!r} is not a tenant id (a GUID)")
            stored["externalTenants"] = {"@odata.type": ENUMERATED_TENANTS_TYPE, "membershipKind": "enumerated",
                                         "members": list(dict.fromkeys(normalized))}
        else:
            _refuse(f"{where}.externalTenants.membershipKind must be all or enumerated")
    else:
        stored["externalTenants"] = None
    return stored


def _users(value) -> dict:
    value = _object(value, "conditions.users", required=True)
    _unknown(value, "conditions.users", (*USER_LISTS, *USER_GUESTS))
    users = {name: _ids(value.get(name), f"conditions.users.{name}") for name in USER_LISTS}
    for name in ("includeRoles", "excludeRoles"):
        if users[name]:
            _refuse(f"conditions.users.{name} is not supported: Foyer's directory roles are not objects a "
                    "policy can name")
    _keywords_alone(users["includeUsers"], "conditions.users.includeUsers", (ALL, NONE))
    if ALL in users["excludeUsers"] or NONE in users["excludeUsers"]:
        _refuse("conditions.users.excludeUsers may hold user ids and GuestsOrExternalUsers only")
    for name in ("includeGroups", "excludeGroups"):
        if {ALL, NONE, GUESTS_OR_EXTERNAL} & set(users[name]):
            _refuse(f"conditions.users.{name} must hold group ids")
    for name in USER_GUESTS:
        users[name] = _guests(value.get(name), f"conditions.users.{name}")
    if not (users["includeUsers"] or users["includeGroups"] or users["includeGuestsOrExternalUsers"]):
        _refuse("conditions.users.includeUsers must name All, None, GuestsOrExternalUsers or users, "
                "unless includeGroups or includeGuestsOrExternalUsers is given")
    return users


def _applications(value) -> dict:
    value = _object(value, "conditions.applications", required=True)
    _unknown(value, "conditions.applications", (*APP_LISTS, "applicationFilter"))
    apps = {name: _ids(value.get(name), f"conditions.applications.{name}") for name in APP_LISTS}
    for name in ("includeUserActions", "includeAuthenticationContextClassReferences"):
        if apps[name]:
            _refuse(f"conditions.applications.{name} is not supported by Foyer")
    if value.get("applicationFilter") is not None:
        _refuse("conditions.applications.applicationFilter is not supported by Foyer")
    include = apps["includeApplications"]
    if not include:
        _refuse("conditions.applications.includeApplications must name All, None or application ids (appId)")
    _keywords_alone(include, "conditions.applications.includeApplications", (ALL, NONE))
    for name in ("includeApplications", "excludeApplications"):
        for keyword in ("Office365", "MicrosoftAdminPortals"):
            if keyword in apps[name]:
                _refuse(f"conditions.applications.{name}: {keyword} names Microsoft's apps; Foyer has none")
    if NONE in apps["excludeApplications"]:
        _refuse("conditions.applications.excludeApplications may hold All or application ids")
    apps["applicationFilter"] = None
    return apps


def _conditions(value) -> dict:
    value = _object(value, "conditions", required=True)
    _unknown(value, "conditions", ("users", "applications", "clientAppTypes", *UNSUPPORTED_LISTS,
                                   *UNSUPPORTED_OBJECTS))
    conditions = {"users": _users(value.get("users")), "applications": _applications(value.get("applications"))}
    types = value.get("clientAppTypes")
    if types is None:
        types = ["all"]
    if not isinstance(types, list) or any(t not in CLIENT_APP_TYPES for t in types):
        _refuse(f"conditions.clientAppTypes must be a list of {', '.join(CLIENT_APP_TYPES)}")
    types = list(dict.fromkeys(types)) or ["all"]
    if "all" in types and len(types) > 1:
        _refuse("conditions.clientAppTypes: all cannot be combined with other types")
    conditions["clientAppTypes"] = types
    for name in UNSUPPORTED_LISTS:
        given = value.get(name)
        if given not in (None, []):
            _refuse(f"conditions.{name} is not supported by Foyer (it has no risk detection)")
        conditions[name] = []
    for name in UNSUPPORTED_OBJECTS:
        if value.get(name) not in (None, {}, []):
            _refuse(f"conditions.{name} is not supported by Foyer")
        conditions[name] = None
    return conditions


def _grant_controls(value) -> dict | None:
    value = _object(value, "grantControls")
    if value is None:
        return None
    _unknown(value, "grantControls", ("operator", "builtInControls", "customAuthenticationFactors", "termsOfUse",
                                      "authenticationStrength"))
    controls = value.get("builtInControls")
    if controls is None:
        controls = []
    if not isinstance(controls, list) or len(controls) > len(BUILT_IN_CONTROLS):
        _refuse("grantControls.builtInControls must be a list of controls")
    for control in controls:
        if control not in BUILT_IN_CONTROLS:
            _refuse(f"grantControls.builtInControls: unknown control {str(control)[:64]}; use "
                    f"{', '.join(BUILT_IN_CONTROLS)}")
    controls = list(dict.fromkeys(controls))
    for name in ("customAuthenticationFactors", "termsOfUse"):
        if value.get(name) not in (None, []):
            _refuse(f"grantControls.{name} is not supported by Foyer")
    strength = value.get("authenticationStrength")
    stored_strength = None
    if strength is not None:
        if not isinstance(strength, dict) or not isinstance(strength.get("id"), str):
            _refuse("grantControls.authenticationStrength must be an object with the id of an authentication "
                    "strength")
        if strength["id"] not in strengths.BUILT_IN:
            _refuse("grantControls.authenticationStrength.id is not a known authentication strength: use "
                    f"{', '.join(strengths.ORDER)}")
        stored_strength = {"id": strength["id"]}
        if MFA in controls:
            _refuse("grantControls: mfa and authenticationStrength cannot be required together; the "
                    "authentication strength says which MFA")
    if BLOCK in controls and (len(controls) > 1 or stored_strength):
        _refuse("grantControls.builtInControls: block cannot be combined with other controls")
    if not controls and stored_strength is None:
        return None
    operator = value.get("operator")
    if operator not in ("AND", "OR"):
        _refuse("grantControls.operator must be AND or OR")
    return {"operator": operator, "builtInControls": controls, "customAuthenticationFactors": [],
            "termsOfUse": [], "authenticationStrength": stored_strength}


def _session_controls(value) -> dict | None:
    value = _object(value, "sessionControls")
    if value is None:
        return None
    _unknown(value, "sessionControls", ("signInFrequency", *UNSUPPORTED_SESSION))
    for name in UNSUPPORTED_SESSION:
        given = value.get(name)
        if given is not None and not (isinstance(given, dict) and given.get("isEnabled") is False):
            _refuse(f"sessionControls.{name} is not supported by Foyer")
    frequency = _object(value.get("signInFrequency"), "sessionControls.signInFrequency")
    if frequency is None:
        return None
    where = "sessionControls.signInFrequency"
    _unknown(frequency, where, ("isEnabled", "type", "value", "frequencyInterval", "authenticationType"))
    if not isinstance(frequency.get("isEnabled"), bool):
        _refuse(f"{where}.isEnabled must be true or false")
    if not frequency["isEnabled"]:
        return None
    interval = frequency.get("frequencyInterval") or "timeBased"
    if interval == "everyTime":
        _refuse(f"{where}.frequencyInterval everyTime is only for risky sign-ins, which Foyer does not detect; "
                "use timeBased")
    if interval != "timeBased":
        _refuse(f"{where}.frequencyInterval must be timeBased")
    kind, amount = frequency.get("type"), frequency.get("value")
    if kind not in ("days", "hours"):
        _refuse(f"{where}.type must be days or hours")
    limit = MAX_DAYS if kind == "days" else MAX_HOURS
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= limit:
        _refuse(f"{where}.value must be a whole number of {kind} from 1 to {limit}")
    authentication = frequency.get("authenticationType") or "primaryAndSecondaryAuthentication"
    if authentication not in ("primaryAndSecondaryAuthentication", "secondaryAuthentication"):
        _refuse(f"{where}.authenticationType must be primaryAndSecondaryAuthentication or secondaryAuthentication")
    return {"signInFrequency": {"isEnabled": True, "type": kind, "value": amount, "frequencyInterval": "timeBased",
                                "authenticationType": authentication}}


def normalized_policy(body) -> dict:
    """The policy's stored blocks (TOP_LEVEL) from a Graph body, each in Graph's full shape.
    Raises ValueError naming the field when the body cannot be stored."""
    try:
        return _normalized(body)
    except _Refusal as refusal:
        raise ValueError(str(refusal)) from None


def _normalized(body) -> dict:
    if not isinstance(body, dict):
        _refuse("the body must be a JSON object")
    _unknown(body, "conditionalAccessPolicy", (*TOP_LEVEL, *READ_ONLY))
    policy = {"displayName": _text(body.get("displayName"), "displayName", MAX_NAME, required=True).strip(),
              "description": _text(body.get("description"), "description", MAX_DESCRIPTION, required=False)}
    if body.get("state") not in STATES:
        _refuse(f"state must be one of {', '.join(STATES)}")
    policy["state"] = body["state"]
    policy["conditions"] = _conditions(body.get("conditions"))
    policy["grantControls"] = _grant_controls(body.get("grantControls"))
    policy["sessionControls"] = _session_controls(body.get("sessionControls"))
    if policy["grantControls"] is None and policy["sessionControls"] is None:
        _refuse("a policy needs grantControls or sessionControls: give at least one control")
    return policy


def policy_refusal(body, *, creating: bool) -> str | None:
    """Why a policy body cannot be stored (naming the field), or None. `creating`: a new policy,
    whose read-only properties (a copied policy's id, createdDateTime, …) are ignored; an update's
    body may not hold them."""
    if not creating and isinstance(body, dict):
        for name in READ_ONLY:
            if name in body:
                return f"{name} is read-only"
    try:
        _normalized(body)
    except _Refusal as refusal:
        return str(refusal)
    return None


def referenced_ids(policy: dict) -> dict[str, set[str]]:
    """The object ids a (normalized) policy names: users, groups and applications (appIds)."""
    users = policy["conditions"]["users"]
    apps = policy["conditions"]["applications"]
    keywords = {ALL, NONE, GUESTS_OR_EXTERNAL}
    return {"users": set(users["includeUsers"] + users["excludeUsers"]) - keywords,
            "groups": set(users["includeGroups"] + users["excludeGroups"]),
            "applications": set(apps["includeApplications"] + apps["excludeApplications"]) - keywords}

