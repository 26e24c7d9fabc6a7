"""`/v1.0/users`: members and guests, as Graph shows them; admins create members and delete anyone.

Guests are made by invitations (`/v1.0/invitations`), never here. Deleting a guest revokes their
pending invitation through its workflow first, so nothing keeps running for a user who is gone.
"""

import contextlib
from typing import Any

from fastapi import Request, Response
from pydantic import Field, PrivateAttr, StrictBool, field_validator, model_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy import func
from sqlmodel import col, or_, select

from foyer.api.deps import (
    AdminCaller, ListReader, OrganizationDep, SessionDep, TemporalDep, UserReader, UserRelationsReader, get_in_org,
    visible_user,
)
from foyer.api.errors import GraphError, bad_request
from foyer.api.graph import GraphRouter, listed
from foyer.api.odata import collection, filter_properties, list_page, select_fields, selected_names
from foyer.api.schemas import GraphModel, refuse_null
from foyer.api.schemas import directory as shapes
from foyer.api.schemas.directory import (
    ASSIGNMENT_FIELDS, GROUP_FIELDS, SIGN_IN_ACTIVITY_FIELDS, USER_FIELDS, application_body, assignment_body,
    directory_group_body, sign_in_activity_body, user_body,
)
from foyer.audit import audit
from foyer.errors import Refused
from foyer.rules.emails import normalize_email
from foyer.policy import email_domain
from foyer.names import DisplayName
from foyer.usecases.openid_tokens import revoke_user_refresh_tokens
from foyer.usecases.ownership import owned_objects
from foyer.usecases.updates import update_with_audit
from foyer.models.directory import Application, AppRoleAssignment, Group, GroupMember, User
from foyer.models.enums import UserType
from foyer.workflows.client import directory, guest_lifecycle
from foyer.workflows.messages.guest_lifecycle import CancelLifecycle

router = GraphRouter(prefix="/v1.0/users", tags=["users"])


def Name():  # noqa: N802 - reads as a type in the models below
    return Field(default=None, min_length=1, max_length=256)


# Properties Graph's user takes on create and update that Foyer keeps nothing of: accepted and
# dropped, so a Graph script's body is not refused for them (passwordProfile is required by Graph
# on create). Foyer has no passwords: passwordProfile and passwordPolicies are never stored or
# logged. Names that are not properties of Graph's user stay refused, as Graph refuses them; so do
# the ones that would change who the user is or how they sign in (`identities`, a Guest `userType`:
# guests come from invitations).
IGNORED_USER_PROPERTIES = frozenset({
    "aboutMe", "ageGroup", "birthday", "businessPhones", "city", "companyName",
    "consentProvidedForMinor", "country", "department", "employeeHireDate", "employeeId",
    "employeeLeaveDateTime", "employeeOrgData", "employeeType", "faxNumber", "hireDate",
    "interests", "jobTitle", "mobilePhone", "mySite", "officeLocation",
    "onPremisesExtensionAttributes", "onPremisesImmutableId", "otherMails", "passwordPolicies",
    "passwordProfile", "pastProjects", "postalCode", "preferredDataLocation", "preferredLanguage",
    "preferredName", "responsibilities", "schools", "showInAddressList", "skills", "state",
    "streetAddress", "usageLocation",
})


class GraphUserBody(GraphModel):
    """A user body: the Graph properties in IGNORED_USER_PROPERTIES are dropped before validation
    (their names are kept in `ignored`, their values nowhere)."""

    _ignored: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="wrap")
    @classmethod
    def _drop_ignored(cls, data: Any, handler):
        ignored: frozenset[str] = frozenset()
        if isinstance(data, dict):
            ignored = frozenset(k for k in data if k in IGNORED_USER_PROPERTIES)
            data = {k: v for k, v in data.items() if k not in ignored}
        model = handler(data)
        model._ignored = ignored
        return model

    @property
    def ignored(self) -> frozenset[str]:
        return self._ignored


class UserCreate(GraphUserBody):
    display_name: DisplayName = Field(min_length=1, max_length=256)
    # Graph does not require mail; Foyer signs members in and writes to them at their mail, so
    # without one it is the userPrincipalName (an address at a verified domain).
    mail: str | None = None
    user_principal_name: str
    account_enabled: StrictBool = True
    given_name: DisplayName | None = Name()
    surname: DisplayName | None = Name()
    # Graph requires mailNickname; Foyer derives nothing from it, but scripts send it.
    mail_nickname: DisplayName | None = Field(default=None, max_length=64)
    user_type: str = UserType.member

    @field_validator("mail")
    @classmethod
    def _mail(cls, value: str | None) -> str | None:
        return None if value is None else normalize_email(value, "mail")

    @field_validator("user_principal_name")
    @classmethod
    def _upn(cls, value: str) -> str:
        value = normalize_email(value, "userPrincipalName")
        if "#ext#" in value:
            raise ValueError("#EXT# user principal names belong to guests; invite guests instead")
        return value

    @field_validator("user_type")
    @classmethod
    def _member(cls, value: str) -> str:
        if value != UserType.member:
            raise ValueError("only members are created here; invite guests instead (/v1.0/invitations)")
        return value

    @model_validator(mode="after")
    def _mail_defaults_to_upn(self):
        if self.mail is None:
            self.mail = self.user_principal_name
        return self


class UserUpdate(GraphUserBody):
    display_name: DisplayName | None = Name()
    given_name: DisplayName | None = Name()
    surname: DisplayName | None = Name()
    account_enabled: StrictBool | None = None

    _present = refuse_null("display_name", "account_enabled")


async def get_user(session, org, user_id: str) -> User:
    return await get_in_org(session, User, org, user_id, "user")


def user_serializer(request: Request, caller):
    """user_body, with signInActivity when `$select` names it (as Graph: only then) — for admins
    only (Graph asks for AuditLog.Read.All)."""
    wanted = request.query_params.get("$select")
    if not wanted or "signInActivity" not in selected_names(wanted):
        return user_body
    if not caller.is_admin:
        raise GraphError(403, "Authorization_RequestDenied",
                         "Insufficient privileges to read signInActivity: it is for administrators.")
    return lambda user: {**user_body(user), "signInActivity": sign_in_activity_body(user)}



# Inactive guests (`signInActivity/lastSuccessfulSignInDateTime le …`): a user who never signed in
# counts from their redemption (a guest's last externalUserState change; else their creation).
INACTIVITY_PROPERTY = "signInActivity/lastSuccessfulSignInDateTime"
INACTIVITY = func.coalesce(User.last_successful_sign_in_date_time, User.external_user_state_change_date_time,
                           User.created_date_time)


@router.get("", response_model=shapes.UserCollection)
async def list_users(request: Request, caller: ListReader, session: SessionDep,
                     org: OrganizationDep) -> dict:
    serialize = user_serializer(request, caller)
    fields = USER_FIELDS
    if caller.is_admin:
        fields = {**USER_FIELDS, **SIGN_IN_ACTIVITY_FIELDS, INACTIVITY_PROPERTY: INACTIVITY}
        named = filter_properties(request.query_params.get("$filter") or "")
        if any(n.startswith("signInActivity/") for n in named) and \
                any(not n.startswith("signInActivity/") for n in named):
            raise bad_request("$filter: signInActivity properties cannot be combined with other properties "
                              "(filter on signInActivity alone, as in Graph)")
    elif "signInActivity" in (request.query_params.get("$filter") or "") + (request.query_params.get("$orderby") or ""):
        raise GraphError(403, "Authorization_RequestDenied",
                         "Insufficient privileges to filter on signInActivity: it is for administrators.")
    page = await list_page(request, session, User, fields, where=[User.organization_id == org.id])
    return collection(request, page, serialize)


@router.post("", status_code=201, response_model=shapes.User)
async def create_user(body: UserCreate, caller: AdminCaller, session: SessionDep,
                      org: OrganizationDep) -> dict:
    domains = {d["name"].lower() for d in org.verified_domains}
    if email_domain(body.user_principal_name) not in domains:
        raise bad_request(f"the domain of userPrincipalName must be one of the organization's "
                          f"verified domains ({', '.join(sorted(domains))})")
    clash = (await session.exec(select(User).where(or_(
        User.user_principal_name == body.user_principal_name,
        (User.organization_id == org.id) & (User.mail == body.mail))))).first()
    if clash is not None:
        raise _conflict(clash, body)
    user = User(organization_id=org.id, display_name=body.display_name, given_name=body.given_name,
                surname=body.surname, mail=body.mail, user_principal_name=body.user_principal_name,
                user_type=UserType.member, account_enabled=body.account_enabled,
                identities=[{"signInType": "userPrincipalName", "issuer": org.primary_domain,
                             "issuerAssignedId": body.user_principal_name}])
    session.add(user)
    await audit(session, key=None, category="UserManagement", activity="Add user",
                organization_id=org.id, **caller.actor, target_type="User", target_id=user.id,
                target_name=user.user_principal_name, details={"userType": user.user_type})
    try:
        await session.commit()
    except IntegrityError:  # created concurrently by someone else
        await session.rollback()
        raise GraphError(409, "Request_BadRequest",
                         "Another object with the same value for property mail or "
                         "userPrincipalName already exists.") from None
    return user_body(user)


def _conflict(clash: User, body: UserCreate) -> GraphError:
    prop = "userPrincipalName" if clash.user_principal_name == body.user_principal_name else "mail"
    return GraphError(409, "Request_BadRequest",
                      f"Another object with the same value for property {prop} already exists.")


@router.get("/{user_id}", response_model=shapes.User)
async def get_user_by_id(user_id: str, request: Request, caller: UserReader, session: SessionDep,
                         org: OrganizationDep) -> dict:
    """A guest at the limited level sees a few properties of other users (guest_access)."""
    serialize = user_serializer(request, caller)
    body = visible_user(caller)(serialize(await get_user(session, org, user_id)))
    return select_fields(request.query_params, body)


@router.patch("/{user_id}", status_code=204)
async def update_user(user_id: str, body: UserUpdate, caller: AdminCaller, session: SessionDep,
                      org: OrganizationDep, client: TemporalDep) -> Response:
    user = await get_user(session, org, user_id)
    changes = body.model_dump(exclude_unset=True)
    if not changes and body.ignored:  # only properties Foyer keeps nothing of: nothing changes
        return Response(status_code=204)
    if not changes:
        raise bad_request("nothing to update: give displayName, givenName, surname or accountEnabled")
    if changes.get("account_enabled") is False:
        # Their refresh tokens stop at once, committed with the change (app_access refuses them anyway).
        await revoke_user_refresh_tokens(session, user.id, "account disabled")
    restoring = changes.get("account_enabled") is True and user.lifecycle_blocked_date_time is not None
    if restoring:
        # An administrator restoring a guest the external-user lifecycle blocked: nothing is deleted.
        changes = {**changes, "lifecycle_blocked_date_time": None, "scheduled_deletion_date_time": None}
    await update_with_audit(session, user, changes,
                            modified_properties=body.model_dump(by_alias=True, exclude_unset=True),
                            category="UserManagement", activity="Update user", organization_id=org.id,
                            actor=caller.actor, target_type="User", target_name=user.user_principal_name)
    if restoring:
        # The lifecycle ends at once; if Temporal does not answer now it ends at its timer instead,
        # deleting nobody: it deletes only a guest who is still marked blocked.
        with contextlib.suppress(Refused):
            await guest_lifecycle.cancel_lifecycle(client, user_id, CancelLifecycle(
                reason="restored by an administrator", by_id=caller.actor.get("actor_id")))
    return Response(status_code=204)


@router.delete("/{user_id}", status_code=204)
async def delete_user(user_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                      client: TemporalDep) -> Response:
    """Deleting a guest ends their open workflows and removes their memberships."""
    await get_user(session, org, user_id)
    await directory.delete_user(client, session, org.id, user_id, actor=caller.actor)
    return Response(status_code=204)


@router.get("/{user_id}/memberOf", response_model=shapes.GroupCollection)
async def list_member_of(user_id: str, request: Request, caller: UserRelationsReader, session: SessionDep,
                         org: OrganizationDep) -> dict:
    user = await get_user(session, org, user_id)
    groups = select(GroupMember.group_id).where(GroupMember.user_id == user.id)
    page = await list_page(request, session, Group, GROUP_FIELDS, where=[
        Group.organization_id == org.id, col(Group.id).in_(groups)])
    return collection(request, page, directory_group_body)


@router.get("/{user_id}/appRoleAssignments", response_model=shapes.AppRoleAssignmentCollection)
async def list_app_role_assignments(user_id: str, request: Request, caller: UserRelationsReader,
                                    session: SessionDep, org: OrganizationDep) -> dict:
    """The applications the user is assigned to directly (as Graph: not through their groups)."""
    user = await get_user(session, org, user_id)
    page = await list_page(request, session, AppRoleAssignment, ASSIGNMENT_FIELDS,
                           where=[AppRoleAssignment.principal_id == user.id],
                           default_order=("created_date_time", "id"))
    ids = {row.application_id for row in page.rows}
    apps = {a.id: a for a in (await session.exec(select(Application).where(col(Application.id).in_(ids)))).all()}
    return listed(request, page, [assignment_body(row, apps[row.application_id], user) for row in page.rows])


@router.get("/{user_id}/ownedObjects", response_model=shapes.DirectoryObjectCollection)
async def list_owned_objects(user_id: str, caller: UserRelationsReader, session: SessionDep,
                             org: OrganizationDep) -> dict:
    """The groups and applications the user owns, typed as Graph types directoryObjects (one
    page: an owner owns a handful)."""
    user = await get_user(session, org, user_id)
    groups, apps = await owned_objects(session, user.id)
    return {"value": [directory_group_body(g) for g in groups]
            + [{"@odata.type": "#microsoft.graph.application", **application_body(a)} for a in apps]}
