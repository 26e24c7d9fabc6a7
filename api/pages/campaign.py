"""The campaign page (/campaigns/{id}): name, state, counts and a live progress bar, with Pause,
Resume and Cancel, and the results CSV.

Who may open it: there is no page-role model yet, so an administrator is a signed-in user on
whose behalf an API token with an admin role exists (api_tokens: user_id = the user, role Global
Administrator or User Administrator, not revoked, same organization). Anyone else signed in gets a
403 page; nobody signed in is sent to the sign-in page. The page's JSON (`/progress`) and its
forms use the same session (and, for forms, CSRF tokens), never the bearer API. The figures, the
results file and the actions are the ones the API uses too (foyer.usecases.campaigns,
workflows.client.campaigns), so both always agree.
"""

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import col, select

from foyer.api.deps import SessionDep, TemporalDep
from foyer.api.pages.deps import PageUser, SignedIn, forbidden_form, page
from foyer.errors import Refused
from foyer.usecases.campaigns import campaign_body, refuse_ended, result_rows, results_csv, results_filename
from foyer.models.campaign import Campaign
from foyer.models.enums import ADMIN_ROLES
from foyer.models.token import ApiToken
from foyer.workflows.client import campaigns

router = APIRouter(prefix="/campaigns", tags=["pages"], include_in_schema=False)

ACTIONS = {"pause": campaigns.pause, "resume": campaigns.resume, "cancel": campaigns.cancel}
NOTICES = {
    "pause": "Paused: no new rows start until you resume. Rows already in flight finish.",
    "resume": "Resumed: rows start again.",
    "cancel": "Canceled: no new rows start. Rows already invited stay invited.",
}
ERRORS = {  # by Graph error code; the message itself never travels in the URL
    "campaignEnded": "The campaign has already ended. Nothing was changed.",
    "Authorization_RequestDenied": "The invitation settings do not let you change this campaign.",
}
UNKNOWN_ERROR = "The campaign could not be changed. Reload the page and try again."


async def _admin_token(session, me: SignedIn) -> ApiToken | None:
    return (await session.exec(select(ApiToken).where(
        ApiToken.user_id == me.id, ApiToken.organization_id == me.user.organization_id,
        col(ApiToken.revoked).is_(False),
        col(ApiToken.role).in_([str(r) for r in ADMIN_ROLES])).limit(1))).first()


def _forbidden(me: SignedIn) -> HTMLResponse:
    return page("portal_message", status=403, me=me, headline="Administrators only",
                explanation="Campaigns are for administrators. Ask an administrator of your "
                            "organization to look at this campaign.",
                link="/myaccess", link_text="Back to My Access")


def _not_found(me: SignedIn) -> HTMLResponse:
    return page("portal_message", status=404, me=me, headline="No such campaign",
                explanation="This campaign does not exist in your organization.",
                link="/myaccess", link_text="Back to My Access")


async def _load(session, me: SignedIn, campaign_id: str) -> tuple[ApiToken | None, Campaign | None]:
    token = await _admin_token(session, me)
    if token is None:
        return None, None
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.organization_id != me.user.organization_id:
        return token, None
    return token, campaign


@router.get("/{campaign_id}")
async def campaign_page(campaign_id: str, me: PageUser, session: SessionDep, notice: str = "",
                        error: str = "") -> HTMLResponse:
    token, campaign = await _load(session, me, campaign_id)
    if token is None:
        return _forbidden(me)
    if campaign is None:
        return _not_found(me)
    body = await campaign_body(session, campaign)
    return page("campaign", me=me, campaign=body,
                csrf={name: me.csrf(f"campaign-{name}:{campaign.id}") for name in ACTIONS},
                notice=NOTICES.get(notice), error=(ERRORS.get(error, UNKNOWN_ERROR) if error else None))


@router.get("/{campaign_id}/progress")
async def campaign_progress(campaign_id: str, me: PageUser, session: SessionDep) -> Response:
    """The figures the page's progress bar polls: the API's campaign body, by session."""
    token, campaign = await _load(session, me, campaign_id)
    if token is None or campaign is None:
        status, code = (403, "Authorization_RequestDenied") if token is None else (404, "Request_ResourceNotFound")
        return JSONResponse({"error": {"code": code, "message": "not available"}}, status_code=status,
                            headers={"Cache-Control": "no-store"})
    return JSONResponse(await campaign_body(session, campaign),
                        headers={"Cache-Control": "no-store"})


@router.get("/{campaign_id}/results.csv")
async def campaign_results(campaign_id: str, me: PageUser, session: SessionDep) -> Response:
    token, campaign = await _load(session, me, campaign_id)
    if token is None:
        return _forbidden(me)
    if campaign is None:
        return _not_found(me)
    return Response(results_csv(await result_rows(session, campaign)), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{results_filename(campaign)}"'})


@router.post("/{campaign_id}/{action}")
async def campaign_action(campaign_id: str, action: str, me: PageUser, session: SessionDep,
                          client: TemporalDep, csrf: str = Form("")) -> Response:
    if action not in ACTIONS:
        return _not_found(me)
    if not me.csrf_ok(f"campaign-{action}:{campaign_id}", csrf):
        return forbidden_form(me)
    token, campaign = await _load(session, me, campaign_id)
    if token is None:
        return _forbidden(me)
    if campaign is None:
        return _not_found(me)
    try:
        refuse_ended(campaign)
        await ACTIONS[action](client, campaign.workflow_id)
    except Refused as failure:
        code = failure.code if failure.code in ERRORS else "other"
        return RedirectResponse(f"/campaigns/{campaign.id}?error={code}", status_code=303)
    return RedirectResponse(f"/campaigns/{campaign.id}?notice={action}", status_code=303)
