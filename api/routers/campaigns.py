"""`/v1.0/invitationCampaigns`: bulk onboarding. Upload Entra's bulk-invite CSV (multipart, field
`file`) or the same rows as JSON; `dryRun` answers every row's verdict and invites nobody.
Otherwise the rows are stored (invalid ones as skipped, with the reason) and a CampaignWorkflow
drives them through the address's InvitationWorkflows. Admins only (and the invite policy)."""

import json
import uuid

from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import insert

from foyer.api.campaign_rows import CampaignInputError, judge, parse_csv, parse_json, verdict
from foyer.api.deps import AdminCaller, OrganizationDep, SessionDep, TemporalDep, get_in_org
from foyer.api.errors import GraphError, bad_request
from foyer.api.graph import GraphRouter
from foyer.api.odata import collection, list_page
from foyer.api.schemas import campaigns as shapes
from foyer.api.schemas import iso
from foyer.errors import Refused
from foyer.names import check_name
from foyer.policy import may_invite
from foyer.usecases.campaigns import campaign_body, refuse_ended, result_rows, results_csv, results_filename
from foyer.models.base import utcnow
from foyer.models.campaign import Campaign, CampaignRow
from foyer.workflows.client import campaigns
from foyer.workflows.messages import CampaignInput, campaign_workflow_id

router = GraphRouter(prefix="/v1.0/invitationCampaigns", tags=["campaigns"])
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


async def _read_input(request: Request) -> tuple[dict, list]:
    """(options, parsed rows) from a multipart upload or a JSON body."""
    kind = request.headers.get("content-type", "")
    try:
        if kind.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise bad_request("send the CSV in the multipart field 'file'")
            raw = await upload.read(MAX_UPLOAD_BYTES + 1)
            if len(raw) > MAX_UPLOAD_BYTES:
                raise bad_request("the file is larger than 64 MiB")
            options = {k: v for k, v in form.items() if k != "file"}
            return options, parse_csv(raw.decode("utf-8-sig"))
        body = json.loads(await request.body() or b"{}")
        if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
            raise bad_request("send {\"rows\": [...]} as JSON, or a CSV file as multipart/form-data")
        return {k: v for k, v in body.items() if k != "rows"}, parse_json(body["rows"])
    except CampaignInputError as error:
        raise bad_request(str(error)) from error
    except ValueError as error:  # not UTF-8, not JSON, a number of 5,000 digits…
        raise bad_request(f"the body could not be read: {error}") from error


def _int_option(options: dict, name: str, default: int, low: int, high: int) -> int:
    value = options.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be a whole number") from None
    if not low <= number <= high:
        raise bad_request(f"{name} must be between {low} and {high}")
    return number


def _display_name(options: dict) -> str:
    value = options.get("displayName")
    if value is None or value == "":
        return f"Campaign {utcnow():%Y-%m-%d %H:%M}"
    if not isinstance(value, str) or len(value.strip()) > 256:
        raise bad_request("displayName must be a string of at most 256 characters")
    try:
        return check_name(value.strip())
    except ValueError as error:
        raise bad_request(f"displayName {error}") from None


def _flag(options: dict, name: str) -> bool:
    value = options.get(name, False)
    return value is True or str(value).lower() in ("true", "1", "yes")


@router.post("", status_code=201, response_model=shapes.InvitationCampaign,
             responses={200: {"model": shapes.CampaignDryRun,
                              "description": "dryRun: every row's verdict; nobody is invited"}})
async def create_campaign(request: Request, caller: AdminCaller, session: SessionDep,
                          org: OrganizationDep, client: TemporalDep):
    if not may_invite(org.allow_invites_from, caller.role):
        raise GraphError(403, "Authorization_RequestDenied",
                         f"allowInvitesFrom={org.allow_invites_from} does not let '{caller.role}' invite")
    options, rows = await _read_input(request)
    if not rows:
        raise bad_request("the campaign has no rows")
    rate = _int_option(options, "ratePerMinute", 600, 1, 100_000)
    concurrency = _int_option(options, "concurrency", 20, 1, 200)
    display_name = _display_name(options)
    await judge(session, org, rows, caller.role)
    verdicts = [verdict(r) for r in rows]
    valid = sum(1 for v in verdicts if v["verdict"] == "ok")
    if _flag(options, "dryRun"):
        # Not the route's 201 shape: checked against its own (the 200 above), then sent as is.
        dry_run = shapes.CampaignDryRun.model_validate({
            "dryRun": True, "rowCount": len(rows), "validCount": valid, "invalidCount": len(rows) - valid,
            "rows": verdicts})
        return JSONResponse(dry_run.model_dump(mode="json", by_alias=True, exclude_unset=True))
    if not valid:
        raise GraphError(400, "noValidRows", "no row can be invited; run with dryRun=true for details")

    campaign_id = str(uuid.uuid4())
    campaign = Campaign(id=campaign_id, organization_id=org.id,
                        display_name=display_name,
                        rate_per_minute=rate, concurrency=concurrency, created_by_id=caller.user_id or caller.token_id,
                        created_by_name=caller.name, created_by_role=caller.role, workflow_id=campaign_workflow_id(campaign_id),
                        row_count=len(rows))
    session.add(campaign)
    await session.flush()
    now = utcnow()
    records = [{
        "id": str(uuid.uuid4()), "campaign_id": campaign_id, "row_number": r.row_number, "email": r.email,
        "invite_redirect_url": r.redirect, "send_invitation_message": r.send,
        "customized_message_body": r.message, "display_name": r.display_name, "group_ids": r.groups,
        "application_ids": r.applications, "access_package_ids": r.packages, "state": "skipped" if r.problems else "pending",
        "reason": "; ".join(f"{p['column']}: {p['message']}" for p in r.problems) or None,
        "attempts": 0, "updated_date_time": now,
    } for r in rows]
    for start in range(0, len(records), 1000):
        await session.exec(insert(CampaignRow).values(records[start:start + 1000]))  # type: ignore[call-overload]
    await session.commit()
    try:
        await campaigns.start(client, campaign.workflow_id, CampaignInput(
            campaign_id=campaign_id, concurrency=concurrency, rate_per_minute=rate))
    except Refused:
        await session.delete(campaign)  # nothing half-started: the rows go with it
        await session.commit()
        raise
    return await campaign_body(session, campaign)


CAMPAIGN_FIELDS = {"id": "id", "displayName": "display_name", "state": "state",
                   "createdDateTime": "created_date_time"}


@router.get("", response_model=shapes.InvitationCampaignCollection)
async def list_campaigns(request: Request, caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    page = await list_page(request, session, Campaign, CAMPAIGN_FIELDS,
                           where=[Campaign.organization_id == org.id], default_order="created_date_time",
                           default_desc=True)
    return collection(request, page, lambda c: {"id": c.id, "displayName": c.display_name, "state": c.state,
                                                "rowCount": c.row_count,
                                                "createdDateTime": iso(c.created_date_time)})


@router.get("/{campaign_id}", response_model=shapes.InvitationCampaign)
async def get_campaign(campaign_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    return await campaign_body(session, await get_in_org(session, Campaign, org, campaign_id, "campaign"))


def _wants_json(accept: str | None) -> bool:
    """JSON when the Accept header names application/json ahead of text/csv (a generated client
    does); the CSV otherwise (browsers, curl, `*/*`)."""
    kinds = [part.split(";", 1)[0].strip().lower() for part in (accept or "").split(",")]
    if "application/json" not in kinds:
        return False
    return "text/csv" not in kinds or kinds.index("application/json") < kinds.index("text/csv")


@router.get("/{campaign_id}/results", response_model=shapes.CampaignResultCollection, responses={200: {
    "description": "Every row's outcome: a CSV file (the default), or JSON for `Accept: application/json`",
    "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def campaign_results(campaign_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                           accept: Annotated[str | None, Header()] = None):
    campaign = await get_in_org(session, Campaign, org, campaign_id, "campaign")
    results = await result_rows(session, campaign)
    if _wants_json(accept):
        return {"value": results}
    return StreamingResponse(iter([results_csv(results)]), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{results_filename(campaign)}"'})


@router.post("/{campaign_id}/pause", status_code=202, response_model=shapes.CampaignStateChange)
async def pause_campaign(campaign_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                         client: TemporalDep) -> dict:
    campaign = await get_in_org(session, Campaign, org, campaign_id, "campaign")
    refuse_ended(campaign)
    await campaigns.pause(client, campaign.workflow_id)
    return {"id": campaign.id, "state": "paused"}


@router.post("/{campaign_id}/resume", status_code=202, response_model=shapes.CampaignStateChange)
async def resume_campaign(campaign_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                          client: TemporalDep) -> dict:
    campaign = await get_in_org(session, Campaign, org, campaign_id, "campaign")
    refuse_ended(campaign)
    await campaigns.resume(client, campaign.workflow_id)
    return {"id": campaign.id, "state": "running"}


@router.post("/{campaign_id}/cancel", response_model=shapes.CampaignStateChange)
async def cancel_campaign(campaign_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                          client: TemporalDep) -> dict:
    campaign = await get_in_org(session, Campaign, org, campaign_id, "campaign")
    refuse_ended(campaign)
    return {"id": campaign.id, "state": await campaigns.cancel(client, campaign.workflow_id)}


@router.post("/{campaign_id}/retryFailed", response_model=shapes.CampaignStateChange)
async def retry_failed_rows(campaign_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                            client: TemporalDep) -> dict:
    """Failed rows go back to pending: in the running campaign, or in a new run of an ended one."""
    campaign = await get_in_org(session, Campaign, org, campaign_id, "campaign")
    if campaign.state == "canceled":
        raise GraphError(409, "campaignEnded", "the campaign was canceled")
    if campaign.state == "completed":
        # Running again from this answer on; put back if the new run cannot be started.
        campaign.state, campaign.completed_date_time = "running", None
        session.add(campaign)
        await session.commit()
        try:
            await campaigns.start(client, campaign.workflow_id, CampaignInput(
                campaign_id=campaign.id, concurrency=campaign.concurrency,
                rate_per_minute=campaign.rate_per_minute, retry_failed=True))
        except Refused as error:
            campaign.state, campaign.completed_date_time = "completed", utcnow()
            session.add(campaign)
            await session.commit()
            raise GraphError(409, "campaignEnded",
                             f"the campaign's workflow could not be reached: {error.message}") from error
        return {"id": campaign.id, "state": "running"}
    count = await campaigns.retry_failed(client, campaign.workflow_id)
    return {"id": campaign.id, "state": "running", "rowsRetried": count}
