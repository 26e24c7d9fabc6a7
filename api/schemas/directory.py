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


UserCollection = Collection[User]

USER_FIELDS = {
    "id": "id", "displayName": "display_name", "givenName": "given_name", "surname": "surname",
    "mail": "mail", "userPrincipalName": "user_principal_name", "userType": "user_type",
    "externalUserState": "external_user_state",
    "externalUserStateChangeDateTime": "external_user_state_change_date_time",
    "creationType": "creation_type", "accountEnabled": "account_enabled",
    "createdDateTime": "created_date_time",
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


class Application(GraphResource):
    id: str | None = None
    app_id: str | None = None
    display_name: str | None = None
    created_date_time: str | None = None


ApplicationCollection = Collection[Application]


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


def application_body(app: tables.Application) -> dict:
    return {"id": app.id, "appId": app.app_id, "displayName": app.display_name,
            "createdDateTime": iso(app.created_date_time)}


def assignment_body(row: tables.AppRoleAssignment, app: tables.Application, user: tables.User | None) -> dict:
    return {
        "id": row.id,
        "principalId": row.principal_id,
        "principalDisplayName": user.display_name if user else None,
        "principalType": "User",
        "resourceId": app.id,
        "resourceDisplayName": app.display_name,
        "appRoleId": row.app_role_id,
        "createdDateTime": iso(row.created_date_time),
    }
