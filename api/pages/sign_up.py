"""Self-service sign-up pages (/signup/{flow}) and the approver's page for one sign-up
(/approvals/signups/{id}, the link in approvers' mail).

Each attempt is a SignUpWorkflow (`signup:{id}`), started by the email step with update-with-start
as sign-in is; the attempt is bound to the browser by a cookie (path /signup), and every later
form must name the same attempt. The form is rendered from the flow's attribute assignments; the
workflow's Update validator has the last word on what is valid (the page shows its field errors).
"""

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from foyer.api import sign_ups
from foyer.api.deps import OrganizationDep, SessionDep, TemporalDep
from foyer.api.pages.deps import (
    SIGN_UP_FEDERATION_COOKIE, PageUser, code_requester, federation_refused, forbidden_form, page,
    to_identity_provider,
)
from foyer import sessions
from foyer.errors import Refused
from foyer.rules.emails import is_email_address
from foyer.security import new_challenge_id
from foyer.sign_up_forms import attribute_id, fields
from foyer.usecases import federated_sign_in
from foyer.usecases.federation import FederationRefused
from foyer.usecases.sign_up import EMAIL_OTP, record_sign_up_code_attempt, snapshot_flow, user_flow
from foyer.models.sign_up import SIGN_UP_ENDED, SignUp, UserFlow
from foyer.workflows.client import sign_ups as sign_up_client
from foyer.workflows.messages.sign_up import SignUpCodeRequest, SignUpDecision, SignUpStatus

router = APIRouter(tags=["pages"], include_in_schema=False)
COOKIE = "foyer_signup"
RESULTS = {
    "completed": ("Welcome", "Your account is ready. We emailed you a welcome message."),
    "pendingApproval": ("Your sign-up waits for approval",
                        "Someone at the organization will review it. We will email you the outcome."),
    "submitted": ("We are finishing your sign-up", "This takes a moment: refresh this page."),
    "verifying": ("We are verifying your identity",
                  "This can take a while. We will email you if it cannot be completed."),
    "blocked": ("We can't sign you up", None),
    "denied": ("Your sign-up was not approved", None),
    "expired": ("This sign-up has ended", None),
    "refused": ("Sign-up is not available", None),
    "tooManyRequests": ("Please wait", None),
    # Only runs from before enumeration was closed told the page this; kept for their status page.
    "existingUser": ("You already have an account here", "Sign in with this address instead."),
}


async def _flow(session, org, flow_id: str):
    flow = await user_flow(session, org, flow_id)
    return await snapshot_flow(session, org, flow) if flow else None


def _page(flow, step: str, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("email", "")
    context.setdefault("values", {})
    context.setdefault("field_errors", {})
    context.setdefault("providers", [])
    context.setdefault("email_otp", bool(flow) and EMAIL_OTP in flow.identity_provider_ids)
    return page("signup", status=status, flow=flow, step=step, fields=fields(flow.assignments) if flow else [],
                attribute_id=attribute_id, **context)


def _missing() -> HTMLResponse:
    return page("portal_message", status=404, headline="This sign-up page does not exist",
                explanation="Check the link you were given.", link="/signin", link_text="Sign in")


def _result(flow, status_obj, http: int = 200) -> HTMLResponse:
    headline, explanation = RESULTS.get(status_obj.state, ("Your sign-up", None))
    response = _page(flow, "result", status=http, state=status_obj.state, headline=headline,
                     explanation=status_obj.message or explanation)
    return response


def _bound(request: Request, sign_up_id: str) -> bool:
    return bool(sign_up_id) and sessions.bound_value("sign-up", request.cookies.get(COOKIE)) == sign_up_id


def _lost(flow) -> HTMLResponse:
    response = _page(flow, "email", status=400,
                     error="Your sign-up was not found in this browser. Start again.")
    response.delete_cookie(COOKIE, path="/signup")
    return response


@router.get("/signup/{flow_id}")
async def start(flow_id: str, session: SessionDep, org: OrganizationDep, method: str = "") -> HTMLResponse:
    flow = await _flow(session, org, flow_id)
    if flow is None:
        return _missing()
    providers = await federated_sign_in.offered_providers(session, org, flow.identity_provider_ids)
    if method == "email" and EMAIL_OTP in flow.identity_provider_ids:
        return _page(flow, "email")
    return _page(flow, "choose", providers=providers)


@router.get("/signup/{flow_id}/with/{provider_id}")
async def sign_up_with(flow_id: str, provider_id: str, session: SessionDep, org: OrganizationDep) -> HTMLResponse:
    """Sign up at one of the identity providers the flow offers: the round trip comes back to
    /signup/{flow_id}/federated (through /federation/complete)."""
    flow = await _flow(session, org, flow_id)
    if flow is None:
        return _missing()
    offered = {p.provider_id: p for p in await federated_sign_in.offered_providers(
        session, org, flow.identity_provider_ids)}
    realm = offered.get(provider_id)
    if realm is None:
        return _missing()
    try:
        url, state = await federated_sign_in.begin(session, org, realm, "signUp", user_flow_id=flow.id)
    except FederationRefused as refused:
        return federation_refused(refused, status=503, link=f"/signup/{flow.id}", link_text="Back to sign-up")
    return to_identity_provider(url, state, realm.display_name)


@router.get("/signup/{flow_id}/federated")
async def federated(flow_id: str, request: Request, session: SessionDep, org: OrganizationDep,
                    client: TemporalDep) -> HTMLResponse:
    """Back from the identity provider: the address it vouched for starts the sign-up without a
    code (not re-verified), and the form opens with what the provider said filled in."""
    flow = await _flow(session, org, flow_id)
    if flow is None:
        return _missing()
    try:
        attempt = await federated_sign_in.verified_attempt(session, request.cookies.get(SIGN_UP_FEDERATION_COOKIE))
        if attempt.purpose != "signUp" or attempt.user_flow_id != flow.id:
            raise FederationRefused("unknownState", "This sign-in was not for this sign-up. Start again.")
        if refused := await federated_sign_in.address_refusal(session, attempt, None):
            raise refused
    except FederationRefused as refused:
        return federation_refused(refused, status=400, link=f"/signup/{flow.id}", link_text="Start again")
    email, attempt_id, prefilled = attempt.email, attempt.id, federated_sign_in.prefilled_attributes(attempt)
    await session.close()
    sign_up_id = new_challenge_id()
    try:
        status = await sign_up_client.request_code(client, sign_up_id, org.id, flow.id, SignUpCodeRequest(
            email=email, **code_requester(request, email), federation_attempt_id=attempt_id))
        if status.state == "codeSent":
            status = await sign_up_client.verify(client, sign_up_id)
    except Refused:
        return _page(flow, "choose", status=503, error="The service is busy. Try again in a moment.")
    if status.state != "collectingAttributes":
        response = _result(flow, status, 200 if status.state in ("completed", "pendingApproval") else 403)
    else:
        response = _page(flow, "attributes", email=email, sign_up_id=sign_up_id,
                         values={**prefilled, **(status.attributes or {})})
        response.set_cookie(COOKIE, sessions.bind_to_browser("sign-up", sign_up_id), max_age=60 * 60, httponly=True,
                            samesite="lax", secure=sessions.cookie_secure(), path="/signup")
    response.delete_cookie(SIGN_UP_FEDERATION_COOKIE, path="/signup")
    return response


@router.post("/signup/{flow_id}")
async def send_code(flow_id: str, request: Request, session: SessionDep, org: OrganizationDep,
                    client: TemporalDep, email: str = Form("")) -> HTMLResponse:
    flow = await _flow(session, org, flow_id)
    if flow is None:
        return _missing()
    email = email.strip()
    if not is_email_address(email):
        return _page(flow, "email", status=400, email=email, error="Enter your email address.")
    # The same discovery as redemption and sign-in: an address whose domain a provider serves
    # signs up there (if this flow offers it), never with a passcode.
    realm = await federated_sign_in.realm_for_address(session, org, email)
    if realm.protocol in ("oidc", "saml"):
        if realm.provider_id not in flow.identity_provider_ids:
            return _page(flow, "email", status=403, email=email,
                         error=f"Addresses at {email.rsplit('@', 1)[-1]} sign in with {realm.display_name}, "
                               "which this sign-up does not offer.")
        try:
            url, state = await federated_sign_in.begin(session, org, realm, "signUp", user_flow_id=flow.id,
                                                       login_hint=email)
        except FederationRefused as refused:
            return federation_refused(refused, status=503, link=f"/signup/{flow.id}", link_text="Back to sign-up")
        return to_identity_provider(url, state, realm.display_name, email)
    await session.close()
    sign_up_id = new_challenge_id()
    try:
        status = await sign_up_client.request_code(
            client, sign_up_id, org.id, flow.id, SignUpCodeRequest(email=email, **code_requester(request, email)))
    except Refused as error:
        if error.code == "invalidRequest":
            return _page(flow, "email", status=400, email=email, error=error.message)
        return _page(flow, "email", status=503, email=email, error="The service is busy. Try again in a moment.")
    # An address already in the directory is answered as a new one (its mail says the rest).
    if status.state != "codeSent":
        return _result(flow, status, 429 if status.state == "tooManyRequests" else 403)
    response = _page(flow, "code", email=email, sign_up_id=sign_up_id,
                     notice=f"We emailed a code to {email}. It expires in 10 minutes.")
    response.set_cookie(COOKIE, sessions.bind_to_browser("sign-up", sign_up_id), max_age=60 * 60, httponly=True, samesite="lax",
                        secure=sessions.cookie_secure(), path="/signup")
    return response


@router.post("/signup/{flow_id}/verify")
async def verify(flow_id: str, request: Request, session: SessionDep, org: OrganizationDep,
                 client: TemporalDep, sign_up_id: str = Form(""), code: str = Form(""),
                 email: str = Form("")) -> HTMLResponse:
    flow = await _flow(session, org, flow_id)
    if flow is None:
        return _missing()
    await session.close()
    if not _bound(request, sign_up_id):
        return _lost(flow)
    code = "".join(code.split())
    if not code.isdigit() or len(code) > 16:
        return _page(flow, "code", status=400, email=email, sign_up_id=sign_up_id,
                     error="Enter the 8 digits from the email.")
    # Checked here, against the database, so the code never enters the workflow's history; a
    # merely wrong code needs no workflow (a lock or an expiry does: it ends the sign-up).
    verdict = await record_sign_up_code_attempt(sign_up_id, code)
    if verdict.outcome == "wrongCode":
        left = verdict.attempts_left
        return _page(flow, "code", status=400, email=email, sign_up_id=sign_up_id,
                     error=f"That code is not right. {left} tr{'y' if left == 1 else 'ies'} left.")
    try:
        status = await sign_up_client.verify(client, sign_up_id)
    except Refused:
        return _lost(flow)
    if status.state == "codeSent":
        left = status.attempts_left
        return _page(flow, "code", status=400, email=email, sign_up_id=sign_up_id,
                     error=f"That code is not right. {left} tr{'y' if left == 1 else 'ies'} left.")
    if status.state == "collectingAttributes":
        response = _page(flow, "attributes", email=email, sign_up_id=sign_up_id, values=status.attributes)
        # A code for the attempt's address was completed here (the row's address: the form's
        # email field is the browser's to change).
        row = await session.get(SignUp, sign_up_id)
        if row is not None:
            sessions.remember_device(response, row.email)
        return response
    return _result(flow, status, 400 if status.state in ("blocked", "expired") else 200)


@router.post("/signup/{flow_id}/attributes")
async def submit(flow_id: str, request: Request, session: SessionDep, org: OrganizationDep,
                 client: TemporalDep) -> HTMLResponse:
    flow = await _flow(session, org, flow_id)
    if flow is None:
        return _missing()
    await session.close()
    form = await request.form()
    sign_up_id = str(form.get("sign_up_id") or "")
    email = str(form.get("email") or "")
    if not _bound(request, sign_up_id):
        return _lost(flow)
    values: dict = {}
    for field in fields(flow.assignments):
        key = attribute_id(field)
        if field.get("userInputType") == "checkboxMultiSelect":
            values[key] = [str(v) for v in form.getlist(key)]
        elif key in form:
            values[key] = str(form.get(key))
    try:
        status = await sign_up_client.submit_attributes(client, sign_up_id, values)
    except Refused as error:
        if error.code == "invalidAttributes":
            return _page(flow, "attributes", status=400, email=email, sign_up_id=sign_up_id, values=values,
                         field_errors=error.details.get("fieldErrors") or {}, error="Some fields need correcting.")
        return _lost(flow)
    if status.state == "collectingAttributes":  # the connector's ValidationError: correct, resubmit
        return _page(flow, "attributes", status=400, email=email, sign_up_id=sign_up_id,
                     values=status.attributes or values, error=status.message)
    return _result(flow, status, 400 if status.state in ("blocked", "expired") else 200)


@router.get("/signup/{flow_id}/status")
async def current(flow_id: str, request: Request, session: SessionDep, org: OrganizationDep,
                  client: TemporalDep) -> HTMLResponse:
    flow = await _flow(session, org, flow_id)
    if flow is None:
        return _missing()
    sign_up_id = sessions.bound_value("sign-up", request.cookies.get(COOKIE)) or ""
    row = await session.get(SignUp, sign_up_id) if sign_up_id else None
    if row is None or row.user_flow_id != flow.id:
        return _lost(flow)
    await session.close()
    if row.state in SIGN_UP_ENDED:  # written by the workflow's last step: the outcome is known
        return _result(flow, SignUpStatus(state=row.state, message=row.reason))
    try:
        status = await sign_up_client.status(client, row.workflow_id)
    except Refused:  # an unreachable run: the row is the truth
        status = SignUpStatus(state=row.state, message=row.reason)
    return _result(flow, status)


# --- the approver's page ----------------------------------------------------------------------

async def _for_approver(session, me, sign_up_id: str):
    row = await session.get(SignUp, sign_up_id)
    flow = await session.get(UserFlow, row.user_flow_id) if row else None
    if row is None or flow is None or row.organization_id != me.user.organization_id \
            or me.id not in sign_ups.approver_ids(flow):
        return None, None
    return row, flow


def _approval_page(me, row, flow, status: int = 200, **context) -> HTMLResponse:
    return page("approval_signup", status=status, me=me, sign_up=row, flow=flow,
                can_decide=row.state == "pendingApproval", csrf=me.csrf(f"signup:{row.id}"), **context)


@router.get("/approvals/signups/{sign_up_id}")
async def review(sign_up_id: str, me: PageUser, session: SessionDep) -> HTMLResponse:
    row, flow = await _for_approver(session, me, sign_up_id)
    if row is None:
        return page("portal_message", status=404, me=me, headline="No sign-up of yours to review here",
                    explanation="This sign-up does not exist, or you are not one of its approvers.",
                    link="/approvals", link_text="See what waits for you")
    return _approval_page(me, row, flow)


@router.post("/approvals/signups/{sign_up_id}")
async def decide(sign_up_id: str, me: PageUser, session: SessionDep, client: TemporalDep,
                 decision: str = Form(""), reason: str = Form(""), csrf: str = Form("")) -> HTMLResponse:
    if not me.csrf_ok(f"signup:{sign_up_id}", csrf):
        return forbidden_form(me)
    row, flow = await _for_approver(session, me, sign_up_id)
    if row is None:
        return page("portal_message", status=404, me=me, headline="No sign-up of yours to review here",
                    explanation="This sign-up does not exist, or you are not one of its approvers.",
                    link="/approvals", link_text="See what waits for you")
    if decision not in ("approve", "deny"):
        return _approval_page(me, row, flow, status=400, error="Choose Approve or Deny.")
    reason = reason.strip()[:1024] or None
    await session.close()
    try:
        await sign_up_client.decide(client, sign_up_id, SignUpDecision(
            decision=decision, reason=reason, actor_id=me.id,
            actor_name=me.user.display_name or me.user.mail or me.id, via="approver"))
    except Refused as error:
        row, flow = await _for_approver(session, me, sign_up_id)
        return _approval_page(me, row, flow, status=error.status, error=error.message)
    verb = "approved" if decision == "approve" else "denied"
    row, flow = await _for_approver(session, me, sign_up_id)
    return _approval_page(me, row, flow, notice=f"You {verb} this sign-up.", decided=decision)
