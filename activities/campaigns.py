"""Activities of bulk onboarding campaigns. Each one is safe to retry: a row's invitation id is
derived from the campaign and the row, so inviting a row twice reaches the same invitation (and
the invitation workflow's outbox key), never a second guest or a second mail."""

import asyncio
import uuid

from sqlalchemy import update
from sqlmodel import col, select
from temporalio import activity
from temporalio.client import Client

from foyer.activities import mail
from foyer.activities.invitations import record_in_session
from foyer.activities.store import heartbeating
from foyer.db import reading, session_scope
from foyer.errors import Refused
from foyer.models.base import utcnow
from foyer.models.campaign import Campaign, CampaignRow
from foyer.models.entitlement import AssignmentRequest
from foyer.models.directory import Organization, User
from foyer.models.enums import UserType
from foyer.workflows.client import access_requests
from foyer.workflows.client.invitations import invite_guest, start_holding
from foyer.workflows.messages.access import AccessRequestSpec
from foyer.workflows.messages.campaign import (
    BatchInput, BatchOutcome, CampaignStateInput, NextRowsInput, RowInput, RowOutcome, row_invitation_id,
    row_package_request_id,
)
from foyer.workflows.messages.invitation import (
    InvitationSpec, RecordedInvitation, RecordInvitationInput, invitation_workflow_id,
)


@activity.defn
async def next_rows(data: NextRowsInput) -> list[int]:
    """Row numbers still pending after `after_row`, in file order (the workflow keeps no rows)."""
    async with reading() as session:
        rows = await session.exec(select(CampaignRow.row_number).where(
            CampaignRow.campaign_id == data.campaign_id, CampaignRow.state == "pending",
            CampaignRow.row_number > data.after_row).order_by(CampaignRow.row_number).limit(data.limit))
        return list(rows.all())


@activity.defn
async def set_campaign_state(data: CampaignStateInput) -> None:
    async with session_scope() as session:
        campaign = await session.get(Campaign, data.campaign_id)
        if campaign.state in ("canceled", "completed") and data.state in ("running", "paused"):
            return  # a late pause/resume after the end changes nothing
        campaign.state = data.state
        if data.state in ("canceled", "completed"):
            campaign.completed_date_time = utcnow()
        else:
            campaign.completed_date_time = None
        session.add(campaign)


@activity.defn
async def cancel_pending_rows(campaign_id: str) -> int:
    """Cancel stops new rows; rows already invited stay invited."""
    async with session_scope() as session:
        result = await session.exec(update(CampaignRow).where(  # type: ignore[call-overload]
            CampaignRow.campaign_id == campaign_id, CampaignRow.state == "pending").values(
            state="canceled", reason="the campaign was canceled", updated_date_time=utcnow()))
        return result.rowcount


@activity.defn
async def reset_failed_rows(campaign_id: str) -> int:
    async with session_scope() as session:
        result = await session.exec(update(CampaignRow).where(  # type: ignore[call-overload]
            CampaignRow.campaign_id == campaign_id, CampaignRow.state == "failed").values(
            state="pending", reason=None, updated_date_time=utcnow()))
        return result.rowcount


class CampaignInviter:
    """Invites one row through the address's InvitationWorkflow (update-with-start, exactly as
    `POST /invitations` does), so a campaign row and a single invitation behave the same."""

    def __init__(self, client: Client):
        self.client = client

    @activity.defn(name="invite_campaign_row")
    async def invite_row(self, data: RowInput) -> RowOutcome:
        async with heartbeating():
            return await self._invite_row(data)

    @activity.defn(name="invite_campaign_rows")
    async def invite_rows(self, data: BatchInput) -> BatchOutcome:
        async with heartbeating():
            return await self._invite_rows(data)

    async def _invite_rows(self, data: BatchInput) -> BatchOutcome:
        """Many rows at once, for addresses new to the directory: their guests, invitations, mail
        and audit records are written in one transaction, each address's InvitationWorkflow is
        started already holding its recorded invitation (so it only keeps the timers), and the
        mails go out over one SMTP connection. Any row that does not fit that path (the address
        has a guest already, its workflow is running, or this is a retry after a crash or an SMTP
        failure) goes through the one-row path, which adopts what was recorded: the invitation id
        is the row's own, so nothing is invited or mailed twice."""
        issued_at = utcnow()
        one_by_one: list[int] = []
        failed: dict[int, str] = {}
        recorded: list[tuple[int, InvitationSpec, RecordedInvitation]] = []
        async with session_scope() as session:
            campaign = await session.get(Campaign, data.campaign_id)
            org = await session.get(Organization, campaign.organization_id)
            rows = (await session.exec(select(CampaignRow).where(
                CampaignRow.campaign_id == data.campaign_id, col(CampaignRow.row_number).in_(data.row_numbers),
                CampaignRow.state == "pending").order_by(CampaignRow.row_number))).all()
            known = set((await session.exec(select(User.mail).where(
                User.organization_id == org.id, col(User.mail).in_([r.email for r in rows])))).all())
            for row in rows:
                if row.email in known:
                    one_by_one.append(row.row_number)
                    continue
                spec = _row_spec(campaign, row, str(uuid.uuid4()))
                try:
                    result = await record_in_session(session, org, RecordInvitationInput(
                        spec=spec, workflow_id=invitation_workflow_id(org.id, row.email), issued_at=issued_at))
                except Refused as refusal:  # raised before the row wrote anything
                    failed[row.row_number] = f"{refusal.code}: {refusal.message}"
                    continue
                recorded.append((row.row_number, spec, result))
                if row.access_package_ids:
                    await _mark_governed(session, result.user_id)

        started = await asyncio.gather(*(start_holding(self.client, spec, result) for _, spec, result in recorded))
        fresh = [item for item, ok in zip(recorded, started) if ok]
        one_by_one += [row_number for (row_number, _, _), ok in zip(recorded, started) if not ok]
        await mail.deliver_many([result.outbox_key for _, _, result in fresh if result.outbox_key])

        async with session_scope() as session:
            results = {row_number: result for row_number, _, result in fresh}
            rows = (await session.exec(select(CampaignRow).where(
                CampaignRow.campaign_id == data.campaign_id,
                col(CampaignRow.row_number).in_([*results, *failed])))).all()
            for row in rows:
                if row.row_number in results:
                    row.state, row.reason = "invited", None
                    row.invitation_id, row.user_id = results[row.row_number].invitation_id, results[row.row_number].user_id
                else:
                    row.state, row.reason = "failed", failed[row.row_number]
                row.attempts += 1
                row.updated_date_time = utcnow()
                session.add(row)
        outcomes = await asyncio.gather(*(self._invite_row(RowInput(campaign_id=data.campaign_id, row_number=n))
                                          for n in one_by_one))
        await self._assign_packages(campaign, data.row_numbers)
        return BatchOutcome(invited=len(fresh) + sum(o.state == "invited" for o in outcomes),
                            failed=len(failed) + sum(o.state == "failed" for o in outcomes),
                            one_by_one=len(one_by_one))

    async def _assign_packages(self, campaign: Campaign, row_numbers: list[int]) -> None:
        """Rows naming access packages: once invited, the guest is assigned each one directly
        (adminAdd on the package's policy, by the campaign's creator). The request id is derived
        from the row and the package, so a retry finds the request already made."""
        async with reading() as session:
            rows = (await session.exec(select(CampaignRow).where(
                CampaignRow.campaign_id == campaign.id, col(CampaignRow.row_number).in_(row_numbers),
                CampaignRow.state == "invited", col(CampaignRow.user_id).is_not(None)))).all()
            wanted = [(row.row_number, row.user_id, entry) for row in rows for entry in row.access_package_ids]
            if not wanted:
                return
            requestor = await session.get(User, campaign.created_by_id) if campaign.created_by_id else None
            ids = {item: row_package_request_id(campaign.id, item[0], item[2]) for item in wanted}
            made = set((await session.exec(select(AssignmentRequest.id).where(
                col(AssignmentRequest.id).in_(list(ids.values()))))).all())
        problems: dict[int, list[str]] = {}
        for item in wanted:
            if ids[item] in made:
                continue
            row_number, user_id, entry = item
            package_id, _, policy_id = entry.partition("/")
            try:
                await access_requests.submit_request(self.client, AccessRequestSpec(
                    request_id=ids[item], organization_id=campaign.organization_id, request_type="adminAdd",
                    access_package_id=package_id, assignment_policy_id=policy_id or None,
                    requestor_id=requestor.id if requestor else None, requestor_is_admin=True,
                    target_id=user_id, justification=f"Onboarding campaign {campaign.display_name}"))
            except Refused as error:
                if error.transient:
                    raise  # retried
                problems.setdefault(row_number, []).append(f"access package {package_id}: {error.code}: {error.message}")
        if problems:
            async with session_scope() as session:
                for row in (await session.exec(select(CampaignRow).where(
                        CampaignRow.campaign_id == campaign.id, col(CampaignRow.row_number).in_(list(problems))))).all():
                    row.reason = "; ".join(problems[row.row_number])
                    session.add(row)

    async def _invite_row(self, data: RowInput) -> RowOutcome:
        async with session_scope() as session:
            row = (await session.exec(select(CampaignRow).where(
                CampaignRow.campaign_id == data.campaign_id, CampaignRow.row_number == data.row_number))).one()
            if row.state != "pending":
                return RowOutcome(state=row.state, reason=row.reason)
            campaign = await session.get(Campaign, data.campaign_id)
            existing = (await session.exec(select(User.id).where(
                User.organization_id == campaign.organization_id, User.mail == row.email))).first()
            spec = _row_spec(campaign, row, existing or str(uuid.uuid4()))
        try:
            result = await invite_guest(self.client, spec)
            outcome = RowOutcome(state="invited")
        except Refused as error:
            if error.transient:
                raise  # the workflow service did not answer: retried
            result, outcome = None, RowOutcome(state="failed", reason=f"{error.code}: {error.message}")
        async with session_scope() as session:
            row = (await session.exec(select(CampaignRow).where(
                CampaignRow.campaign_id == data.campaign_id, CampaignRow.row_number == data.row_number))).one()
            row.state, row.reason = outcome.state, outcome.reason
            row.attempts += 1
            row.updated_date_time = utcnow()
            if result is not None:
                row.invitation_id, row.user_id = result.invitation_id, result.user_id
                if existing is None and row.access_package_ids:
                    await _mark_governed(session, result.user_id)
            session.add(row)
        return outcome


async def _mark_governed(session, user_id: str) -> None:
    """A guest this campaign created to assign access packages to is governed by entitlement
    management's external-user lifecycle (one who existed before is not)."""
    user = await session.get(User, user_id)
    if user is not None and user.user_type == UserType.guest and not user.governed_by_entitlement:
        user.governed_by_entitlement = True
        session.add(user)


def _row_spec(campaign: Campaign, row: CampaignRow, proposed_user_id: str) -> InvitationSpec:
    return InvitationSpec(
        invitation_id=row_invitation_id(campaign.id, row.row_number),
        organization_id=campaign.organization_id, email=row.email,
        proposed_user_id=proposed_user_id, invite_redirect_url=row.invite_redirect_url,
        invited_by_id=campaign.created_by_id, invited_by_name=campaign.created_by_name,
        invited_by_role=campaign.created_by_role, invited_user_display_name=row.display_name,
        send_invitation_message=row.send_invitation_message,
        customized_message_body=row.customized_message_body,
        group_ids=row.group_ids, application_ids=row.application_ids)

ALL = [next_rows, set_campaign_state, cancel_pending_rows, reset_failed_rows]
