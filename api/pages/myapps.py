"""My Apps (Entra's Access Panel, /myapps): the applications the signed-in person may open, each
a link to its web.homePageUrl (the app then signs them in through Foyer's OpenID Provider).

Which apps: foyer.usecases.app_access.apps_for — assigned directly, through a group, or through
an access package — the same rule the provider's endpoints ask. Not signed in: the sign-in page,
which comes back here.

`/myapps/{id}` (the application's id or appId) is the direct link to one app, what an invitation's
inviteRedirectUrl or a message can carry ("send a direct link to an app you want to share"): it
sends a person who may use the app to its home page, and tells anyone else why not.

The owner's view: for the apps the person owns (administrators included: they manage the others
through the API), who is assigned (users and groups), "share" by address
(a person already in the directory is assigned at once; anyone else is invited as a guest with the
app pre-assigned, the direct link as inviteRedirectUrl, where accepting leads, and in the mail's
message), and "remove"
an assignment; through foyer.usecases.app_assignments, audited with "actingAs". The person's role
for allowInvitesFrom is foyer.usecases.people.role_of, as in My Groups.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import col, func, or_, select

from foyer.api.deps import SessionDep, TemporalDep
from foyer.api.pages.deps import PageUser, SignedIn, forbidden_form, page, refusal_text
from foyer.errors import Refused
from foyer.rules.emails import normalize_email
from foyer.rules.guest_access import may_see_own_groups
from foyer.settings import get_settings
from foyer.usecases.app_access import app_access, apps_for
from foyer.usecases.app_assignments import assign, unassign
from foyer.usecases.invitations import checked_invitation_spec
from foyer.usecases.ownership import managed, owned_application_ids
from foyer.usecases.people import Person, person
from foyer.models.directory import (
    AppRoleAssignment, Application, Group, GroupAppRoleAssignment, Organization, User,
)
from foyer.workflows.client.invitations import invite_guest

router = APIRouter(prefix="/myapps", tags=["pages"], include_in_schema=False)


FORMS = ("myapps:share", "myapps:remove")


def direct_link(app: Application) -> str:
    """The app's direct link in My Apps (what a share's invitation mail carries)."""
    return f"{get_settings().public_url.rstrip('/')}/myapps/{app.id}"


async def _owned(session, who: Person, org: Organization) -> list[dict]:
    ids = await owned_application_ids(session, who.user_id)
    if not ids:
        return []
    apps = (await session.exec(select(Application).where(col(Application.id).in_(ids))
                               .order_by(Application.display_name, Application.id))).all()
    rows = []
    for app in apps:
        users = (await session.exec(select(AppRoleAssignment, User).join(User, User.id == AppRoleAssignment.principal_id)
                                    .where(AppRoleAssignment.application_id == app.id)
                                    .order_by(User.display_name, User.id))).all()
        groups = (await session.exec(select(GroupAppRoleAssignment, Group)
                                     .join(Group, Group.id == GroupAppRoleAssignment.group_id)
                                     .where(GroupAppRoleAssignment.application_id == app.id)
                                     .order_by(Group.display_name, Group.id))).all()
        rows.append({"app": app, "users": users, "groups": groups, "link": direct_link(app)})
    return rows


async def _overview(me: SignedIn, session, status: int = 200, **context) -> HTMLResponse:
    apps = await apps_for(session, me.user)
    org = await session.get(Organization, me.user.organization_id)
    who = await person(session, me.user)
    owned = await _owned(session, who, org)
    return page("myapps", status=status, me=me, apps=apps, owned=owned,
                # A Restricted Guest User is shown none of their groups (the owner's view names
                # the groups an app is assigned to).
                show_groups=may_see_own_groups(who.role, org.guest_user_role_id),
                csrf={name: me.csrf(name) for name in FORMS}, **context)


@router.get("")
async def my_apps(me: PageUser, session: SessionDep) -> HTMLResponse:
    return await _overview(me, session)


@router.post("/{app_id}/share")
async def share(app_id: str, request: Request, me: PageUser, session: SessionDep,
                client: TemporalDep) -> HTMLResponse:
    """Assign the app to a person already in the directory, or invite a new guest with it."""
    form = await request.form()
    if not me.csrf_ok("myapps:share", form.get("csrf")):
        return forbidden_form(me)
    who = await person(session, me.user)
    org = await session.get(Organization, me.user.organization_id)
    try:
        app, capacity = await managed(session, who, Application, app_id, "share it")
        try:
            email = normalize_email(form.get("email"))
        except ValueError as error:
            raise Refused("invalidRequest", str(error)) from None
        existing = (await session.exec(select(User).where(
            User.organization_id == org.id, func.lower(User.mail) == email))).first()
        if existing is not None:
            await assign(session, org.id, app, existing.id, app_role_id=None, actor=who.actor, capacity=capacity)
            return await _overview(me, session, notice=f"{app.display_name} is shared with "
                                                       f"{existing.display_name or email}.")
        spec = await checked_invitation_spec(
            session, org, inviter_id=who.user_id, inviter_name=who.name, role=who.role, email=email,
            application_ids=[app.id], invite_redirect_url=direct_link(app),
            send_invitation_message=True,
            # The direct link in the mail too (accepting leads there; this is for later visits).
            customized_message_body=f"{who.name} shared {app.display_name} with you. Once you have "
                                    f"accepted, open it here: {direct_link(app)}",
            invited_user_display_name=(form.get("display_name") or "").strip()[:256] or None)
        name = app.display_name
        await session.close()
        await invite_guest(client, spec)
    except Refused as refused:
        return await _overview(me, session, status=refused.status, error=refusal_text(refused))
    return await _overview(me, session, notice=f"Invitation sent to {email}: the mail carries the link to "
                                               f"{name}.")


@router.post("/{app_id}/assignments/{assignment_id}/remove")
async def remove(app_id: str, assignment_id: str, request: Request, me: PageUser,
                 session: SessionDep) -> HTMLResponse:
    form = await request.form()
    if not me.csrf_ok("myapps:remove", form.get("csrf")):
        return forbidden_form(me)
    who = await person(session, me.user)
    try:
        app, capacity = await managed(session, who, Application, app_id, "remove its assignments")
        await unassign(session, who.organization_id, app, assignment_id, actor=who.actor, capacity=capacity)
    except Refused as refused:
        return await _overview(me, session, status=refused.status, error=refusal_text(refused))
    return await _overview(me, session, notice=f"The assignment to {app.display_name} was removed.")


@router.get("/{app_id}", response_model=None)
async def open_app(app_id: str, me: PageUser, session: SessionDep) -> HTMLResponse | RedirectResponse:
    app = (await session.exec(select(Application).where(
        Application.organization_id == me.user.organization_id,
        or_(Application.id == app_id, Application.app_id == app_id)))).first()
    if app is None:
        return page("portal_message", status=404, me=me, headline="This application does not exist",
                    explanation="The link may be mistyped, or the application was removed.",
                    link="/myapps", link_text="Back to My Apps")
    access = await app_access(session, me.user, app)
    if not access.allowed:
        return page("portal_message", status=403, me=me, headline=f"You cannot open {app.display_name}",
                    explanation=access.reason, link="/myaccess", link_text="Request access in My Access")
    if not app.home_page_url:
        return page("portal_message", me=me, headline=app.display_name,
                    explanation="No sign-in link: this application has no home page address. "
                                "Open it the way its owner told you.",
                    link="/myapps", link_text="Back to My Apps")
    return RedirectResponse(app.home_page_url, status_code=303)
