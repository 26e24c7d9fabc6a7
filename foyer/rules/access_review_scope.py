"""What an access review's scope names, read from Graph's query strings: the one reading the
API's validation and the instance's snapshot share.

Supported (Graph's own examples; anything else is refused with the field named):
- guests (or everyone) in one group:
  `/groups/{id}/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')`
  (also `/members`), queryType MicrosoftGraph;
- people assigned to one application: `/servicePrincipals/{id}/appRoleAssignedTo` (Foyer's
  application id), optionally `?$filter=(userType eq 'Guest')` for guests only;
- the assignments of one access package:
  `/identityGovernance/entitlementManagement/assignments?$filter=(accessPackage/id eq '{id}')`
  (also `accessPackageAssignments` and `accessPackageId eq`);
- every group's guests, one instance per group: scope `./members/microsoft.graph.user/?$count=true&
  $filter=(userType eq 'Guest')` (or `./transitiveMembers/...`) with instanceEnumerationScope
  `/groups` (optionally `?$filter=...`, not read: every group of the organization);
- inactive guests across the directory: @odata.type `#microsoft.graph.accessReviewInactiveUsersQueryScope`,
  query `/users?$filter=(userType eq 'Guest')` (or `/users`), inactiveDuration (ISO 8601).
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote

GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
GUEST_FILTER = re.compile(r"\$filter=\(?\s*userType\s+eq\s+'Guest'\s*\)?", re.IGNORECASE)
GROUP = re.compile(rf"^/groups/(?P<id>{GUID})/(transitiveMembers|members)(/microsoft\.graph\.user)?/?(\?.*)?$")
EACH_GROUP = re.compile(r"^\./(transitiveMembers|members)(/microsoft\.graph\.user)?/?(\?.*)?$")
APPLICATION = re.compile(rf"^/servicePrincipals/(?P<id>{GUID})/appRoleAssignedTo/?(\?.*)?$")
PACKAGE = re.compile(rf"^/identityGovernance/entitlementManagement/(accessPackage)?[aA]ssignments\?\$filter=\(?\s*"
                     rf"(accessPackage/id|accessPackageId)\s+eq\s+'(?P<id>{GUID})'\s*\)?$")
USERS = re.compile(r"^/users/?(\?.*)?$")
ENUMERATION_GROUPS = re.compile(r"^/groups/?(\?.*)?$")
INACTIVE_TYPE = "#microsoft.graph.accessReviewInactiveUsersQueryScope"
# Reviewer queries that name people outright: a user, a catalog's owners.
REVIEWER_USER = re.compile(r"^/(?:v1\.0/)?users/([0-9A-Za-z-]{1,64})/?$")
CATALOG_OWNERS = re.compile(r"^/(?:v1\.0/)?identityGovernance/entitlementManagement/catalogs/([0-9A-Za-z-]{1,64})"
                            r"/owners/?$")
QUERY_TYPES = ("#microsoft.graph.accessReviewQueryScope", INACTIVE_TYPE)


@dataclass(frozen=True)
class ReviewScope:
    # group | application | accessPackage | eachGroup | inactiveUsers
    kind: str
    resource_id: str | None
    guests_only: bool
    inactive_duration: str | None = None


class ScopeRefused(ValueError):
    """Why a scope cannot be reviewed; the message names the field."""


def _query(scope: dict, where: str) -> str:
    query = scope.get("query")
    if not isinstance(query, str) or not query.strip() or len(query) > 1000:
        raise ScopeRefused(f"{where}.query must be a Microsoft Graph query")
    if scope.get("queryType", "MicrosoftGraph") != "MicrosoftGraph":
        raise ScopeRefused(f"{where}.queryType must be MicrosoftGraph")
    return unquote(query.strip())


def read_scope(scope, instance_enumeration_scope=None) -> ReviewScope:
    """The scope a definition names; ScopeRefused names what is wrong."""
    if not isinstance(scope, dict):
        raise ScopeRefused("scope is required")
    odata_type = scope.get("@odata.type", "#microsoft.graph.accessReviewQueryScope")
    if odata_type not in QUERY_TYPES:
        raise ScopeRefused(f"scope.@odata.type must be one of {', '.join(QUERY_TYPES)}")
    query = _query(scope, "scope")
    guests_only = bool(GUEST_FILTER.search(query))
    if odata_type == INACTIVE_TYPE:
        duration = scope.get("inactiveDuration")
        if not isinstance(duration, str) or not duration.startswith("P"):
            raise ScopeRefused("scope.inactiveDuration must be an ISO 8601 duration such as P30D")
        if not USERS.match(query):
            raise ScopeRefused("scope.query of an inactive-users review must be /users (optionally filtered to guests)")
        return ReviewScope("inactiveUsers", None, guests_only, duration)
    if instance_enumeration_scope:
        if not isinstance(instance_enumeration_scope, dict) \
                or not ENUMERATION_GROUPS.match(_query(instance_enumeration_scope, "instanceEnumerationScope")):
            raise ScopeRefused("instanceEnumerationScope.query must be /groups: one instance per group")
        if not EACH_GROUP.match(query):
            raise ScopeRefused("scope.query must be relative (./members or ./transitiveMembers) with "
                               "instanceEnumerationScope")
        return ReviewScope("eachGroup", None, guests_only)
    for kind, pattern in (("group", GROUP), ("application", APPLICATION), ("accessPackage", PACKAGE)):
        if match := pattern.match(query):
            return ReviewScope(kind, match.group("id").lower(), guests_only)
    raise ScopeRefused("scope.query is not a scope Foyer reviews: the members of one group "
                       "(/groups/{id}/transitiveMembers), the people assigned to one application "
                       "(/servicePrincipals/{id}/appRoleAssignedTo), the assignments of one access package, "
                       "or every group's members with instanceEnumerationScope /groups")
