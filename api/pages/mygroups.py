"""My Groups (/mygroups): the groups the signed-in person owns and the groups they belong to.

An owner (or an administrator) manages their group's members here: "add" by address adds a
person already in the directory, or invites a new guest with the group pre-assigned (the guest
lands in the group on redemption; foyer.usecases.invitations checks allowInvitesFrom, ownership
and the domain lists first, the invitation activities again); "remove" takes a member out.
Everything goes through the use cases (foyer.usecases.groups, foyer.usecases.ownership), which
audit it with "actingAs". The person's role for those rules is foyer.usecases.people.role_of.

Where the organization lets owners manage requests to join (owners_can_manage_join_requests),
members are offered the groups they may ask to join and owners see the pending requests and
approve or deny them: each request is a GroupJoinRequestWorkflow (workflows.client.group_join_requests).

restrict_my_groups: a member who owns no group (and is not an administrator) is told My Groups is
not available; owners still manage theirs. A Restricted Guest User sees the names of their groups,
not their members (foyer.rules.guest_access.may_see_own_groups).
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, func, select

from foyer.api.deps import SessionDep, TemporalDep
from foyer.api.pages.deps import PageUser, SignedIn, forbidden_form, page, refusal_text
from foyer.errors import Refused
from foyer.rules.emails import normalize_email
from foyer.rules.guest_access import may_see_own_groups
from foyer.settings import get_settings
from foyer.usecases.group_join import join_refusal, joinable_groups, pending_requests, requests_allowed
from foyer.usecases.groups import add_member, remove_member
from foyer.usecases.invitations import checked_invitation_spec
from foyer.usecases.ownership import managed, owned_group_ids
from foyer.usecases.people import Person, person
from foyer.models.directory import Group, GroupJoinRequest, GroupMember, Organization, User
from foyer.workflows.client import group_join_requests
from foyer.workflows.client.invitations import invite_guest
from foyer.workflows.messages.group_join import JoinDecision

router = APIRouter(prefix="/mygroups", tags=["pages"], include_in_schema=False)

FORMS = ("mygroups:add", "mygroups:remove", "mygroups:join", "mygroups:decide")


async def _members(session, group_id: str) -> list[User]:
    return list((await session.exec(select(User).join(GroupMember, GroupMember.user_id == User.id)
                                    .where(GroupMember.group_id == group_id)
                                    .order_by(User.display_name, User.id))).all())


def _restricted(org: Organization, who: Person, owned: set[str]) -> bool:
    return bool(org.restrict_my_groups) and not who.is_admin and not owned


async def _overview(me: SignedIn, session, status: int = 200, **context) -> HTMLResponse:
    user = me.user
    org = await session.get(Organization, user.organization_id)
    who = await person(session, user)
    owned_ids = await owned_group_ids(session, user.id)
    if _restricted(org, who, owned_ids):
        return page("portal_message", status=403 if status == 200 else status, me=me,
                    headline="My Groups is not available",
                    explanation="Your organization has restricted My Groups to group owners and "
                                "administrators. Ask a group's owner to add you.",
                    link="/myapps", link_text="Back to My Apps", **context)
    owned = list((await session.exec(select(Group).where(col(Group.id).in_(owned_ids))
                                     .order_by(Group.display_name, Group.id))).all()) if owned_ids else []
    requests = await pending_requests(session, list(owned_ids)) if requests_allowed(org) else []
    owned_rows = [{"group": g, "members": await _members(session, g.id),
                   "requests": [(r, u) for r, u in requests if r.group_id == g.id]} for g in owned]
    joined = (await session.exec(select(Group).join(GroupMember, GroupMember.group_id == Group.id)
                                 .where(GroupMember.user_id == user.id, col(Group.id).not_in(owned_ids))
                                 .order_by(Group.display_name, Group.id))).all()
    see_members = may_see_own_groups(who.role, org.guest_user_role_id)
    member_rows = [{"group": g, "members": await _members(session, g.id) if see_members else None}
                   for g in joined]
    offers, asked = [], set()
    if requests_allowed(org):
        offers = await joinable_groups(session, org, user)
        asked = set((await session.exec(select(GroupJoinRequest.group_id).where(
            GroupJoinRequest.user_id == user.id, GroupJoinRequest.state == "pending"))).all())
    counts = dict((await session.exec(select(GroupMember.group_id, func.count()).where(
        col(GroupMember.group_id).in_([g.id for g in offers])).group_by(GroupMember.group_id))).all()) \
        if offers else {}
    return page("mygroups", status=status, me=me, owned=owned_rows, joined=member_rows,
                see_members=see_members, offers=offers, asked=asked, counts=counts,
                requests_on=requests_allowed(org), csrf={name: me.csrf(name) for name in FORMS}, **context)


@router.get("")
async def my_groups(me: PageUser, session: SessionDep) -> HTMLResponse:
    return await _overview(me, session)


async def _form(request: Request, me: SignedIn, name: str):
    form = await request.form()
    return form if me.csrf_ok(name, form.get("csrf")) else None


@router.post("/{group_id}/add")
async def add(group_id: str, request: Request, me: PageUser, session: SessionDep,
              client: TemporalDep) -> HTMLResponse:
    """Add a person already in the directory, or invite a new guest with the group pre-assigned."""
    form = await _form(request, me, "mygroups:add")
    if form is None:
        return forbidden_form(me)
    who = await person(session, me.user)
    org = await session.get(Organization, me.user.organization_id)
    if _restricted(org, who, await owned_group_ids(session, who.user_id)):
        return await _overview(me, session)
    try:
        group, capacity = await managed(session, who, Group, group_id, "add members to it")
        try:
            email = normalize_email(form.get("email"))
        except ValueError as error:
            raise Refused("invalidRequest", str(error)) from None
        existing = (await session.exec(select(User).where(
            User.organization_id == org.id, func.lower(User.mail) == email))).first()
        if existing is not None:
            await add_member(session, org.id, group, existing, actor=who.actor, capacity=capacity)
            return await _overview(me, session, notice=f"{existing.display_name or email} is now a member of "
                                                       f"{group.display_name}.")
        spec = await checked_invitation_spec(
            session, org, inviter_id=who.user_id, inviter_name=who.name, role=who.role, email=email,
            group_ids=[group.id], invite_redirect_url=f"{get_settings().public_url.rstrip('/')}/mygroups",
            send_invitation_message=True,
            invited_user_display_name=(form.get("display_name") or "").strip()[:256] or None)
        name = group.display_name
        await session.close()
        await invite_guest(client, spec)
    except Refused as refused:
        if refused.code == "Request_BadRequest":  # already a member
            refused = Refused(refused.code, "that person is already a member of this group")
        return await _overview(me, session, status=refused.status, error=refusal_text(refused))
    return await _overview(me, session, notice=f"Invitation sent to {email}. They join {name} when they "
                                               "accept it.")


@router.post("/{group_id}/members/{user_id}/remove")
async def remove(group_id: str, user_id: str, request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    form = await _form(request, me, "mygroups:remove")
    if form is None:
        return forbidden_form(me)
    who = await person(session, me.user)
    try:
        group, capacity = await managed(session, who, Group, group_id, "remove its members")
        member = await session.get(User, user_id)
        if member is None:
            raise Refused("Request_ResourceNotFound", "that person is not a member of this group", status_hint=404)
        name = member.display_name or member.mail
        await remove_member(session, who.organization_id, group, member, actor=who.actor, capacity=capacity)
    except Refused as refused:
        return await _overview(me, session, status=refused.status, error=refusal_text(refused))
    return await _overview(me, session, notice=f"{name} is no longer a member of {group.display_name}.")


@router.post("/{group_id}/join")
async def join(group_id: str, request: Request, me: PageUser, session: SessionDep,
               client: TemporalDep) -> HTMLResponse:
    form = await _form(request, me, "mygroups:join")
    if form is None:
        return forbidden_form(me)
    org = await session.get(Organization, me.user.organization_id)
    if _restricted(org, await person(session, me.user), await owned_group_ids(session, me.id)):
        return await _overview(me, session)
    group = await session.get(Group, group_id)
    refusal = "this group does not exist" if group is None else await join_refusal(session, org, group, me.user)
    if refusal:
        return await _overview(me, session, status=403, error=refusal_text(Refused("requestNotAllowed", refusal)))
    name = group.display_name
    await session.close()
    try:
        await group_join_requests.request_to_join(
            client, org.id, group_id, me.id, (form.get("justification") or "").strip()[:1000] or None)
    except Refused as refused:
        return await _overview(me, session, status=refused.status, error=refusal_text(refused))
    return await _overview(me, session, notice=f"You asked to join {name}. Its owners will answer.")


@router.post("/requests/{request_id}/decide")
async def decide(request_id: str, request: Request, me: PageUser, session: SessionDep,
                 client: TemporalDep) -> HTMLResponse:
    form = await _form(request, me, "mygroups:decide")
    if form is None:
        return forbidden_form(me)
    who = await person(session, me.user)
    org = await session.get(Organization, me.user.organization_id)
    decision = form.get("decision")
    try:
        row = await session.get(GroupJoinRequest, request_id)
        if row is None or row.organization_id != org.id:
            raise Refused("notFound", "this request does not exist")
        group, capacity = await managed(session, who, Group, row.group_id, "decide requests to join it")
        if not requests_allowed(org) and capacity != "administrator":
            raise Refused("Authorization_RequestDenied", "owners do not manage requests to join groups in "
                                                         "this organization")
        if row.state != "pending":
            raise Refused("requestNotPending", f"this request is {row.state}, not pending", status_hint=409)
        if decision not in ("approve", "deny"):
            raise Refused("invalidRequest", "choose approve or deny")
        workflow_id = row.workflow_id
        await session.close()
        outcome = await group_join_requests.decide(client, workflow_id, JoinDecision(
            decision=decision, decided_by_id=who.user_id, decided_by_name=me.user.display_name, capacity=capacity))
    except Refused as refused:
        return await _overview(me, session, status=refused.status, error=refusal_text(refused))
    return await _overview(me, session, notice=f"Request {outcome.state}.")
