"""Cross-tenant access settings (Graph's crossTenantAccessPolicy): what the B2B collaboration
blocks mean, and which body may be stored.

A block (`b2bCollaborationInbound`, `b2bCollaborationOutbound`) is a crossTenantAccessPolicyB2BSetting:
`usersAndGroups` and `applications`, each {accessType: allowed | blocked, targets: [{target,
targetType}]}. Entra's reading, which `b2b_allowed` encodes (the table in Graph's overview,
"Interpreting the API response"): an `allowed` list is an allow-list of its dimension, a `blocked`
list a deny-list, and both dimensions must pass — except when both lists are `blocked`: then they
name one pair to refuse (those users from those apps), and everyone else may reach everything.
`AllUsers` and `AllApplications` stand for everyone and every app. A partner's block that is null inherits the
default's (`effective`); the service default allows all users to all applications.
"""

from copy import deepcopy

ALL_USERS = "AllUsers"
ALL_APPLICATIONS = "AllApplications"
ACCESS_TYPES = ("allowed", "blocked")
B2B_BLOCKS = ("b2bCollaborationInbound", "b2bCollaborationOutbound")
TRUST_FLAGS = ("isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted")
MAX_TARGETS = 500


def _all_allowed(keyword: str, target_type: str) -> dict:
    return {"accessType": "allowed", "targets": [{"target": keyword, "targetType": target_type}]}


def service_default_b2b() -> dict:
    """Entra's service default for B2B collaboration, inbound and outbound: everyone, every app."""
    return {"usersAndGroups": _all_allowed(ALL_USERS, "user"),
            "applications": _all_allowed(ALL_APPLICATIONS, "application")}


def service_default() -> dict:
    """The default configuration's blocks as the service ships them (isServiceDefault)."""
    return {"b2bCollaborationInbound": service_default_b2b(),
            "b2bCollaborationOutbound": service_default_b2b(),
            "inboundTrust": {flag: False for flag in TRUST_FLAGS}}


def effective(default: dict, partner: dict | None) -> dict:
    """The blocks that apply to one partner: each of the partner's that is set, else the default's."""
    merged = deepcopy(default)
    for name, value in (partner or {}).items():
        if value is not None:
            merged[name] = deepcopy(value)
    return merged


def _passes(configuration: dict | None, keyword: str, ids: set[str]) -> bool:
    """One dimension: `allowed` admits only what its targets name, `blocked` admits all but that;
    no configuration admits all."""
    if not configuration:
        return True
    named = {t.get("target") for t in configuration.get("targets") or []}
    hit = keyword in named or bool(named & ids)
    return hit if configuration.get("accessType") == "allowed" else not hit


def b2b_allowed(setting: dict | None, *, user_and_group_ids: set[str], application_id: str | None) -> bool:
    """Whether a B2B setting lets this person (their user id and group ids) reach this application.
    `application_id` None: no application is known yet (a redemption), so only a list that blocks
    every application refuses."""
    setting = setting or {}
    users, applications = setting.get("usersAndGroups"), setting.get("applications")
    if users and applications and users.get("accessType") == applications.get("accessType") == "blocked":
        # One deny rule for the pair: refused only where both lists name the person and the app.
        user_named = not _passes(users, ALL_USERS, user_and_group_ids)
        if application_id is None:
            return not (user_named and _names_every_app(applications))
        return not (user_named and not _passes(applications, ALL_APPLICATIONS, {application_id}))
    if not _passes(users, ALL_USERS, user_and_group_ids):
        return False
    if application_id is None:
        return not (applications and applications.get("accessType") == "blocked" and _names_every_app(applications))
    return _passes(applications, ALL_APPLICATIONS, {application_id})


def _names_every_app(applications: dict) -> bool:
    return any(t.get("target") == ALL_APPLICATIONS for t in applications.get("targets") or [])


# --- what may be stored -------------------------------------------------------------------------

def _target_configuration_refusal(where: str, value, keyword: str, allowed_types: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"accessType", "targets"}:
        return f"{where} must be an object with accessType and targets"
    if value.get("accessType") not in ACCESS_TYPES:
        return f"{where}.accessType must be allowed or blocked"
    targets = value.get("targets")
    if not isinstance(targets, list) or not targets:
        return f"{where}.targets must be a non-empty list"
    if len(targets) > MAX_TARGETS:
        return f"{where}.targets holds at most {MAX_TARGETS} targets"
    for target in targets:
        if not isinstance(target, dict) or set(target) - {"target", "targetType"}:
            return f"{where}.targets must hold objects with target and targetType"
        name, kind = target.get("target"), target.get("targetType")
        if not isinstance(name, str) or not name.strip() or len(name) > 256 or not name.isprintable():
            return f"{where}.targets[].target must be a keyword or an object id"
        if kind not in allowed_types:
            return f"{where}.targets[].targetType must be one of {', '.join(allowed_types)}"
        if name.startswith("All") and name != keyword:
            return f"{where}: found invalid target {name}"
    return None


def b2b_setting_refusal(name: str, value) -> str | None:
    """Why a crossTenantAccessPolicyB2BSetting cannot be stored, or None (null clears it)."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"usersAndGroups", "applications"}:
        return f"{name} must be an object with usersAndGroups and applications"
    return (_target_configuration_refusal(f"{name}.usersAndGroups", value.get("usersAndGroups"), ALL_USERS,
                                          ("user", "group"))
            or _target_configuration_refusal(f"{name}.applications", value.get("applications"),
                                             ALL_APPLICATIONS, ("application",)))


def inbound_trust_refusal(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - set(TRUST_FLAGS):
        return f"inboundTrust may hold only {', '.join(TRUST_FLAGS)}"
    if any(not isinstance(v, bool) for v in value.values()):
        return "inboundTrust's flags must be true or false"
    return None
