"""Self-service sign-up attempts under /v1.0/identity/signUps: what approvers list, read and
decide, and the callbacks of the external systems a user flow names (identity verification,
approval).

Callbacks are authenticated by `X-Foyer-Connector: <connector id>`, which must be the connector
the flow configures for that step, and `X-Foyer-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
"t.body">` keyed by that connector's derived secret (`connector_secret`). A missing, wrong or
stale (over 5 minutes) signature, an unknown sign-up and a connector that is not the step's all
answer 401 alike, so nothing can be probed. Each accepted signature is stored (CallbackReceipt):
the same signed message arriving again is a replay and gets 409 `replayedCallback`. Not 401: the
message is authentic, the sender is who it says, it just said it already; 409 tells an honest
system that retried "you were heard" without letting the copy act twice (an attacker replaying a
captured message learns nothing from either answer). A new, freshly signed message with the same
decision is accepted again (200, the recorded decision); a different one gets 409
`conflictingDecision`.
"""

import json
import re
import time

from fastapi import Query, Request
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from foyer.api import sign_ups
from foyer.workflows.client import sign_ups as sign_up_client
from foyer.api.deps import MemberCaller, OrganizationDep, SessionDep, TemporalDep
from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import GraphRouter
from foyer.api.schemas import sign_up as shapes
from foyer.errors import Refused
from foyer.names import control_character_in_text
from foyer.security import SIGNATURE_HEADER, connector_secrets, signature_valid
from foyer.models.sign_up import CallbackReceipt, SignUp, UserFlow
from foyer.workflows.messages import SignUpDecision, SignUpVerification

router = GraphRouter(prefix="/v1.0/identity/signUps", tags=["self-service sign-up"])
CONNECTOR_HEADER = "X-Foyer-Connector"
FILTER = re.compile(r"^\s*state\s+eq\s+'(\w+)'\s*$")
UNAUTHENTICATED = GraphError(401, "InvalidAuthenticationToken",
                             "the callback's connector or signature is missing, wrong or too old")


_approver_ids = sign_ups.approver_ids


@router.get("", response_model=shapes.SignUpCollection)
async def list_sign_ups(caller: MemberCaller, session: SessionDep, org: OrganizationDep,
                        raw_filter: str | None = Query(None, alias="$filter")) -> dict:
    query = select(SignUp).where(SignUp.organization_id == org.id)
    if raw_filter:
        match = FILTER.match(raw_filter)
        if not match:
            raise bad_request("only $filter=state eq '<state>' is supported")
        query = query.where(SignUp.state == match.group(1))
    if not caller.is_admin:
        mine = [f.id for f in await sign_ups.flows_approved_by(session, org.id, caller.user_id)]
        query = query.where(SignUp.user_flow_id.in_(mine))  # type: ignore[attr-defined]
    rows = (await session.exec(query.order_by(SignUp.created_date_time))).all()
    return {"value": [sign_ups.graph_shape(r) for r in rows]}


async def _visible(session, caller, org, sign_up_id: str) -> tuple[SignUp, UserFlow | None]:
    row = await session.get(SignUp, sign_up_id)
    flow = await session.get(UserFlow, row.user_flow_id) if row else None
    if row is None or row.organization_id != org.id or not (
            caller.is_admin or (caller.user_id and caller.user_id in _approver_ids(flow))):
        raise not_found("the sign-up")
    return row, flow


@router.get("/{sign_up_id}", response_model=shapes.SignUp)
async def get_sign_up(sign_up_id: str, caller: MemberCaller, session: SessionDep, org: OrganizationDep) -> dict:
    row, _ = await _visible(session, caller, org, sign_up_id)
    return sign_ups.graph_shape(row)


async def _decide_as_caller(decision: str, sign_up_id: str, request: Request, caller, session,
                            org, client) -> dict:
    row = await session.get(SignUp, sign_up_id)
    if row is None or row.organization_id != org.id:
        raise not_found("the sign-up")
    flow = await session.get(UserFlow, row.user_flow_id)
    # Deciding is refused as access packages refuse it (403 notAnApprover), whatever the state,
    # before the recorded decision of an ended sign-up could be echoed back.
    if not (caller.is_admin or (caller.user_id and caller.user_id in _approver_ids(flow))):
        raise GraphError(403, "notAnApprover", "you are not an approver of this sign-up")
    if not (flow and flow.approval):
        raise GraphError(409, "signUpNotPending", "this sign-up's flow has no approval step")
    reason = await _reason(request)
    await session.close()
    status = await sign_up_client.decide(client, sign_up_id, SignUpDecision(
        decision=decision, reason=reason, actor_id=caller.user_id or caller.token_id,
        actor_name=caller.name, via="approver", is_admin=caller.is_admin))
    return {"id": sign_up_id, "decision": status.decision, "state": status.state}


async def _reason(request: Request) -> str | None:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):  # e.g. a bare string or a list: not a decision to act on
        raise bad_request("the body must be a JSON object: {\"reason\": \"…\"}")
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 1024):
        raise bad_request("reason must be text of at most 1024 characters")
    if reason and control_character_in_text(reason):
        raise bad_request(f"reason contains the control character {control_character_in_text(reason)}")
    return reason or None


@router.post("/{sign_up_id}/approve", response_model=shapes.SignUpDecisionResult)
async def approve(sign_up_id: str, request: Request, caller: MemberCaller, session: SessionDep,
                  org: OrganizationDep, client: TemporalDep) -> dict:
    return await _decide_as_caller("approve", sign_up_id, request, caller, session, org, client)


@router.post("/{sign_up_id}/deny", response_model=shapes.SignUpDecisionResult)
async def deny(sign_up_id: str, request: Request, caller: MemberCaller, session: SessionDep,
               org: OrganizationDep, client: TemporalDep) -> dict:
    return await _decide_as_caller("deny", sign_up_id, request, caller, session, org, client)


# --- callbacks of external systems ------------------------------------------------------------

async def _authenticated(request: Request, session, sign_up_id: str, step: str) -> tuple[SignUp, bytes, str]:
    raw = await request.body()
    connector_id = request.headers.get(CONNECTOR_HEADER) or ""
    header = request.headers.get(SIGNATURE_HEADER)
    row = await session.get(SignUp, sign_up_id)
    flow = await session.get(UserFlow, row.user_flow_id) if row else None
    settings = (getattr(flow, step) if flow else None) or {}
    if row is None or not connector_id or settings.get("apiConnectorId") != connector_id \
            or not signature_valid(connector_secrets(connector_id), header, raw, time.time()):
        raise UNAUTHENTICATED
    return row, raw, dict(p.split("=", 1) for p in header.split(","))["v1"]


async def _claim(session, signature: str, connector_id: str) -> None:
    session.add(CallbackReceipt(signature=signature, connector_id=connector_id))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise GraphError(409, "replayedCallback", "this signed message was already received") from None


async def _release(session, signature: str) -> None:
    """A callback that did not get through (the workflow could not be reached) may be retried."""
    receipt = await session.get(CallbackReceipt, signature)
    if receipt is not None:
        await session.delete(receipt)
        await session.commit()


async def _acting_once(session, signature: str, connector_id: str, action):
    """Claim the signature (a replay is refused), then act; if the workflow could not be reached
    the claim is released, so the system's retry of the same message still works."""
    await _claim(session, signature, connector_id)
    try:
        return await action()
    except Refused as error:
        if error.transient:
            await _release(session, signature)
        raise


def _json(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body


@router.post("/{sign_up_id}/verification", response_model=shapes.SignUpVerificationResult)
async def verification_callback(sign_up_id: str, request: Request, session: SessionDep,
                                client: TemporalDep) -> dict:
    row, raw, signature = await _authenticated(request, session, sign_up_id, "identity_verification")
    body = _json(raw)
    outcome = body.get("outcome")
    if outcome not in ("verified", "failed"):
        raise bad_request("outcome must be verified or failed")
    result = SignUpVerification(outcome=outcome, reference=_text(body, "reference"),
                                message=_text(body, "message"))
    status = await _acting_once(session, signature, request.headers[CONNECTOR_HEADER],
                                lambda: sign_up_client.record_verification(client, sign_up_id, result))
    return {"id": sign_up_id, "verification": status.verification, "state": status.state}


@router.post("/{sign_up_id}/approval", response_model=shapes.SignUpDecisionResult)
async def approval_callback(sign_up_id: str, request: Request, session: SessionDep,
                            client: TemporalDep) -> dict:
    row, raw, signature = await _authenticated(request, session, sign_up_id, "approval")
    body = _json(raw)
    decision = body.get("decision")
    if decision not in ("approve", "deny"):
        raise bad_request("decision must be approve or deny")
    connector_id = request.headers[CONNECTOR_HEADER]
    choice = SignUpDecision(decision=decision, reason=_text(body, "reason"), actor_id=connector_id,
                            actor_name=f"API connector {connector_id}", via="connector")
    status = await _acting_once(session, signature, connector_id, lambda: sign_up_client.decide(client, sign_up_id, choice))
    return {"id": sign_up_id, "decision": status.decision, "state": status.state}


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 1024:
        raise bad_request(f"{key} must be text of at most 1024 characters")
    if control_character_in_text(value):  # it is mailed to the person and kept on the record
        raise bad_request(f"{key} contains the control character {control_character_in_text(value)}")
    return value
