"""What an access review's scope says (Graph's accessReviewQueryScope and
accessReviewInactiveUsersQueryScope), read into one small value the API and the workflows share.

PROVISIONAL (wt-reviews): written against the signature the main session announced
(`read_scope(scope, instance_enumeration_scope) -> ReviewScope`, ScopeRefused naming the field);
main's version replaces it.

Kinds: "group" (one group's members), "allGroups" (`./members…` with an instanceEnumerationScope
of groups: one instance per group), "application" (one app's assignments), "accessPackage" (one
package's assignments), "inactiveUsers" (the directory's users, inactive for `inactiveDuration`).
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote

QUERY_SCOPE = "#microsoft.graph.accessReviewQueryScope"
INACTIVE_SCOPE = "#microsoft.graph.accessReviewInactiveUsersQueryScope"
GUEST_FILTER = re.compile(r"userType\s+eq\s+'Guest'", re.IGNORECASE)
_ID = r"([0-9A-Za-z-]{1,64})"
_GROUP = re.compile(rf"^/groups/{_ID}/(?:transitiveMembers|members)(?:/microsoft\.graph\.user)?/?(?:\?.*)?$")
_APP = re.compile(rf"^/servicePrincipals/{_ID}/appRoleAssignedTo/?(?:\?.*)?$")
_PACKAGE = re.compile(r"^/identityGovernance/entitlementManagement/accessPackageAssignments/?\?.*"
                      rf"accessPackage/id\s+eq\s+'{_ID}'")
_RELATIVE_MEMBERS = re.compile(r"^\./members(?:/microsoft\.graph\.user)?/?(?:\?.*)?$")
_USERS = re.compile(r"^/users/?(?:\?.*)?$")
_GROUPS = re.compile(r"^/groups/?(?:\?.*)?$")


class ScopeRefused(ValueError):
    """The scope cannot be reviewed; the message names the field."""


@dataclass(frozen=True)
class ReviewScope:
    kind: str
    resource_id: str | None
    guests_only: bool
    inactive_duration: str | None = None


def _query(scope, field: str) -> tuple[str, str]:
    if not isinstance(scope, dict):
        raise ScopeRefused(f"{field} must be an object (an accessReviewQueryScope)")
    kind = scope.get("@odata.type") or QUERY_SCOPE
    if kind not in (QUERY_SCOPE, INACTIVE_SCOPE):
        raise ScopeRefused(f"{field}.@odata.type must be {QUERY_SCOPE} or {INACTIVE_SCOPE}")
    if scope.get("queryType", "MicrosoftGraph") != "MicrosoftGraph":
        raise ScopeRefused(f"{field}.queryType must be MicrosoftGraph")
    query = scope.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ScopeRefused(f"{field}.query is required")
    return kind, unquote(query.strip().replace("+", " "))


def read_scope(scope, instance_enumeration_scope=None) -> ReviewScope:
    kind, query = _query(scope, "scope")
    inactive = None
    if kind == INACTIVE_SCOPE:
        inactive = scope.get("inactiveDuration")
        if not isinstance(inactive, str) or not re.fullmatch(r"P(\d+)D", inactive) or inactive == "P0D":
            raise ScopeRefused("scope.inactiveDuration must be a whole number of days such as P30D")
    guests = bool(GUEST_FILTER.search(query))
    if instance_enumeration_scope is not None:
        _, groups = _query(instance_enumeration_scope, "instanceEnumerationScope")
        if not _GROUPS.match(groups):
            raise ScopeRefused("instanceEnumerationScope.query must list groups (/groups?$filter=…)")
        if not _RELATIVE_MEMBERS.match(query):
            raise ScopeRefused("scope.query must be ./members… when instanceEnumerationScope lists groups")
        return ReviewScope("allGroups", None, guests, inactive)
    for pattern, name in ((_GROUP, "group"), (_APP, "application"), (_PACKAGE, "accessPackage")):
        match = pattern.match(query)
        if match:
            return ReviewScope(name, match.group(1), guests, inactive)
    if inactive is not None and (_USERS.match(query) or _RELATIVE_MEMBERS.match(query)):
        return ReviewScope("inactiveUsers", None, guests, inactive)
    raise ScopeRefused("scope.query is not a scope Foyer reviews: /groups/{id}/transitiveMembers, "
                       "/servicePrincipals/{id}/appRoleAssignedTo, /identityGovernance/entitlementManagement/"
                       "accessPackageAssignments?$filter=(accessPackage/id eq '{id}'), ./members with an "
                       "instanceEnumerationScope of groups, or inactive users")
