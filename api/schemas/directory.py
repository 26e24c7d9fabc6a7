"""The directory as Graph shows it: users, groups, applications and their app role assignments.

The response shapes (Graph's user, objectIdentity, group, application, appRoleAssignment), the
functions that fill them from the tables, and the `$filter`/`$orderby` field maps of their
lists. Here rather than in a router because /users and /groups show each other's objects
(`memberOf`, `members`): neither router imports the other.
"""

from foyer.api.schemas import Collection, GraphResource, iso
from foyer.models import directory as tables

# --- users ----------------------------------------------------------------------------------


class ObjectIdentity(GraphResource):
    sign_in_type: str | None = None
    issuer: str | None = None
    issuer_assigned_id: str | None = None


class SignInActivity(GraphResource):
    last_sign_in_date_time: str | None = None
    last_successful_sign_in_date_time: str | None = None
    last_non_interactive_sign_in_date_time: str | None = None


class User(GraphResource):
    id: str | None = None
    display_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    mail: str | None = None
    user_principal_name: str | None = None
    user_type: str | None = None
    external_user_state: str | None = None
    external_user_state_change_date_time: str | None = None
    creation_type: str | None = None
    identities: list[ObjectIdentity] | None = None
    account_enabled: bool | None = None
    created_date_time: str | None = None
    # Only when $select names it, and only to admins (Graph: AuditLog.Read.All).
    sign_in_activity: SignInActivity | None = None


UserCollection = Collection[User]

USER_FIELDS = {
    "id": "id", "displayName": "display_name", "givenName": "given_name", "surname": "surname",
    "mail": "mail", "userPrincipalName": "user_principal_name", "userType": "user_type",
    "externalUserState": "external_user_state",
    "externalUserStateChangeDateTime": "external_user_state_change_date_time",
    "creationType": "creation_type", "accountEnabled": "account_enabled",
    "createdDateTime": "created_date_time",
}

# Admins may also filter and sort on signInActivity (access reviews find inactive guests so).
SIGN_IN_ACTIVITY_FIELDS = {
    "signInActivity/lastSignInDateTime": "last_sign_in_date_time",
    "signInActivity/lastSuccessfulSignInDateTime": "last_successful_sign_in_date_time",
    "signInActivity/lastNonInteractiveSignInDateTime": "last_non_interactive_sign_in_date_time",
}


def user_body(user: tables.User) -> dict:
    return {
        "id": user.id,
        "displayName": user.display_name,
        "givenName": user.given_name,
        "surname": user.surname,
        "mail": user.mail,
        "userPrincipalName": user.user_principal_name,
        "userType": user.user_type,
        "externalUserState": user.external_user_state,
        "externalUserStateChangeDateTime": iso(user.external_user_state_change_date_time),
        "creationType": user.creation_type,
        "identities": user.identities,
        "accountEnabled": user.account_enabled,
        "createdDateTime": iso(user.created_date_time),
    }


def sign_in_activity_body(user: tables.User) -> dict:
    return {"lastSignInDateTime": iso(user.last_sign_in_date_time),
            "lastSuccessfulSignInDateTime": iso(user.last_successful_sign_in_date_time),
            "lastNonInteractiveSignInDateTime": iso(user.last_non_interactive_sign_in_date_time)}


def directory_user_body(user: tables.User) -> dict:
    """A user inside a directoryObject collection (group members), typed as Graph types it."""
    return {"@odata.type": "#microsoft.graph.user", **user_body(user)}


# --- groups ---------------------------------------------------------------------------------


class Group(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    created_date_time: str | None = None
    group_types: list[str] | None = None
    mail_enabled: bool | None = None
    security_enabled: bool | None = None


GroupCollection = Collection[Group]

GROUP_FIELDS = {"id": "id", "displayName": "display_name", "description": "description",
                "createdDateTime": "created_date_time"}


def group_body(group: tables.Group) -> dict:
    return {
        "id": group.id,
        "displayName": group.display_name,
        "description": group.description,
        "createdDateTime": iso(group.created_date_time),
        # Foyer's groups are all plain security groups.
        "groupTypes": [],
        "mailEnabled": False,
        "securityEnabled": True,
    }


def directory_group_body(group: tables.Group) -> dict:
    """A group inside a directoryObject collection (a user's memberOf), typed as Graph types it."""
    return {"@odata.type": "#microsoft.graph.group", **group_body(group)}


# --- applications ---------------------------------------------------------------------------


class WebApplication(GraphResource):
    redirect_uris: list[str] | None = None
    home_page_url: str | None = None


class SpaApplication(GraphResource):
    redirect_uris: list[str] | None = None


class PublicClientApplication(GraphResource):
    redirect_uris: list[str] | None = None


class AppRole(GraphResource):
    id: str | None = None
    value: str | None = None
    display_name: str | None = None
    description: str | None = None
    is_enabled: bool | None = None
    allowed_member_types: list[str] | None = None
    origin: str | None = None


class OptionalClaim(GraphResource):
    name: str | None = None
    source: str | None = None
    essential: bool | None = None
    additional_properties: list[str] | None = None


class OptionalClaims(GraphResource):
    id_token: list[OptionalClaim] | None = None
    access_token: list[OptionalClaim] | None = None
    saml2_token: list[OptionalClaim] | None = None


class PasswordCredential(GraphResource):
    """A client secret: `secretText` is sent once, by addPassword; everywhere else it is null."""
    key_id: str | None = None
    display_name: str | None = None
    hint: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    secret_text: str | None = None
    custom_key_identifier: str | None = None


class Application(GraphResource):
    id: str | None = None
    app_id: str | None = None
    display_name: str | None = None
    created_date_time: str | None = None
    web: WebApplication | None = None
    spa: SpaApplication | None = None
    public_client: PublicClientApplication | None = None
    app_roles: list[AppRole] | None = None
    group_membership_claims: str | None = None
    optional_claims: OptionalClaims | None = None
    password_credentials: list[PasswordCredential] | None = None
    # Graph keeps it on the application's service principal; Foyer has none, so here.
    app_role_assignment_required: bool | None = None
    # Foyer's: the partner organization this registration signs our people in for.
    foyer_partner_tenant_id: str | None = None


ApplicationCollection = Collection[Application]


class DirectoryObject(Application, Group):
    """A directoryObject of a user's ownedObjects: a group or an application, by its @odata.type."""


DirectoryObjectCollection = Collection[DirectoryObject]


class ServicePrincipal(GraphResource):
    """Graph's servicePrincipal, as a view of its application (same id)."""
    id: str | None = None
    app_id: str | None = None
    display_name: str | None = None
    app_display_name: str | None = None
    account_enabled: bool | None = None
    app_role_assignment_required: bool | None = None
    app_roles: list[AppRole] | None = None
    homepage: str | None = None
    reply_urls: list[str] | None = None
    service_principal_type: str | None = None


ServicePrincipalCollection = Collection[ServicePrincipal]


class AppRoleAssignment(GraphResource):
    id: str | None = None
    principal_id: str | None = None
    principal_display_name: str | None = None
    principal_type: str | None = None
    resource_id: str | None = None
    resource_display_name: str | None = None
    app_role_id: str | None = None
    created_date_time: str | None = None


AppRoleAssignmentCollection = Collection[AppRoleAssignment]

APPLICATION_FIELDS = {"id": "id", "appId": "app_id", "displayName": "display_name",
                      "createdDateTime": "created_date_time"}
ASSIGNMENT_FIELDS = {"id": "id", "principalId": "principal_id", "appRoleId": "app_role_id",
                     "createdDateTime": "created_date_time"}
GROUP_ASSIGNMENT_FIELDS = {"id": "id", "principalId": "group_id", "appRoleId": "app_role_id",
                           "createdDateTime": "created_date_time"}


def password_credential_body(credential: dict, secret_text: str | None = None) -> dict:
    return {"keyId": credential["keyId"], "displayName": credential.get("displayName"),
            "hint": credential.get("hint"), "startDateTime": credential.get("startDateTime"),
            "endDateTime": credential.get("endDateTime"), "secretText": secret_text,
            "customKeyIdentifier": None}


def application_body(app: tables.Application) -> dict:
    claims = app.optional_claims or {}
    return {
        "id": app.id, "appId": app.app_id, "displayName": app.display_name,
        "createdDateTime": iso(app.created_date_time),
        "web": {"redirectUris": list(app.web_redirect_uris or []), "homePageUrl": app.home_page_url},
        "spa": {"redirectUris": list(app.spa_redirect_uris or [])},
        "publicClient": {"redirectUris": list(app.public_client_redirect_uris or [])},
        "appRoles": [dict(role) for role in app.app_roles or []],
        "groupMembershipClaims": app.group_membership_claims,
        "optionalClaims": {kind: list(claims.get(kind) or []) for kind in ("idToken", "accessToken", "saml2Token")},
        "passwordCredentials": [password_credential_body(c) for c in app.password_credentials or []],
        "appRoleAssignmentRequired": app.app_role_assignment_required,
        "foyerPartnerTenantId": app.partner_tenant_id,
    }


def service_principal_body(app: tables.Application) -> dict:
    return {
        "id": app.id, "appId": app.app_id, "displayName": app.display_name,
        "appDisplayName": app.display_name, "accountEnabled": True,
        "appRoleAssignmentRequired": app.app_role_assignment_required,
        "appRoles": [dict(role) for role in app.app_roles or []],
        "homepage": app.home_page_url,
        "replyUrls": [*(app.web_redirect_uris or []), *(app.spa_redirect_uris or []),
                      *(app.public_client_redirect_uris or [])],
        "servicePrincipalType": "Application",
    }


def assignment_body(row: tables.AppRoleAssignment | tables.GroupAppRoleAssignment, app: tables.Application,
                    principal: tables.User | tables.Group | None, *, group: bool | None = None) -> dict:
    """A user's (AppRoleAssignment) or a group's (GroupAppRoleAssignment) assignment to `app`;
    `group` says which when `row` cannot (a row of the union appRoleAssignedTo lists)."""
    if group is None:
        group = isinstance(row, tables.GroupAppRoleAssignment)
    return {
        "id": row.id,
        "principalId": getattr(row, "group_id", None) or row.principal_id,
        "principalDisplayName": principal.display_name if principal else None,
        "principalType": "Group" if group else "User",
        "resourceId": app.id,
        "resourceDisplayName": app.display_name,
        "appRoleId": row.app_role_id,
        "createdDateTime": iso(row.created_date_time),
    }
